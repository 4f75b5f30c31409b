"""The kit's TF-IDF against a plain scikit-learn TF-IDF + logistic regression: wall time and score, same folds.

    .venv/bin/python bench/tfidf_cost.py                                  # every dataset, every fold
    .venv/bin/python bench/tfidf_cost.py --datasets ag_news,semeval_ec --max-rows 3000 --folds 2
    .venv/bin/python bench/tfidf_cost.py --kit-config configs/tfidf.yaml  # the default job's model and text keys
    .venv/bin/python bench/tfidf_cost.py --set model.char_ngram_range=[2,4]   # a variant of the kit's side
    .venv/bin/python bench/tfidf_cost.py --base main                      # and the kit of commit main beside it

For each classification benchmark dataset (``data/<name>/`` and ``folds/<name>.csv``, built
here as `foldwise data` and `foldwise folds` build them when missing) both sides train on
the same folds and texts:

- plain: ``TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)`` (scikit-learn's other
  defaults) and ``LogisticRegression(max_iter=1000)`` (C 1, lbfgs): one multinomial model for
  one label per row, ``OneVsRestClassifier`` of it for several; a sentence pair is its two
  sides joined by a space.
- kit: ``TfidfModel`` with ``model: {kind: tfidf}``'s defaults (or the ``model:`` and
  ``text:`` sections of ``--kit-config``, then ``--set``), as a fold of ``foldwise train``
  fits and predicts it.
- base (``--base COMMIT``): the same kit side with that commit's ``src/`` (this script in a
  process of its own per fold, ``--kit-config`` but not ``--set``): before and after a change
  in one run.

The sides take turns fold by fold, so that other work on the machine falls on all of them.
Each fold's model is fit on the other folds' rows and predicts its own; the seconds are
fit + predict of the validation rows, summed over the chosen folds (no test rows; data
loading and the scoring outside). Both sides' out-of-fold probabilities are scored by the
kit's own evaluation (``Task.evaluate`` with the default decisions): the data config's
metric with decisions fit on OOF, cross-fitted over the chosen folds (the honest
estimate; 'untuned' beside it: 0.5 cuts, argmax). ``--repeat R`` times each fold R times
and keeps the fastest. ``--folds K`` trains folds 0..K-1 only
and scores their rows; ``--max-rows N`` keeps a seeded N of the training rows (their folds
unchanged). Both sides run with ``--blas-threads`` BLAS threads (default 1): on a machine
shared with other work, OpenBLAS's threads made one lbfgs fit up to 16x slower, which would
time the contention, not the models (the kit's workers get one thread each either way).

``xsum_tags`` is the long-text dataset (2,193 characters per text on average): the 1,979
XSum articles of the mirror (validation + test subsets), multi-label, each tagged by the
words of its reference summary (:data:`XSUM_TAGS`: sport, crime, politics, ...) and
classified from the article alone; scored by mean column-wise ROC AUC, as Kaggle's toxic
comment competition was (macro-F1 of its rarest tags over 1,979 rows moved by 0.02 between
fold counts and settings alike). It is written to ``data/xsum_tags/`` with its
folds in ``folds/xsum_tags.csv`` (5 folds, seed 42, iterative stratification), not a
benchmark of the kit.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

DATASETS = ("goemotions", "ag_news", "mnli", "movie_genres", "semeval_ec", "xsum_tags")

#: xsum_tags: a tag is set when the article's reference summary holds one of its words
XSUM_TAGS = {
    "sport": "league cup club football championship season match striker coach manager rugby cricket olympic "
    "tennis golf squad goal scored win won victory defeat final player players team race",
    "crime": "police court jailed charged murder arrested guilty sentenced prison trial killed death died dead "
    "officers",
    "politics": "government minister ministers election party mp mps council labour conservative president vote "
    "parliament snp eu brexit",
    "business": "company firm bank market shares jobs sales profits prices pay deal business customers economy",
    "health": "hospital health nhs patients doctors cancer care medical",
    "wales": "wales welsh cardiff swansea",
    "scotland": "scotland scottish glasgow edinburgh",
    "ireland": "ireland irish belfast",
    "us": "us president trump obama america american",
}
XSUM_FILES = ("validation_subset_979.jsonl", "test_subset_1000.jsonl")


def xsum_tags_config(mirror: Path) -> Any:
    """The xsum_tags data config; its files in ``data/xsum_tags/`` are written from the mirror when missing."""
    import pandas as pd

    from foldwise.config import ConfigSource, DataConfig, build

    cfg = build(
        DataConfig,
        {"name": "xsum_tags", "task": "multilabel", "metric": "roc_auc", "text_columns": ["document"]},
        ConfigSource("bench/tfidf_cost.py", []),
    )
    folder = cfg.path
    if (folder / "train.csv").is_file():
        return cfg
    rows = [json.loads(line) for name in XSUM_FILES for line in (mirror / name).read_text().splitlines() if line]
    train = pd.DataFrame({"id": [r["id"] for r in rows], "document": [r["document"] for r in rows]})
    for tag, words in XSUM_TAGS.items():
        wanted = set(words.split())
        train[tag] = [int(bool(wanted & set(re.findall(r"[a-z]+", r["summary"].lower())))) for r in rows]
    folder.mkdir(parents=True, exist_ok=True)
    train.to_csv(folder / "train.csv", index=False)
    pd.DataFrame(columns=["id", "document"]).to_csv(folder / "test.csv", index=False)
    pd.DataFrame(columns=["id", *XSUM_TAGS]).to_csv(folder / "sample_submission.csv", index=False)
    return cfg


def dataset(name: str, mirror: Path) -> tuple[Any, Any, Any, np.ndarray]:
    """(data config, competition data, task, fold of each training row) of a benchmark dataset,
    its files and folds made first where missing (as `foldwise data` and `foldwise folds` do)."""
    from foldwise.data.competition import load_competition
    from foldwise.data.fetch import fetch
    from foldwise.data.folds import read_folds, write_folds
    from foldwise.experiment import load_dataset_config
    from foldwise.tasks import competition_task

    if name == "xsum_tags":
        cfg = xsum_tags_config(mirror / "xsum")
    else:
        cfg = load_dataset_config(name)
        if not (cfg.path / cfg.train_file).is_file():
            fetch(cfg)
    data = load_competition(cfg)
    task = competition_task(cfg, data)
    strata = task.stratify_on(data)
    write_folds(cfg, data.train_ids, strata.key, strata.names, task=data.task, method=strata.method)
    return cfg, data, task, read_folds(cfg, data.train_ids)


def plain_fold(texts: np.ndarray, truth: np.ndarray, train: np.ndarray, valid: np.ndarray, single_label: bool) -> Any:
    """The plain TF-IDF + logistic regression fit on ``train`` rows: the ``valid`` rows' probabilities."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    if texts.ndim == 2:  # a sentence pair: its two sides joined
        texts = np.asarray([f"{a} {b}" for a, b in texts], dtype=object)
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    features = vectorizer.fit_transform(texts[train])
    if not single_label:
        model = OneVsRestClassifier(LogisticRegression(max_iter=1000)).fit(features, truth[train])
        return model.predict_proba(vectorizer.transform(texts[valid])).reshape(int(valid.sum()), -1)
    model = LogisticRegression(max_iter=1000).fit(features, truth[train].argmax(axis=1))
    probs = np.zeros((int(valid.sum()), truth.shape[1]))
    probs[:, model.classes_] = model.predict_proba(vectorizer.transform(texts[valid]))
    return probs


def kit_fold(
    model_cfg: Any, data: Any, task: Any, texts: np.ndarray, truth: np.ndarray, k: int, fold: np.ndarray
) -> Any:
    """The kit's TF-IDF fit on the rows outside fold ``k``, built and seeded as `foldwise train`
    builds that fold's model: fold ``k``'s probabilities."""
    from foldwise.models import build_model

    with tempfile.TemporaryDirectory() as workdir:
        model = build_model(
            model_cfg,
            task=data.task,
            n_labels=data.n_labels,
            seed=42 + k,
            workdir=Path(workdir),
            single_label=task.single_label,
            numeric=task.numeric,
        )
        model.fit(texts[fold != k], truth[fold != k])
        return model.predict(texts[fold == k])


def timed(fit_predict: Any, repeat: int) -> tuple[np.ndarray, float]:
    """``fit_predict()``'s probabilities and its fastest wall seconds of ``repeat`` runs."""
    best, probs = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        probs = fit_predict()
        best = min(best, time.perf_counter() - start)
    return np.asarray(probs, dtype=np.float32), best


def base_fold(args: argparse.Namespace, name: str, k: int, code: Path) -> tuple[np.ndarray, float]:
    """Fold ``k`` of the kit as commit ``--base`` has it: this script in a process of its own
    with the commit's sources first on the path (only ``--kit-config`` applies, not ``--set``)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "fold.npz"
        command = [sys.executable, __file__, "--datasets", name, "--worker-fold", str(k), "--worker-out", str(out)]
        command += ["--seed", str(args.seed), "--repeat", str(args.repeat), "--mirror", str(args.mirror)]
        command += ["--blas-threads", str(args.blas_threads)]
        command += ["--max-rows", str(args.max_rows)] if args.max_rows else []
        command += ["--kit-config", str(args.kit_config)] if args.kit_config else []
        subprocess.run(command, check=True, env={**os.environ, "PYTHONPATH": str(code / "src")})
        with np.load(out) as saved:
            return saved["probs"], float(saved["seconds"])


def export_base(commit: str, dest: Path) -> Path:
    """``src/`` of ``commit`` (this repository's) under ``dest``."""
    repo = Path(__file__).resolve().parents[1]
    archive = subprocess.run(["git", "-C", str(repo), "archive", commit, "src"], capture_output=True)
    if archive.returncode != 0:
        raise SystemExit(f"error: --base {commit}: not a commit of {repo}")
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest


def kit_settings(config: Path | None, overrides: list[str]) -> tuple[Any, Any]:
    """The kit side's (model config, text config): ``model: {kind: tfidf}`` and no text cleaning,
    or the ``model:`` and ``text:`` sections of ``config``; then ``--set`` items on top."""
    from foldwise.config import ConfigSource, TextConfig, apply_overrides, build, read_yaml
    from foldwise.models import model_config_class

    raw = read_yaml(config) if config else {"model": {"kind": "tfidf"}}
    raw = apply_overrides({"model": dict(raw.get("model") or {}), "text": dict(raw.get("text") or {})}, overrides)
    source = ConfigSource(config or "bench/tfidf_cost.py", overrides)
    model_raw = dict(raw["model"])
    kind = model_raw.pop("kind", "tfidf")
    if kind != "tfidf":
        raise SystemExit(f"error: {source}: model.kind is {kind}, this bench measures tfidf")
    return build(model_config_class(kind), model_raw, source, prefix="model."), build(
        TextConfig, raw["text"], source, prefix="text."
    )


def score(task: Any, oof: np.ndarray, truth: np.ndarray, fold: np.ndarray) -> tuple[float, float]:
    """The metric with the kit's decisions fit on OOF (cross-fitted where they learn), and untuned."""
    from foldwise.config import ThresholdConfig

    evaluation = task.evaluate(oof, truth, fold, ThresholdConfig())
    tuned = evaluation.score_crossfit if evaluation.score_crossfit is not None else evaluation.score
    return float(tuned), float(evaluation.score_untuned)


def chosen_rows(n_rows: int, max_rows: int | None, seed: int) -> np.ndarray:
    """The training rows kept: a seeded ``max_rows`` of them, in order (all: None)."""
    rows = np.arange(n_rows)
    if max_rows is not None and max_rows < n_rows:
        rows = np.sort(np.random.default_rng(seed).choice(rows, size=max_rows, replace=False))
    return rows


@dataclass
class Prepared:
    """A dataset as both sides see it: the chosen rows' texts, truth and folds."""

    name: str
    data: Any
    task: Any
    raw: np.ndarray  # the texts as the files hold them (pairs: (n, 2)); the plain side reads these
    texts: np.ndarray  # after the kit's text cleaning
    truth: np.ndarray
    fold: np.ndarray
    folds: list[int]


def prepare(name: str, args: argparse.Namespace, text_cfg: Any) -> Prepared:
    """The dataset's chosen rows (``--max-rows``) and folds (``--folds``)."""
    from foldwise.data.text import clean_texts

    _, data, task, fold = dataset(name, args.mirror)
    n_splits = int(fold.max()) + 1
    if args.folds is not None and not 2 <= args.folds <= n_splits:
        raise SystemExit(f"error: --folds {args.folds}: 2 to {n_splits} ({name} has {n_splits} folds; cuts cross-fit)")
    rows = chosen_rows(len(fold), args.max_rows, args.seed)
    raw = np.asarray(data.train_texts, dtype=object)[rows]
    folds = list(range(args.folds or n_splits))
    truth = np.asarray(task.truth(data))[rows]
    return Prepared(name, data, task, raw, clean_texts(raw, text_cfg), truth, fold[rows], folds)


def run_dataset(name: str, args: argparse.Namespace, model_cfg: Any, text_cfg: Any, base: Path | None) -> dict:
    """One dataset's row of the table: each side's seconds and scores, the sides taking turns fold by fold."""
    p = prepare(name, args, text_cfg)
    sides = ["plain", *(["base"] if base else []), "kit"]
    oof = {side: np.zeros(p.truth.shape, dtype=np.float32) for side in sides}
    seconds = dict.fromkeys(sides, 0.0)
    for k in p.folds:
        for side in sides:
            oof[side][p.fold == k], spent = run_fold(side, p, k, args, model_cfg, base)
            seconds[side] += spent
    scored = np.isin(p.fold, p.folds)
    record: dict[str, Any] = {
        "dataset": name,
        "metric": p.task.metric.name,
        "rows": int(len(p.fold)),
        "folds": len(p.folds),
        "chars": float(np.mean([sum(len(str(t)) for t in np.atleast_1d(row)) for row in p.raw])),
    }
    for side in sides:
        tuned, untuned = score(p.task, oof[side][scored], p.truth[scored], p.fold[scored])
        record.update({f"{side}_s": seconds[side], f"{side}_score": tuned, f"{side}_untuned": untuned})
        record[f"{side}_ratio"] = seconds[side] / max(seconds["plain"], 1e-9)
    return record


def run_fold(
    side: str, p: Prepared, k: int, args: argparse.Namespace, model_cfg: Any, base: Path | None
) -> tuple[np.ndarray, float]:
    """Fold ``k`` of one side: its validation probabilities and its (fastest) seconds."""
    if side == "base" and base is not None:
        return base_fold(args, p.name, k, base)
    if side == "plain":
        valid = p.fold == k
        return timed(partial(plain_fold, p.raw, p.truth, ~valid, valid, p.task.single_label), args.repeat)
    return timed(partial(kit_fold, model_cfg, p.data, p.task, p.texts, p.truth, k, p.fold), args.repeat)


def worker(args: argparse.Namespace, model_cfg: Any, text_cfg: Any) -> None:
    """``--worker-fold``: one fold of the kit side, its probabilities and seconds to ``--worker-out``."""
    p = prepare(args.datasets, args, text_cfg)
    k = args.worker_fold
    probs, seconds = timed(partial(kit_fold, model_cfg, p.data, p.task, p.texts, p.truth, k, p.fold), args.repeat)
    np.savez(args.worker_out, probs=probs, seconds=seconds)


def load_libraries() -> None:
    """Import what the sides run: ``threadpool_limits`` limits only the libraries loaded when it starts."""
    import sklearn.linear_model  # noqa: F401
    import sklearn.multiclass  # noqa: F401

    import foldwise.models.tfidf  # noqa: F401


def table(records: list[dict[str, Any]]) -> str:
    """The side-by-side table as Markdown: each side's seconds and score (untuned in brackets),
    its time over the plain side's, and the kit's score minus the plain side's."""
    sides = [side for side in ("plain", "base", "kit") if f"{side}_s" in records[0]]
    head = ["dataset", "rows x folds", "chars/row", "metric"]
    head += [f"{side} {what}" for side in sides for what in ("s", "score (untuned)", "time / plain")]
    lines = ["| " + " | ".join([*head, "kit - plain score"]) + " |", "|" + " --- |" * (len(head) + 1)]
    for r in records:
        cells = [r["dataset"], f"{r['rows']} x {r['folds']}", f"{r['chars']:.0f}", r["metric"]]
        for side in sides:
            cells += [f"{r[side + '_s']:.1f}", f"{r[side + '_score']:.4f} ({r[side + '_untuned']:.4f})"]
            cells.append(f"{r[side + '_ratio']:.2f}x")
        cells.append(f"{r['kit_score'] - r['plain_score']:+.4f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated (default: all)")
    parser.add_argument(
        "--folds", type=int, default=None, help="train and score folds 0..K-1 only, K >= 2 (default: all)"
    )
    parser.add_argument("--max-rows", type=int, default=None, help="a seeded subset of each dataset's training rows")
    parser.add_argument("--seed", type=int, default=0, help="seed of the --max-rows subset")
    parser.add_argument("--repeat", type=int, default=1, help="time each fold this many times, keep the fastest")
    parser.add_argument("--kit-config", type=Path, default=None, help="an experiment YAML: its model and text keys")
    parser.add_argument("--set", action="append", default=[], help="KEY=VALUE on the kit's side (model.C=2)")
    parser.add_argument("--base", default=None, help="also the kit of this commit (e.g. main), fold by fold")
    parser.add_argument("--mirror", type=Path, default=Path("../shared/data"), help="the offline data mirror")
    parser.add_argument("--blas-threads", type=int, default=1, help="BLAS threads of every side (default 1)")
    parser.add_argument("--json", type=Path, default=None, help="also write the records here")
    parser.add_argument("--worker-fold", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    load_libraries()

    model_cfg, text_cfg = kit_settings(args.kit_config, args.set)
    if args.worker_fold is not None:
        with threadpool_limits(args.blas_threads, user_api="blas"):
            worker(args, model_cfg, text_cfg)
        return
    from foldwise.train.precision import capability_line

    print(f"kit: {model_cfg}; text: {text_cfg}", flush=True)
    records = []
    with tempfile.TemporaryDirectory() as tmp:
        base = export_base(args.base, Path(tmp)) if args.base else None
        for name in [n.strip() for n in args.datasets.split(",") if n.strip()]:
            with threadpool_limits(args.blas_threads, user_api="blas"):
                records.append(run_dataset(name, args, model_cfg, text_cfg, base))
            r = records[-1]
            sides = [side for side in ("plain", "base", "kit") if f"{side}_s" in r]
            print(f"{name}: " + ", ".join(f"{s} {r[s + '_s']:.1f} s {r[s + '_score']:.4f}" for s in sides), flush=True)
    print(table(records))
    print(f"{capability_line()}; BLAS threads {args.blas_threads}; load average {os.getloadavg()[0]:.1f} at the end")
    print(f"command: {shlex.join([Path(sys.executable).name, *sys.argv])}")
    if args.json:
        args.json.write_text(json.dumps(records, indent=1))


if __name__ == "__main__":
    main()
