"""Exact per-class threshold search vs a 100-point ``f1_score`` grid, on real OOF scores.

    .venv/bin/python bench/thresholds.py [--run runs/tfidf] [--data goemotions]

Reads the OOF probabilities of a finished run (``make train`` writes runs/tfidf/) and
prints macro-F1 and wall time of both searches and the speed ratio, measured in this run.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

from foldwise.tasks.classification.decisions import make_decider
from foldwise.tasks.metrics import get_metric


def grid_search(scores: np.ndarray, y: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """The common notebook loop: for each label, try every grid cut with f1_score."""
    cuts = np.empty(scores.shape[1])
    for j in range(scores.shape[1]):
        f1s = [f1_score(y[:, j], scores[:, j] >= t, zero_division=0) for t in grid]
        cuts[j] = grid[int(np.argmax(f1s))]
    return cuts


def timed(fn, repeat: int = 1):
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return out, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default="runs/tfidf", help="finished run folder with oof.csv")
    parser.add_argument("--data", default="data/goemotions", help="folder with train.csv")
    args = parser.parse_args()
    oof_path = Path(args.run) / "oof.csv"
    if not oof_path.exists():
        raise SystemExit(f"error: {oof_path} not found; run `make folds train` first")
    oof = pd.read_csv(oof_path, dtype={"id": str})
    labels = list(oof.columns[1:])
    train = pd.read_csv(Path(args.data) / "train.csv", dtype={"id": str}).set_index("id").loc[oof["id"]]
    scores, y = oof[labels].to_numpy(np.float64), train[labels].to_numpy(np.int64)
    print(f"{oof_path}: {scores.shape[0]} rows x {scores.shape[1]} labels")

    grid = np.linspace(0.0, 1.0, 100)
    macro_f1 = get_metric("macro_f1", "multilabel")
    exact, exact_s = timed(lambda: make_decider(macro_f1, "multilabel").fit(scores, y), repeat=3)
    grid_cuts, grid_s = timed(lambda: grid_search(scores, y, grid))
    exact_f1 = f1_score(y, exact.predict(scores), average="macro", zero_division=0)
    grid_f1 = f1_score(y, scores >= grid_cuts, average="macro", zero_division=0)
    print(f"{'method':<34} {'macro-F1':>9} {'seconds':>9}")
    print(f"{'exact sorted search (foldwise)':<34} {exact_f1:>9.4f} {exact_s:>9.3f}")
    print(f"{'100-point f1_score grid':<34} {grid_f1:>9.4f} {grid_s:>9.3f}")
    print(f"speed-up: {grid_s / exact_s:.0f}x, macro-F1 difference: {exact_f1 - grid_f1:+.4f}")


if __name__ == "__main__":
    main()
