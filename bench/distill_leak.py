"""Does distillation's CV gain hold on held-out rows? TF-IDF distilled from its own run (the
issue-34 experiment): a plain TF-IDF run (the teacher, ``save_models: true``) and the same
model with ``distill: {teacher: plain}``, both 5-fold cross-validated on GoEmotions' first
``--rows`` training rows and scored on the next ``--held`` rows, held out.

    .venv/bin/python bench/distill_leak.py /tmp/distill-leak
    .venv/bin/python bench/distill_leak.py /tmp/distill-leak --rows 1200 --held 1200 --model tiny

Prints each run's cross-fitted CV macro-F1 and held-out macro-F1, and the student's gain in
both. A CV gain far above the held-out gain means the student's validation fold leaked into
its training targets. ``--model tfidf`` is ``configs/tfidf.yaml``'s model, ``tiny`` word
n-grams only (seconds). Runs the kit on the ``PYTHONPATH`` it is given, in ``OUT``.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd

MODELS = {
    "tfidf": "text: {demojize: true}\nmodel: {kind: tfidf, C: 1.0, word_ngram_range: [1, 2], "
    "char_ngram_range: [1, 6], char_max_features: 56689, sublinear_tf: true}\n",
    "tiny": "model: {kind: tfidf, word_min_df: 1, char_ngram_range: [], n_jobs: 1}\n",
}


def split_goemotions(source: Path, out: Path, rows: int, held: int) -> Path:
    """``out/data/ge``: the first ``rows`` rows to train on, the next ``held`` as test + solution."""
    frame = pd.read_csv(source / "train.csv", dtype={"id": str}, keep_default_na=False)
    train, test = frame.iloc[:rows], frame.iloc[rows : rows + held]
    folder = out / "data" / "ge"
    folder.mkdir(parents=True, exist_ok=True)
    train.to_csv(folder / "train.csv", index=False)
    test[["id", "text"]].to_csv(folder / "test.csv", index=False)
    test.drop(columns="text").to_csv(folder / "solution.csv", index=False)
    sample = test.drop(columns="text").copy()
    sample.iloc[:, 1:] = 0
    sample.to_csv(folder / "sample_submission.csv", index=False)
    return folder


def write_project(out: Path, model: str, weight: float, n_splits: int) -> None:
    """The data config and the two experiments."""
    (out / "configs" / "data").mkdir(parents=True, exist_ok=True)
    (out / "configs" / "data" / "ge.yaml").write_text(
        f"name: ge\ntask: multilabel\nmetric: macro_f1\nfolds: {{n_splits: {n_splits}, seed: 42}}\n"
    )
    base = f"data: ge\nsave_models: true\n{MODELS[model]}"
    (out / "configs" / "plain.yaml").write_text(base)
    (out / "configs" / "student.yaml").write_text(base + f"distill: {{teacher: plain, weight: {weight}}}\n")


def foldwise(out: Path, *args: str) -> str:
    """Run a foldwise command in ``out``; its stdout."""
    done = subprocess.run([sys.executable, "-m", "foldwise.cli", *args], cwd=out, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"foldwise {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def scores(out: Path, name: str) -> tuple[float, float]:
    """(cross-fitted CV, held-out) macro-F1 of experiment ``name``."""
    foldwise(out, "train", f"configs/{name}.yaml")
    foldwise(out, "ensemble", name, "--name", name)
    cv = pd.read_json(out / "submissions" / f"{name}.json", typ="series")["cv_score_crossfit"]
    line = foldwise(out, "score", f"submissions/{name}.csv", "--solution", "data/ge/solution.csv")
    held = float(re.search(r": \S+ ([0-9.]+)", line).group(1))
    return float(cv), held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="an empty folder to work in")
    parser.add_argument(
        "--source",
        type=Path,
        default=Path(__file__).resolve().parents[1].parent / "shared" / "data" / "goemotions",
        help="the GoEmotions mirror (train.csv)",
    )
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--held", type=int, default=3000)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--weight", type=float, default=0.5)
    parser.add_argument("--model", choices=sorted(MODELS), default="tfidf")
    args = parser.parse_args()
    split_goemotions(args.source, args.out, args.rows, args.held)
    write_project(args.out, args.model, args.weight, args.folds)
    foldwise(args.out, "folds", "ge")
    plain, student = scores(args.out, "plain"), scores(args.out, "student")
    print(f"plain:     CV {plain[0]:.4f}  held-out {plain[1]:.4f}")
    print(f"distilled: CV {student[0]:.4f}  held-out {student[1]:.4f}")
    print(f"gain:      CV {student[0] - plain[0]:+.4f}  held-out {student[1] - plain[1]:+.4f}")


if __name__ == "__main__":
    main()
