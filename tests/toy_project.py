"""A tiny project (toy competition, its data config and one TF-IDF experiment) to run the
real command line on in a few seconds."""

from __future__ import annotations

from pathlib import Path

from conftest import toy_frames, write_competition

EXPERIMENT = "data: toy\nmodel: {kind: tfidf, word_min_df: 1, char_ngram_range: [], n_jobs: 1}\n"


def make_toy_project(root: Path) -> Path:
    """``root`` with data/toy/, configs/data/toy.yaml (3 folds) and configs/t.yaml."""
    train, test = toy_frames()
    write_competition(root / "data" / "toy", train, test)
    (root / "configs" / "data").mkdir(parents=True)
    (root / "configs" / "data" / "toy.yaml").write_text(
        "name: toy\ntask: multilabel\nfolds: {n_splits: 3, seed: 0}\nkaggle_competition: toy-comp\n"
    )
    (root / "configs" / "t.yaml").write_text(EXPERIMENT)
    return root


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``root`` with its size and modification time (to see what changed)."""
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}
