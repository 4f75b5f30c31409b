"""Read a finished training run back from ``runs/<exp>/``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import artifacts, paths
from .config import DataConfig, build, read_yaml
from .data import read_csv
from .errors import FoldwiseError


@dataclass
class Run:
    """A finished experiment's OOF and test probabilities and its records."""

    name: str
    dir: Path
    data_config: DataConfig
    info: dict
    metrics: dict
    oof_ids: np.ndarray
    oof: np.ndarray  # (n_train, n_labels)
    test_ids: np.ndarray
    test: np.ndarray  # (n_test, n_labels)
    label_names: list[str]


def _read_probabilities(path: Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``id`` + probability columns; a missing, empty, non-numeric or NaN cell, or a number
    outside [0, 1], is refused (it would otherwise flow silently into blending and thresholds)."""
    frame = read_csv(path)
    values = frame.iloc[:, 1:].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
    with np.errstate(invalid="ignore"):
        bad = ~((values >= 0) & (values <= 1))  # NaN fails both
    if bad.any():
        row, col = (int(v[0]) for v in np.nonzero(bad))
        cell = frame.iloc[row, col + 1]
        shown = "an empty cell" if pd.isna(cell) else repr(cell)
        raise FoldwiseError(f"{path}: row {row + 2}: column '{frame.columns[col + 1]}' has {shown}, "
                            "not a probability; retrain the run")
    return frame.iloc[:, 0].to_numpy(dtype=str), values, list(frame.columns[1:])


def load_run(name_or_dir: str | Path) -> Run:
    """Load ``runs/<name>/`` (or a run folder path); the run must have every fold done."""
    folder = Path(name_or_dir)
    if not (folder / "run.json").exists() and paths.is_name(str(name_or_dir)):
        folder = paths.run_dir(str(name_or_dir))
    info_path = folder / "run.json"
    if not info_path.exists():
        raise FoldwiseError(f"{folder}: no finished run here (run.json missing); train it with "
                            f"`foldwise train configs/{Path(str(name_or_dir)).name}.yaml`")
    info = artifacts.read_json(info_path)
    config = read_yaml(folder / "config.yaml")
    oof_ids, oof, names = _read_probabilities(folder / "oof.csv")
    test_ids, test, test_names = _read_probabilities(folder / "test.csv")
    if names != test_names or names != info["label_names"]:
        raise FoldwiseError(f"{folder}: oof.csv, test.csv and run.json disagree on the label columns")
    return Run(name=info["experiment"], dir=folder, data_config=build(DataConfig, config["data"], str(folder)),
               info=info, metrics=artifacts.read_json(folder / "metrics.json"),
               oof_ids=oof_ids, oof=oof, test_ids=test_ids, test=test, label_names=names)


def check_compatible(runs: list[Run]) -> None:
    """Refuse to blend runs that do not line up row for row (dataset, folds, ids, labels)."""
    first = runs[0]
    for run in runs[1:]:
        for what, a, b in (
            ("dataset", first.info["dataset"], run.info["dataset"]),
            ("fold file", first.info["folds_sha256"], run.info["folds_sha256"]),
            ("labels", first.label_names, run.label_names),
        ):
            if a != b:
                raise FoldwiseError(f"runs '{first.name}' and '{run.name}' used different {what}s; "
                                    "retrain one of them on the current folds")
        if not (np.array_equal(first.oof_ids, run.oof_ids) and np.array_equal(first.test_ids, run.test_ids)):
            raise FoldwiseError(f"runs '{first.name}' and '{run.name}' cover different rows "
                                "(was one trained with data.max_train_rows?)")
