"""The numbers a regression or ordinal competition predicts: which train columns hold them, read
and checked cell by cell."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ...config import DataConfig
from ...errors import FoldwiseError


def target_columns(cfg: DataConfig, label_names: list[str]) -> list[str]:
    """The train columns of the targets: ``label_columns``, else ``target_column``, else the
    sample submission's columns (``label_names``), in submission order."""
    if cfg.label_columns:
        return list(cfg.label_columns)
    if cfg.target_column:
        return [cfg.target_column]
    return list(label_names)


def read_numbers(frame: pd.DataFrame, columns: list[str], path: Path, what: str = "column") -> np.ndarray:
    """(n, K) float64 of ``columns``; a missing column, or an empty or non-numeric cell, is one
    line naming the file, row and column."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise FoldwiseError(f"{path}: missing {what} '{missing[0]}' (columns: {', '.join(frame.columns)})")
    block = frame[columns]
    values = block.apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = (int(v[0]) for v in np.nonzero(bad))
        cell = block.iloc[row, col]
        shown = "an empty cell" if pd.isna(cell) or not str(cell).strip() else repr(cell)
        raise FoldwiseError(f"{path}: row {row + 2}: {what} '{columns[col]}' has {shown}, not a number")
    return values


def check_levels(values: np.ndarray, columns: list[str], path: Path, why: str) -> None:
    """Refuse, naming the row, a target that is not a whole number where ``why`` needs integer levels."""
    bad = values != np.round(values)
    if bad.any():
        row, col = (int(v[0]) for v in np.nonzero(bad))
        raise FoldwiseError(
            f"{path}: row {row + 2}: column '{columns[col]}' has {values[row, col]:g}, not a whole number: {why} "
            "scores integer levels; for real-valued targets use task regression with rmse, mae, pearson or spearman"
        )


def check_varies(values: np.ndarray, columns: list[str], path: Path, metric: str) -> None:
    """Refuse a target column that holds one value only: no model learns it (and a correlation
    metric is undefined on it)."""
    if not len(values):
        return
    constant = np.flatnonzero(values.min(axis=0) == values.max(axis=0))
    if constant.size:
        j = int(constant[0])
        undefined = f"; metric {metric} is undefined on it" if metric in ("pearson", "spearman", "qwk") else ""
        raise FoldwiseError(
            f"{path}: column '{columns[j]}' holds one value ({values[0, j]:g}) in every row: nothing to learn"
            + undefined
        )
