"""Classification submissions: build, validate and write the cells in the sample's layout
(0/1 columns, probability columns, one class column or a label list per row), and read
them back for scoring."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import FoldwiseError
from ...io import artifacts
from ...io.submission import check_layout, target_columns
from ...io.tables import read_csv
from ..metrics import METRICS, Metric

#: what a submission's cells hold (``data.submission_format``; "auto" infers one of these)
FORMATS = ("binary", "probabilities", "label", "label_list")

#: each format in words, for what is printed and recorded
FORMAT_WORDS = {
    "binary": "one 0/1 column per label",
    "probabilities": "one probability column per label",
    "label": "one column holding each row's class",
    "label_list": "one column holding each row's labels, space-separated",
}


def has_fractions(block: pd.DataFrame) -> bool:
    """Whether some cell holds a number strictly between 0 and 1 (0.5, 0.25, ...)."""
    values = block.apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
    return bool(((values > 0) & (values < 1)).any())


def infer_format(
    sample: pd.DataFrame, id_column: str, label_names: list[str], task: str, metric: Metric
) -> tuple[str, str]:
    """The submission format the sample asks for, and why (for the printed line and the record).

    One column per label holds probabilities when the metric is scored on probabilities
    or the sample's cells hold fractions, else 0/1; one other column holds a class
    (single-label) or a space-separated list of labels (multi-label).
    """
    targets = target_columns(sample, id_column)
    if sorted(targets) == sorted(label_names) and (len(targets) > 1 or targets == label_names):
        if not metric.needs_decision:
            return "probabilities", f"metric {metric.name} is scored on probabilities"
        if has_fractions(sample[targets]):
            return "probabilities", "the sample's label cells hold fractions"
        if task == "binary":
            return "binary", f"the sample's target column '{targets[0]}' holds 0/1"
        return "binary", "the sample has one column per label"
    if len(targets) == 1:
        fmt = "label" if task == "multiclass" else "label_list"
        return fmt, f"the sample has one target column '{targets[0]}' for {task} data"
    return "binary", "the sample has one column per label"  # check_format names the mismatch


def check_format(
    fmt: str, sample: pd.DataFrame, id_column: str, label_names: list[str], task: str, metric: Metric, source: str
) -> None:
    """Refuse, in one line, a format that does not fit the sample's columns, the task or the metric."""
    targets = target_columns(sample, id_column)
    shown = ", ".join(targets[:4]) + (", ..." if len(targets) > 4 else "")
    per_label = fmt in ("binary", "probabilities")
    if per_label and sorted(targets) != sorted(label_names):
        raise FoldwiseError(
            f"{source}: submission format '{fmt}' needs one column per label "
            f"({len(label_names)}), the sample has {len(targets)} ({shown})"
        )
    if not per_label and len(targets) != 1:
        raise FoldwiseError(
            f"{source}: submission format '{fmt}' needs one target column besides "
            f"'{id_column}', the sample has {len(targets)} ({shown})"
        )
    if fmt == "label" and task != "multiclass":
        raise FoldwiseError(
            f"{source}: submission format 'label' holds one class per row, which does not fit "
            "multilabel data (use label_list)"
        )
    if fmt == "label_list" and task != "multilabel":
        raise FoldwiseError(
            f"{source}: submission format 'label_list' is for multilabel data; multiclass data use 'label'"
        )
    if fmt == "label_list" and any(len(name.split()) != 1 for name in label_names):
        spaced = next(name for name in label_names if len(name.split()) != 1)
        raise FoldwiseError(
            f"{source}: submission format 'label_list' separates labels by spaces, but label {spaced!r} holds one"
        )
    if not metric.needs_decision and fmt != "probabilities":
        decided = ", ".join(name for name, m in METRICS.items() if m.needs_decision and task in m.tasks)
        fix = (
            "set data.submission_format to probabilities (or auto, which follows the metric)"
            if per_label
            else f"the sample has one column of labels, so the metric is likely one on decisions ({decided}): "
            "set data.metric"
        )
        raise FoldwiseError(
            f"{source}: metric {metric.name} is scored on probabilities, which a '{fmt}' "
            f"submission ({FORMAT_WORDS[fmt]}) cannot hold: {fix}"
        )
    if metric.needs_decision and fmt == "probabilities":  # its CV score, of decisions, is not the submission's
        scored = ", ".join(name for name, m in METRICS.items() if not m.needs_decision and task in m.tasks)
        raise FoldwiseError(
            f"{source}: submission format 'probabilities' ({FORMAT_WORDS[fmt]}) cannot be "
            f"scored by metric {metric.name}, which is scored on 0/1 decisions: set data.metric "
            f"to a metric on probabilities ({scored}) or data.submission_format to binary"
        )


def _legacy_format(sample: pd.DataFrame, id_column: str, label_names: list[str] | None) -> str:
    """The format callers that name none get: one column per label (0/1), or one label column."""
    targets = target_columns(sample, id_column)
    return "label" if len(targets) == 1 and targets != list(label_names or []) else "binary"


#: decimals of a probability cell whose row must sum to exactly 1
ROW_DECIMALS = 9


def decimals_summing_to_one(probs: np.ndarray, decimals: int = ROW_DECIMALS) -> np.ndarray:
    """(n, L) probability cells as decimal strings whose every row sums to exactly 1.

    Each cell is rounded down to ``decimals`` places (at least one unit, so no class is
    sent a 0 that a log loss would punish without bound) and what is left of the row
    goes to its largest cell: a row of thirds is 0.333333334, 0.333333333, 0.333333333.
    """
    unit = 10**decimals
    p = np.asarray(probs, dtype=np.float64)
    p = p / p.sum(axis=1, keepdims=True)
    units = np.maximum(np.floor(p * unit).astype(np.int64), 1)
    rows = np.arange(len(units))
    units[rows, p.argmax(axis=1)] += unit - units.sum(axis=1)
    return np.vectorize(lambda u: f"{u // unit}.{u % unit:0{decimals}d}", otypes=[object])(units)


def build_submission(
    sample: pd.DataFrame,
    id_column: str,
    test_ids: np.ndarray,
    values: np.ndarray,
    label_names: list[str],
    fmt: str | None = None,
    rows_sum_to_one: bool = False,
) -> pd.DataFrame:
    """A frame with the sample's ids (in its order) and columns, filled in format ``fmt``.

    Parameters
    ----------
    sample : the sample submission frame.
    test_ids : (n,) ids in the row order of ``values``.
    values : (n, n_labels) 0/1 decisions, or probabilities for format "probabilities".
    label_names : names of the ``values`` columns.
    fmt : one of :data:`FORMATS`; None: 0/1 columns, or a class column when the sample
        has one target column.
    rows_sum_to_one : single-label probabilities: write each row's cells so that they sum
        to exactly 1 (:func:`decimals_summing_to_one`).
    """
    fmt = fmt or _legacy_format(sample, id_column, label_names)
    targets = target_columns(sample, id_column)
    values = np.asarray(values, dtype=np.float64 if fmt == "probabilities" else np.int64)
    by_id = pd.DataFrame(values, index=pd.Index(test_ids), columns=label_names)
    rows = by_id.loc[sample[id_column].to_numpy()]
    if fmt in ("binary", "probabilities"):
        if sorted(targets) != sorted(label_names):
            raise FoldwiseError(
                f"sample submission columns {targets[:3]}... match neither the labels {label_names[:3]}... "
                "nor a single target column"
            )
        frame = rows[targets].reset_index(drop=True)
        if fmt == "probabilities":
            frame = frame.clip(0.0, 1.0)
            if rows_sum_to_one:
                frame = pd.DataFrame(decimals_summing_to_one(frame.to_numpy()), columns=targets)
    else:
        names = np.asarray(label_names, dtype=object)
        decided = rows.to_numpy().astype(bool)
        cells = names[decided.argmax(axis=1)] if fmt == "label" else [" ".join(names[row]) for row in decided]
        frame = pd.DataFrame({targets[0]: cells})
    frame.insert(0, id_column, sample[id_column].to_numpy())
    return frame


def _bad_cells(block: pd.DataFrame, fmt: str, allowed: list[str] | None) -> tuple[np.ndarray, str]:
    """(rows x columns) mask of cells that break ``fmt``, and what was expected instead."""
    if fmt == "probabilities":
        values = block.apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
        with np.errstate(invalid="ignore"):
            return ~((values >= 0) & (values <= 1)), "a probability in [0, 1]"
    if fmt == "label_list":
        known = set(allowed or [])
        ok = block.iloc[:, 0].map(lambda cell: pd.isna(cell) or not allowed or set(cell.split()) <= known)
        return ~ok.to_numpy(dtype=bool)[:, None], f"space-separated labels from {(allowed or [])[:5]}"
    if fmt == "label" and allowed is not None:
        return ~block.isin(allowed).to_numpy(), f"one of {allowed[:5]}"
    if fmt == "label":
        return np.zeros(block.shape, dtype=bool), ""
    return ~block.isin(["0", "1"]).to_numpy(), "one of ['0', '1']"


def validate_submission(
    path: str | Path,
    sample: pd.DataFrame,
    id_column: str,
    allowed_labels: list[str] | None = None,
    fmt: str | None = None,
) -> pd.DataFrame:
    """Check a submission file against the sample submission; return it if valid.

    Raises :class:`FoldwiseError` naming the row or column for: other columns or column
    order, another row count, ids missing or in another order, empty cells (a label list
    may be empty), and cells that break the format ``fmt``: 0/1 ("binary"), a number in
    [0, 1] ("probabilities"), a known label ("label"), known labels ("label_list"). None:
    0/1 columns, or a label column when the sample has one target column.
    """
    path = Path(path)
    fmt = fmt or _legacy_format(sample, id_column, allowed_labels)
    sub = read_csv(path)
    check_layout(path, sub, sample, id_column)
    targets = target_columns(sample, id_column)
    block = sub[targets]
    if fmt != "label_list" and block.isna().to_numpy().any():
        row, col = (int(v[0]) for v in np.nonzero(block.isna().to_numpy()))
        raise FoldwiseError(f"{path}: row {row + 2}: empty value in column '{targets[col]}'")
    bad, expected = _bad_cells(block, fmt, allowed_labels)
    if bad.any():
        row, col = (int(v[0]) for v in np.nonzero(bad))
        raise FoldwiseError(
            f"{path}: row {row + 2}: column '{targets[col]}' has {block.iloc[row, col]!r}, expected {expected}"
        )
    return sub


def read_values(frame: pd.DataFrame, id_column: str, label_names: list[str], fmt: str, path: Path) -> np.ndarray:
    """(n, n_labels) floats from a submission or solution frame in format ``fmt``: its
    0/1 or probability columns in label order, or one-hot / multi-hot rows of its label cells."""
    if fmt in ("binary", "probabilities"):
        missing = [name for name in label_names if name not in frame.columns]
        if missing:
            raise FoldwiseError(f"{path}: missing column '{missing[0]}' (columns: {', '.join(frame.columns)})")
        return frame[label_names].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
    index = {name: j for j, name in enumerate(label_names)}
    column = target_columns(frame, id_column)[0]
    values = np.zeros((len(frame), len(label_names)))
    for row, cell in enumerate(frame[column]):
        tokens = [] if pd.isna(cell) else ([cell.strip()] if fmt == "label" else cell.split())
        for token in tokens:
            if token in index:
                values[row, index[token]] = 1.0
            elif token.isdigit() and int(token) < len(label_names):
                values[row, int(token)] = 1.0
            else:
                raise FoldwiseError(f"{path}: row {row + 2}: unknown label {token!r} in column '{column}'")
    return values


def solution_truth(values: np.ndarray, path: Path, label_names: list[str], single_label: bool) -> np.ndarray:
    """(n, L) bool truth from the (n, L) values of a solution file (:func:`read_values`).

    Every cell must be 0 or 1, and a single-label (multiclass) row must hold exactly one
    label; anything else is refused with its row (a cell of 2, or two classes in one row,
    would otherwise be scored as some other truth).
    """
    with np.errstate(invalid="ignore"):
        bad = ~((values == 0) | (values == 1))
    if bad.any():
        row, col = (int(v[0]) for v in np.nonzero(bad))
        shown = "not a number" if np.isnan(values[row, col]) else f"{values[row, col]:g}, expected 0 or 1"
        raise FoldwiseError(f"{path}: row {row + 2}: label '{label_names[col]}' is {shown}")
    counts = values.sum(axis=1)
    wrong = np.flatnonzero(counts != 1) if single_label else np.zeros(0, dtype=np.int64)
    if len(wrong):
        row = int(wrong[0])
        set_ = ", ".join(f"'{name}'" for name, on in zip(label_names, values[row]) if on) or "none"
        raise FoldwiseError(
            f"{path}: row {row + 2}: {int(counts[row])} labels set ({set_}); "
            "a multiclass solution holds exactly one label per row"
        )
    return values.astype(bool)


def write_submission(
    path: str | Path,
    frame: pd.DataFrame,
    sample: pd.DataFrame,
    id_column: str,
    allowed_labels: list[str] | None = None,
    fmt: str | None = None,
) -> str:
    """Write ``frame`` to ``path`` only if the written file validates against the sample.

    Returns the SHA-256 of the bytes this call wrote (for the submission's record).
    """
    path = Path(path)

    def write_and_check(tmp: Path) -> None:
        frame.to_csv(tmp, index=False, float_format="%.6g")
        try:
            validate_submission(tmp, sample, id_column, allowed_labels, fmt)
        except FoldwiseError as exc:  # report the real name, not the temp file's
            raise FoldwiseError(str(exc).replace(str(tmp), str(path)) + "; nothing written") from None

    return artifacts.write_hashed(path, write_and_check)
