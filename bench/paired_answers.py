"""Two answer submissions on the same questions: is one better, or is the gap noise?

    .venv/bin/python bench/paired_answers.py submissions/squad_small-minilm.csv \
        submissions/squad_small-smollm2-lora.csv --solution data/squad_small/solution.csv

Scores each question with the official SQuAD token F1 and exact match (max over its gold
answers, the kit's ``text_metrics``), then resamples the questions with replacement
(a paired bootstrap: both submissions keep the same resampled questions) and prints the
F1 difference A - B with its 95% interval, how many questions only one of them answers
(F1 > 0.5), and the oracle F1 of taking the better answer per question, the ceiling of
any ensemble of the two. Both files are ``id,<answer>`` CSVs with the solution's ids.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from foldwise.errors import FoldwiseError  # noqa: E402
from foldwise.io.tables import read_csv  # noqa: E402
from foldwise.tasks.text_answers import gold_list  # noqa: E402
from foldwise.tasks.text_metrics import exact_match, token_f1  # noqa: E402


def read_answers(path: Path) -> dict[str, str]:
    """id -> answer cell of a two-column ``id,<answer>`` CSV (a submission or the solution)."""
    frame = read_csv(path).fillna("")
    if frame.shape[1] != 2:
        raise FoldwiseError(f"{path}: columns: {frame.shape[1]}, an answer file has 2 (id, answer)")
    return dict(zip(frame.iloc[:, 0], frame.iloc[:, 1]))


def per_question(path: Path, golds: dict[str, list[str]]) -> tuple[np.ndarray, np.ndarray]:
    """Token F1 (0..1) and exact match of each solution question, in the solution's order."""
    answers = read_answers(path)
    missing = [i for i in golds if i not in answers]
    if missing:
        raise FoldwiseError(f"{path}: id '{missing[0]}' of the solution is missing ({len(missing)} in all)")
    f1 = np.array([token_f1(answers[i], g) for i, g in golds.items()])
    em = np.array([exact_match(answers[i], g) for i, g in golds.items()])
    return f1, em


def main() -> None:
    """Print both submissions' scores and the paired bootstrap of their F1 difference."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("--solution", type=Path, required=True)
    parser.add_argument("--resamples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    golds = {i: gold_list(cell) for i, cell in read_answers(args.solution).items()}
    (f1_a, em_a), (f1_b, em_b) = per_question(args.a, golds), per_question(args.b, golds)
    for path, f1, em in ((args.a, f1_a, em_a), (args.b, f1_b, em_b)):
        print(f"{path.name}: F1 {100 * f1.mean():.2f}, exact match {100 * em.mean():.2f} ({len(f1)} questions)")
    gap = f1_a - f1_b
    rng = np.random.default_rng(args.seed)
    means = np.array([gap[rng.integers(0, len(gap), len(gap))].mean() for _ in range(args.resamples)])
    low, high = 100 * np.percentile(means, [2.5, 97.5])
    print(
        f"F1 A - B: {100 * gap.mean():+.2f}, 95% interval {low:+.2f} .. {high:+.2f} "
        f"(paired bootstrap, {args.resamples} resamples, seed {args.seed}); A below or level in "
        f"{(means <= 0).mean():.1%} of resamples"
    )
    right_a, right_b = f1_a > 0.5, f1_b > 0.5
    print(
        f"answered (F1 > 0.5): both {(right_a & right_b).mean():.1%}, "
        f"only A {(right_a & ~right_b).mean():.1%}, only B {(right_b & ~right_a).mean():.1%}"
    )
    print(f"oracle F1, the better answer per question: {100 * np.maximum(f1_a, f1_b).mean():.2f}")


if __name__ == "__main__":
    try:
        main()
    except FoldwiseError as error:
        sys.exit(f"error: {error}")
