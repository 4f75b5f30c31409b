"""What every submission shares, whatever the task: the sample's layout and the record beside the CSV.

Each task kind writes and checks its own cells (classification:
:mod:`foldwise.tasks.classification.submission`; text answers:
:mod:`foldwise.tasks.text_answers`); the header, row count and id order are checked here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import FoldwiseError
from . import artifacts, paths


def target_columns(sample: pd.DataFrame, id_column: str) -> list[str]:
    """The sample submission's columns but the id."""
    return [c for c in sample.columns if c != id_column]


def check_columns(path: Path, columns: list[str], expected: list[str]) -> None:
    """Refuse a header that is not the sample's, naming the missing, extra or misplaced
    column (a column named twice is refused when the file is read)."""
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


def check_layout(path: Path, sub: pd.DataFrame, sample: pd.DataFrame, id_column: str) -> None:
    """Refuse, naming the column or row, a submission whose header, row count or ids (in
    order) are not the sample submission's."""
    check_columns(path, list(sub.columns), list(sample.columns))
    if len(sub) != len(sample):
        raise FoldwiseError(f"{path}: {len(sub)} rows, the sample submission has {len(sample)}")
    mismatch = np.flatnonzero(sub[id_column].to_numpy() != sample[id_column].to_numpy())
    if mismatch.size:
        row = int(mismatch[0])
        raise FoldwiseError(
            f"{path}: row {row + 2}: id '{sub[id_column].iloc[row]}', "
            f"the sample has '{sample[id_column].iloc[row]}' there"
        )


def submission_record(csv: str | Path) -> dict | None:
    """The JSON record beside a submission CSV, or None when there is none.

    The record carries the sha256 of the CSV it describes (``ensemble`` writes it last);
    a record that does not match (an interrupted ``ensemble`` paired a new CSV with the
    old record, or the CSV was edited) is refused, so its score and members are never
    reported for another file.
    """
    csv = Path(csv)
    path = paths.submission_companion(csv, "record")
    if not (path.exists() and csv.exists()):
        return None
    try:
        record = artifacts.read_json(path)
    except ValueError as exc:
        raise FoldwiseError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(record, dict) or record.get("csv_sha256") != artifacts.file_sha256(csv):
        raise FoldwiseError(
            f"{path} does not describe {csv} (csv_sha256 differs: an interrupted "
            "`ensemble` or an edited CSV); run `foldwise ensemble` again or delete the .json"
        )
    return record
