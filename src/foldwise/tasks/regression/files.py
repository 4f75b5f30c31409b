"""Files of numbers: a run's ``oof.csv`` / ``test.csv`` and a submission's predictions
(``id`` + one column per target), and submissions in the sample's layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import FoldwiseError
from ...io import artifacts
from ...io.submission import check_layout
from ...io.tables import read_csv
from .targets import read_numbers

#: how prediction files write each number (8 significant digits)
NUMBER_FORMAT = "%.8g"


def save_numbers(path: Path, ids: np.ndarray, values: np.ndarray, names: list[str], id_column: str = "id") -> None:
    """``id`` + one column per target, as CSV, atomically."""
    frame = pd.DataFrame(np.asarray(values, dtype=np.float64), columns=names)
    frame.insert(0, id_column, ids)
    artifacts.write_with(path, lambda tmp: frame.to_csv(tmp, index=False, float_format=NUMBER_FORMAT))


def as_written(values: np.ndarray) -> np.ndarray:
    """``values`` at the digits :func:`save_numbers` keeps."""
    return np.char.mod(NUMBER_FORMAT, np.asarray(values, dtype=np.float64)).astype(np.float64)


def read_prediction_file(path: Path, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(ids, (n, K) numbers)`` of a file :func:`save_numbers` wrote for these targets; other
    columns, or a cell that is no number, are refused."""
    frame = read_csv(path)
    if list(frame.columns[1:]) != names:
        raise FoldwiseError(f"{path}: target columns {list(frame.columns[1:])[:4]} differ from the task's {names[:4]}")
    return frame.iloc[:, 0].to_numpy(dtype=str), read_numbers(frame, names, path)


def submission_frame(
    sample: pd.DataFrame, id_column: str, ids: np.ndarray, values: np.ndarray, names: list[str], levels: bool
) -> pd.DataFrame:
    """The sample's ids (in its order) and target columns filled with ``values`` (whole numbers
    written as integers where ``levels``)."""
    frame = pd.DataFrame(np.asarray(values, dtype=np.float64), columns=names)
    if levels:
        frame = frame.round().astype(np.int64)
    frame.insert(0, id_column, ids)
    order = pd.Index(frame[id_column]).get_indexer(sample[id_column])
    return frame.iloc[order].reset_index(drop=True)[list(sample.columns)]


def check_submission(
    path: Path, frame: pd.DataFrame, sample: pd.DataFrame, id_column: str, names: list[str], levels: bool
) -> np.ndarray:
    """Refuse, naming the row and column, a submission not in the sample's layout, or a cell
    that is no number (``levels``: no whole number); its (n, K) values otherwise."""
    check_layout(path, frame, sample, id_column)
    values = read_numbers(frame, names, path)
    if levels:
        bad = values != np.round(values)
        if bad.any():
            row, col = (int(v[0]) for v in np.nonzero(bad))
            raise FoldwiseError(f"{path}: row {row + 2}: column '{names[col]}' has {values[row, col]:g}, not a level")
    return values


def write_submission(
    path: Path, frame: pd.DataFrame, sample: pd.DataFrame, id_column: str, names: list[str], levels: bool
) -> str:
    """Write ``frame`` only if it validates; the SHA-256 of the bytes written."""
    check_submission(path, frame, sample, id_column, names, levels)
    return artifacts.write_hashed(path, lambda tmp: frame.to_csv(tmp, index=False, float_format=NUMBER_FORMAT))


def check_sample_cells(sample: pd.DataFrame, names: list[str], path: Path) -> None:
    """Refuse a sample submission whose target cells are labels, not numbers (empty cells pass:
    a sample may leave them blank)."""
    for name in names:
        cells = sample[name].dropna()
        cells = cells[cells.astype(str).str.strip() != ""]
        numbers = pd.to_numeric(cells, errors="coerce")
        if numbers.isna().any():
            row = int(np.flatnonzero(numbers.isna().to_numpy())[0])
            raise FoldwiseError(
                f"{path}: row {cells.index[row] + 2}: column '{name}' has {cells.iloc[row]!r}, not a number: the "
                "sample submits labels, but the task predicts numbers (set data.task to a classification task)"
            )
