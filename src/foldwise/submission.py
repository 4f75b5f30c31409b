"""Build, validate and write submission CSVs in exactly the sample submission's layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from . import artifacts
from .data import read_csv
from .errors import FoldwiseError


def build_submission(sample: pd.DataFrame, id_column: str, test_ids: np.ndarray,
                     decisions: np.ndarray, label_names: list[str]) -> pd.DataFrame:
    """A frame with the sample's ids (in its order) and columns, filled from decisions.

    Parameters
    ----------
    sample : the sample submission frame.
    test_ids : (n,) ids in the row order of ``decisions``.
    decisions : (n, n_labels) 0/1 labels.
    label_names : names of the ``decisions`` columns.

    The sample's layout decides the format: one 0/1 column per label, or (multiclass)
    a single column holding each row's label name.
    """
    targets = [c for c in sample.columns if c != id_column]
    by_id = pd.DataFrame(decisions.astype(np.int64), index=pd.Index(test_ids), columns=label_names)
    rows = by_id.loc[sample[id_column].to_numpy()]
    if set(targets) <= set(label_names) and len(targets) == len(label_names):
        frame = rows[targets].reset_index(drop=True)
    elif len(targets) == 1:
        frame = pd.DataFrame({targets[0]: np.asarray(label_names)[rows.to_numpy().argmax(axis=1)]})
    else:
        raise FoldwiseError(
            f"sample submission columns {targets[:3]}... match neither the labels {label_names[:3]}... "
            "nor a single target column")
    frame.insert(0, id_column, sample[id_column].to_numpy())
    return frame


def _check_columns(path: Path, columns: list[str], expected: list[str]) -> None:
    """Refuse a header that is not the sample's, naming the missing, extra or misplaced
    column (pandas renames a repeated column 'x' to 'x.1', so a repeat shows as extra)."""
    if columns == expected:
        return

    def first(names: list[str], what: str) -> str:
        more = f" (and {len(names) - 1} more)" if len(names) > 1 else ""
        return f"{what} column '{names[0]}'{more}"

    missing = [c for c in expected if c not in columns]
    extra = [c for c in columns if c not in expected]
    problems = []
    if missing:
        problems.append(first(missing, "missing"))
    if extra:
        problems.append(first(extra, "extra"))
    if not problems:
        at = next(i for i, (a, b) in enumerate(zip(columns, expected)) if a != b)
        problems = [f"column {at + 1} is '{columns[at]}' where the sample has '{expected[at]}'"]
    raise FoldwiseError(f"{path}: {', '.join(problems)}; the columns must be the sample submission's, in its order")


def validate_submission(path: str | Path, sample: pd.DataFrame, id_column: str,
                        allowed_labels: list[str] | None = None) -> pd.DataFrame:
    """Check a submission file against the sample submission; return it if valid.

    Raises :class:`FoldwiseError` naming the row or column for: other columns or column
    order, another row count, ids missing or in another order, empty cells, and values
    other than the integers 0/1 (or, for a single label column, unknown labels).
    """
    path = Path(path)
    sub = read_csv(path)
    _check_columns(path, list(sub.columns), list(sample.columns))
    if len(sub) != len(sample):
        raise FoldwiseError(f"{path}: {len(sub)} rows, the sample submission has {len(sample)}")
    mismatch = np.flatnonzero(sub[id_column].to_numpy() != sample[id_column].to_numpy())
    if mismatch.size:
        row = int(mismatch[0])
        raise FoldwiseError(f"{path}: row {row + 2}: id '{sub[id_column].iloc[row]}', "
                            f"the sample has '{sample[id_column].iloc[row]}' there")
    targets = [c for c in sample.columns if c != id_column]
    block = sub[targets]
    if block.isna().to_numpy().any():
        row, col = (int(v[0]) for v in np.nonzero(block.isna().to_numpy()))
        raise FoldwiseError(f"{path}: row {row + 2}: empty value in column '{targets[col]}'")
    if len(targets) == 1 and allowed_labels is not None:
        ok = block[targets[0]].isin(allowed_labels).to_numpy()
        allowed = allowed_labels
    else:
        ok = block.isin(["0", "1"]).to_numpy()
        allowed = ["0", "1"]
    if not ok.all():
        row, col = (int(v[0]) for v in np.nonzero(~ok.reshape(len(sub), -1)))
        raise FoldwiseError(f"{path}: row {row + 2}: column '{targets[col]}' has "
                            f"{block.iloc[row, col]!r}, expected one of {allowed[:5]}")
    return sub


def write_submission(path: str | Path, frame: pd.DataFrame, sample: pd.DataFrame, id_column: str,
                     allowed_labels: list[str] | None = None) -> Path:
    """Write ``frame`` to ``path`` only if the written file validates against the sample."""
    path = Path(path)

    def write_and_check(tmp: Path) -> None:
        frame.to_csv(tmp, index=False)
        try:
            validate_submission(tmp, sample, id_column, allowed_labels)
        except FoldwiseError as exc:  # report the real name, not the temp file's
            raise FoldwiseError(str(exc).replace(str(tmp), str(path)) + "; nothing written") from None

    artifacts.write_with(path, write_and_check)
    return path


def submission_record(csv: str | Path) -> dict | None:
    """The JSON record beside a submission CSV, or None when there is none.

    The record carries the sha256 of the CSV it describes (``ensemble`` writes it last);
    a record that does not match (an interrupted ``ensemble`` paired a new CSV with the
    old record, or the CSV was edited) is refused, so its score and members are never
    reported for another file.
    """
    csv = Path(csv)
    path = csv.with_suffix(".json")
    if not (path.exists() and csv.exists()):
        return None
    try:
        record = artifacts.read_json(path)
    except ValueError as exc:
        raise FoldwiseError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(record, dict) or record.get("csv_sha256") != artifacts.file_sha256(csv):
        raise FoldwiseError(f"{path} does not describe {csv} (csv_sha256 differs: an interrupted "
                            "`ensemble` or an edited CSV); run `foldwise ensemble` again or delete the .json")
    return record
