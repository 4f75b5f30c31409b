"""Probability files: ``id`` + one probability column per label (a run's ``oof.csv`` and
``test.csv``, a submission's ``<name>.probs.csv``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import FoldwiseError
from ...io import artifacts
from ...io.tables import read_csv

#: how probability files write each number (6 significant digits)
PROBABILITY_FORMAT = "%.6g"


def save_probabilities(path: Path, ids: np.ndarray, probs: np.ndarray, label_names: list[str]) -> None:
    """``id`` + one probability column per label, as CSV, atomically."""
    frame = pd.DataFrame(probs, columns=label_names)
    frame.insert(0, "id", ids)
    artifacts.write_with(path, lambda tmp: frame.to_csv(tmp, index=False, float_format=PROBABILITY_FORMAT))


def read_probabilities(path: Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
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
        raise FoldwiseError(
            f"{path}: row {row + 2}: column '{frame.columns[col + 1]}' has {shown}, not a probability; retrain the run"
        )
    return frame.iloc[:, 0].to_numpy(dtype=str), values, list(frame.columns[1:])
