"""Every path the kit writes, in one place (all relative to the working directory)."""

from __future__ import annotations

from pathlib import Path

RUNS = Path("runs")
SUBMISSIONS = Path("submissions")
FOLDS = Path("folds")


def run_dir(experiment: str) -> Path:
    """``runs/<experiment>/``: config, per-fold files, OOF and test probabilities, metrics."""
    return RUNS / experiment


def fold_file(experiment: str, fold: int) -> Path:
    """One fold's validation and test probabilities (``.npz``) beside its JSON record."""
    return run_dir(experiment) / f"fold_{fold}.npz"


def fold_dir(experiment: str, fold: int) -> Path:
    """A fold's working folder: epoch checkpoint while training, saved model after."""
    return run_dir(experiment) / f"fold_{fold}"


def submission_csv(name: str) -> Path:
    """``submissions/<name>.csv``, the file to upload."""
    return SUBMISSIONS / f"{name}.csv"


def folds_csv(dataset: str) -> Path:
    """``folds/<dataset>.csv`` (``id,fold``), written once per dataset."""
    return FOLDS / f"{dataset}.csv"
