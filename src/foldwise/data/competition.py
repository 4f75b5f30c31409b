"""Load and validate a competition's CSV files into one small in-memory structure."""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import DataConfig
from ..errors import FoldwiseError
from ..io.tables import read_csv
from .labels import ACCEPTED_FORMATS, choose_separator, describe_separator, split_label_cell, strip_name


@dataclass(frozen=True)
class LabelLayout:
    """How a task's 0/1 label matrix reads from the training file.

    Attributes
    ----------
    one_per_row : exactly one label per row: a ``label_column`` cell holds one class, 0/1
        label columns set exactly one, and the class names are whole cells.
    one_column : a ``label_column`` is one 0/1 (or two-name, with ``positive_label``) column,
        submitted as the sample's one target column.
    """

    one_per_row: bool = False
    one_column: bool = False


#: the tasks whose truth is a 0/1 label matrix read from label columns, and how they read it
#: (the kinds :func:`infer_task` tells apart); the other tasks read their own truth from
#: ``CompetitionData.train_frame``
LABEL_LAYOUTS: dict[str, LabelLayout] = {
    "multilabel": LabelLayout(),
    "multiclass": LabelLayout(one_per_row=True),
    "binary": LabelLayout(one_column=True),
}


def task_line(task: str, reason: str) -> str:
    """The printed line naming a competition's task and why it is that task."""
    return f"task: {task} ({reason})"


@dataclass
class CompetitionData:
    """A competition's training and test rows.

    Attributes
    ----------
    train_ids, test_ids : (n_train,), (n_test,) str arrays.
    train_texts, test_texts : (n_train,), (n_test,) object arrays of str (text columns joined);
        with ``data.text_pair`` (n_train, 2), (n_test, 2): the pair's first and second side.
        Objects, because a fixed-width str array takes rows x longest text x 4 bytes.
    labels : (n_train, n_labels) uint8 0/1 matrix; for multiclass exactly one 1 per row.
    label_names : the n_labels names, in submission column order.
    sample_submission : the sample submission frame (ids and columns to reproduce).
    task : the task's name (``data.task``, or what ``auto`` inferred).
    task_reason : why that task: "set by data.task", or what the inference saw.
    """

    train_ids: np.ndarray
    train_texts: np.ndarray
    labels: np.ndarray
    test_ids: np.ndarray
    test_texts: np.ndarray
    label_names: list[str]
    sample_submission: pd.DataFrame
    task: str
    name: str
    task_reason: str = "set by data.task"
    #: the training rows as read (after max_train_rows): where a task without a label matrix
    #: (span: the answer columns) reads its truth
    train_frame: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    @property
    def task_line(self) -> str:
        """ "task: binary (inferred: one 0/1 label column 'target')" for printing."""
        return task_line(self.task, self.task_reason)

    @property
    def n_labels(self) -> int:
        """Number of labels (columns of ``labels``)."""
        return len(self.label_names)

    @cached_property
    def content_sha256(self) -> str:
        """Hash of what training reads: ids, texts (train and test), label names and matrix (a task
        without a label matrix, which reads its truth from the training rows: every training cell).

        Part of the training fingerprint, so folds trained before the data changed are
        not reused (changed labels keep the ids, and so the folds, the same).
        """
        digest = hashlib.sha256()
        for values in (
            self.train_ids,
            *_columns(self.train_texts),
            self.test_ids,
            *_columns(self.test_texts),
            self.label_names,
        ):
            digest.update(f"{len(values)}\0".encode())
            for value in values:  # length-prefixed, so no two layouts of the same characters collide
                encoded = str(value).encode("utf-8", "surrogatepass")
                digest.update(f"{len(encoded)}:".encode())
                digest.update(encoded)
        digest.update(str(self.labels.shape).encode())
        digest.update(np.ascontiguousarray(self.labels, dtype=np.uint8).tobytes())
        if self.train_frame is not None and self.labels.shape[1] == 0:  # a task reading its truth from the rows
            digest.update(pd.util.hash_pandas_object(self.train_frame, index=False).to_numpy().tobytes())
        return digest.hexdigest()[:16]


def _columns(texts: np.ndarray) -> list[np.ndarray]:
    """(n,) texts as one sequence; (n, 2) sentence pairs as their two sides."""
    return [texts] if texts.ndim == 1 else [texts[:, j] for j in range(texts.shape[1])]


def _require_columns(frame: pd.DataFrame, columns: list[str], path: Path) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise FoldwiseError(f"{path}: missing column '{missing[0]}' (columns: {', '.join(frame.columns)})")


def _check_ids(ids: pd.Series, path: Path, column: str) -> np.ndarray:
    empty = ids.isna()
    if empty.any():
        row = int(np.flatnonzero(empty.to_numpy())[0])
        raise FoldwiseError(f"{path}: row {row + 2}: empty id in column '{column}'")
    dup = ids.duplicated()
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0])
        raise FoldwiseError(f"{path}: row {row + 2}: duplicate id '{ids.iloc[row]}' in column '{column}'")
    # ids stay fixed-width str: fold files store them in .npz, which refuses pickled objects
    return ids.to_numpy(dtype=object).astype(str)


def texts_of(frame: pd.DataFrame, cfg: DataConfig, path: Path) -> np.ndarray:
    """(n,) texts (several text_columns joined, or ``text_template`` filled), or (n, 2) sides of ``text_pair``.

    A row misses text only when all of its text_columns are empty (blank or NaN); empty
    columns of a row that has text elsewhere are left out of the join, so no dangling
    ``text_joiner`` appears. Each side of a ``text_pair`` must have text on its own.
    """
    columns = cfg.input_columns
    parts = frame[columns]
    blank = parts.apply(lambda col: col.str.strip() == "").astype(bool)  # bool also with 0 rows
    empty = (parts.isna() | blank).to_numpy(dtype=bool)
    alone = cfg.pair_columns is not None or len(columns) == 1  # each column must have text by itself
    missing = empty if alone else empty.all(axis=1, keepdims=True)
    if cfg.missing_text == "error" and missing.any():
        row, col = (int(v[0]) for v in np.nonzero(missing))
        where = f"column '{columns[col]}'" if alone else f"every text column ({', '.join(columns)})"
        raise FoldwiseError(
            f"{path}: row {row + 2}: empty or missing text in {where} (set data.missing_text=fill to fill it)"
        )
    if cfg.pair_columns is not None:
        return parts.where(~empty, cfg.fill_text).astype(str).to_numpy(dtype=object)
    if cfg.text_template is not None:  # every column by name into the template; empty ones as fill_text
        values = parts.where(~empty, cfg.fill_text).astype(str)
        return np.array(
            [cfg.text_template.format(**dict(zip(columns, row))) for row in values.to_numpy(dtype=object)], dtype=object
        )
    joined = [
        cfg.text_joiner.join(str(value) for value, gap in zip(values, gaps) if not gap) or cfg.fill_text
        for values, gaps in zip(parts.to_numpy(dtype=object), empty)
    ]
    return np.array(joined, dtype=object)


def _binary_labels(frame: pd.DataFrame, columns: list[str], path: Path) -> np.ndarray:
    _require_columns(frame, columns, path)
    block = frame[columns]
    valid = block.isin(["0", "1"])
    if not valid.to_numpy().all():
        row, col = (int(v[0]) for v in np.nonzero(~valid.to_numpy()))
        raise FoldwiseError(
            f"{path}: row {row + 2}: label column '{columns[col]}' has value {block.iloc[row, col]!r}, expected 0 or 1"
        )
    return (block.to_numpy() == "1").astype(np.uint8)


def _positive_as_one(frame: pd.DataFrame, cfg: DataConfig, path: Path) -> pd.DataFrame:
    """``frame`` with ``label_column`` as "1" where it holds ``positive_label``, "0" where it
    holds the one other name (unchanged without a positive_label)."""
    if cfg.positive_label is None:
        return frame
    _require_columns(frame, [cfg.label_column], path)
    cells = frame[cfg.label_column].str.strip()
    names = sorted(set(cells.dropna()))
    if cfg.positive_label not in names:
        raise FoldwiseError(
            f"{path}: data.positive_label {cfg.positive_label!r} is not a value of column "
            f"'{cfg.label_column}' (values: {_first_names(names)})"
        )
    if len(names) > 2:
        raise FoldwiseError(
            f"{path}: column '{cfg.label_column}' holds {len(names)} values ({_first_names(names)}); "
            f"with data.positive_label it holds {cfg.positive_label!r} and one other"
        )
    if cells.isna().any():
        row = int(np.flatnonzero(cells.isna().to_numpy())[0])
        raise FoldwiseError(f"{path}: row {row + 2}: empty label in column '{cfg.label_column}'")
    return frame.assign(**{cfg.label_column: np.where(cells == cfg.positive_label, "1", "0")})


def _list_labels(frame: pd.DataFrame, cfg: DataConfig, names: list[str], path: Path, one_per_row: bool) -> np.ndarray:
    _require_columns(frame, [cfg.label_column], path)
    cells = frame[cfg.label_column].to_numpy()
    separator = choose_separator(cells, cfg.label_separator)
    index = {strip_name(name): i for i, name in enumerate(names)}
    labels = np.zeros((len(frame), len(names)), dtype=np.uint8)
    for row, cell in enumerate(cells):
        tokens = split_label_cell(cell, separator, index)
        if one_per_row and len(tokens) != 1:
            raise FoldwiseError(
                f"{path}: row {row + 2}: column '{cfg.label_column}' must hold exactly one label, got {cell!r} "
                f"(read as {describe_separator(separator)})"
            )
        for token in tokens:
            if token in index:
                labels[row, index[token]] = 1
            elif token.lstrip("-").isdigit() and 0 <= int(token) < len(names):
                labels[row, int(token)] = 1
            else:
                raise FoldwiseError(
                    f"{path}: row {row + 2}: unknown label {token!r} in column '{cfg.label_column}' "
                    f"(read as {describe_separator(separator)}; known: {_first_names(names)}; {ACCEPTED_FORMATS})"
                )
    return labels


def _first_names(names: list[str], shown: int = 5) -> str:
    """``'a', 'b', 'c', 'd', 'e', ... (28 in all)`` for messages."""
    head = ", ".join(repr(n) for n in names[:shown])
    return head if len(names) <= shown else f"{head}, ... ({len(names)} in all)"


def _warn_constant_labels(labels: np.ndarray, names: list[str], path: Path) -> None:
    """One line on stderr naming every label that is 0 (or 1) in every training row."""
    if not len(labels):
        return
    counts = labels.sum(axis=0)
    constant = [
        f"'{name}' ({'1' if count else '0'} in every row)"
        for name, count in zip(names, counts)
        if count in (0, len(labels))
    ]
    if constant:
        print(
            f"warning: {path}: constant label column(s), which no model can learn: {', '.join(constant)}",
            file=sys.stderr,
        )


def _label_names(cfg: DataConfig, sample: pd.DataFrame, train: pd.DataFrame) -> list[str]:
    if cfg.label_columns:
        return list(cfg.label_columns)
    targets = [c for c in sample.columns if c != cfg.submission_id_column]
    layout = LABEL_LAYOUTS.get(cfg.task, LabelLayout())
    if cfg.label_column and layout.one_column:  # one 0/1 (or two-name) column: the sample's one column
        return targets[:1]
    if cfg.label_names:
        return list(cfg.label_names)
    if cfg.label_column and len(targets) == 1 and cfg.label_column in train.columns:
        # Kaggle's "id,label" (or "id,labels" list) layout: the labels are the values seen in train.
        cells = train[cfg.label_column].dropna()
        if layout.one_per_row:
            values = set(cells.str.strip())
        else:
            separator = choose_separator(cells.to_numpy(), cfg.label_separator)
            values = {token for cell in cells for token in split_label_cell(cell, separator)}
        return sorted(values, key=lambda v: (not v.lstrip("-").isdigit(), int(v) if v.lstrip("-").isdigit() else 0, v))
    return targets


def real_number_example(values: pd.Series) -> str | None:
    """The first cell of a column of numbers that is not a whole number (a regression target's),
    or None when some cell is no number or every one is whole."""
    numbers = pd.to_numeric(values.dropna(), errors="coerce")
    if not (len(numbers) and numbers.notna().all() and (numbers % 1 != 0).any()):
        return None
    return str(values.dropna().iloc[int(np.flatnonzero((numbers % 1 != 0).to_numpy())[0])])


def _whole_numbers(values: list[str]) -> bool:
    """Every value is an integer written as such ('3', '-2')."""
    return all(v.lstrip("-").isdigit() for v in values)


def refuse_regression(values: pd.Series, path: Path, column: str) -> None:
    """Refuse, in one line, a label column of real numbers (a regression target), which would
    otherwise be read as one class per distinct value."""
    example = real_number_example(values)
    if example is not None:
        raise FoldwiseError(
            f"{path}: column '{column}' holds real numbers ({example!r}, {values.nunique():,} "
            f"distinct values): a regression target; set data.task: regression and target_column: {column}"
        )


def infer_task(cfg: DataConfig, train: pd.DataFrame, sample: pd.DataFrame, train_path: Path) -> tuple[str, str]:
    """The task ``data.task: auto`` stands for, and why, from the full training file.

    Target columns of real numbers (``label_columns``, ``target_column`` or the sample's) are a
    regression. A ``label_column`` with a ``positive_label``, or of 0/1 cells with a one-column sample,
    is binary; one whose every cell holds one label is multiclass, else multilabel. 0/1 label
    columns (``label_columns`` or the sample's) are binary when there is one, multiclass when
    every row sets exactly one of them, else multilabel.
    """
    targets = [c for c in sample.columns if c != cfg.submission_id_column]
    if cfg.label_column:
        _require_columns(train, [cfg.label_column], train_path)
        refuse_regression(train[cfg.label_column], train_path, cfg.label_column)
        if cfg.positive_label is not None:
            return "binary", f"inferred: data.positive_label {cfg.positive_label!r} of column '{cfg.label_column}'"
        if len(targets) == 1 and set(train[cfg.label_column].dropna().str.strip()) <= {"0", "1"}:  # a blank is refused
            return "binary", f"inferred: column '{cfg.label_column}' holds 0/1, the sample has one column"
        cells = train[cfg.label_column].to_numpy()
        known = {strip_name(n) for n in (cfg.label_names or (targets if len(targets) > 1 else []))}
        separator = choose_separator(cells, cfg.label_separator)
        if len(cells) and all(len(split_label_cell(cell, separator, known)) == 1 for cell in cells):
            return "multiclass", f"inferred: every cell of '{cfg.label_column}' holds one label"
        return "multilabel", (
            f"inferred: cells of '{cfg.label_column}' hold several labels or none "
            f"(read as {describe_separator(separator)})"
        )
    columns = list(cfg.label_columns or ([cfg.target_column] if cfg.target_column else targets))
    _require_columns(train, columns, train_path)
    real = {c: example for c in columns if (example := real_number_example(train[c])) is not None}
    if real:
        column, example = next(iter(real.items()))
        return "regression", f"inferred: column '{column}' holds real numbers ({example!r})"
    if len(columns) == 1:
        values = sorted(set(train[columns[0]].dropna().str.strip()) - {"0", "1"})
        if values and not cfg.label_columns:  # the sample's one column holds class names (id,label)
            raise FoldwiseError(
                f"{train_path}: column '{columns[0]}' holds {values[0]!r}, not 0/1: set "
                f"label_column: {columns[0]} (a class name per row), or data.task"
                + (" (ordinal: integer scores such as essay grades)" if _whole_numbers(values) else "")
            )
        return "binary", f"inferred: one 0/1 label column '{columns[0]}'"
    labels = _binary_labels(train, columns, train_path)
    if len(labels) and (labels.sum(axis=1) == 1).all():
        return "multiclass", f"inferred: every row sets exactly one of the {len(columns)} label columns"
    return "multilabel", f"inferred: rows set several of the {len(columns)} label columns, or none"


def resolved_task(cfg: DataConfig) -> str:
    """``data.task``, or what ``auto`` infers from the training file and the sample (without
    loading the whole competition)."""
    if cfg.task != "auto":
        return cfg.task
    train_path = cfg.path / cfg.train_file
    return infer_task(
        cfg,
        read_csv(train_path, cfg.sep, encoding=cfg.encoding),
        read_csv(cfg.path / cfg.sample_submission_file, cfg.sep, encoding=cfg.encoding),
        train_path,
    )[0]


def load_competition(cfg: DataConfig) -> CompetitionData:
    """Read train, test and sample submission and validate them against each other.

    Raises :class:`FoldwiseError` naming the file, row and column for: missing files or
    columns, a column named twice in a header, empty text (unless ``missing_text: fill``), empty or duplicate ids, label
    values other than 0/1, unknown label names, multiclass rows without exactly one
    label, and test ids that differ from the sample submission's.
    """
    folder = cfg.path
    train_path = folder / cfg.train_file
    test_path = folder / cfg.test_file
    sample_path = folder / cfg.sample_submission_file
    train = read_csv(train_path, cfg.sep, encoding=cfg.encoding)
    test = read_csv(test_path, cfg.sep, encoding=cfg.encoding)
    sample = read_csv(sample_path, cfg.sep, encoding=cfg.encoding)
    if cfg.label_columns and cfg.label_column:
        raise FoldwiseError("data config: set label_columns or label_column, not both")

    test_id = cfg.submission_id_column
    if cfg.id_column not in train.columns and cfg.test_id_column is None and cfg.id_column in test.columns:
        raise FoldwiseError(
            f"{train_path}: missing id column '{cfg.id_column}' (columns: {', '.join(train.columns)}); "
            f"if train names its id otherwise, set id_column to train's and test_id_column: "
            f"{cfg.id_column} (the test and sample id)"
        )
    _require_columns(train, [cfg.id_column, *cfg.input_columns], train_path)
    _require_columns(test, [test_id, *cfg.input_columns], test_path)
    _require_columns(sample, [test_id], sample_path)
    task_reason = "set by data.task"
    if cfg.label_column and cfg.task in LABEL_LAYOUTS and cfg.label_column in train.columns:
        refuse_regression(train[cfg.label_column], train_path, cfg.label_column)
    if cfg.task == "auto":
        task, task_reason = infer_task(cfg, train, sample, train_path)
        cfg = replace(cfg, task=task)
    if cfg.max_train_rows is not None:
        train = train.iloc[: cfg.max_train_rows].reset_index(drop=True)

    names = _label_names(cfg, sample, train)
    if not names:
        raise FoldwiseError(f"{sample_path}: no label columns besides '{test_id}'")
    layout = LABEL_LAYOUTS.get(cfg.task)
    if layout is None:  # the task reads its truth from train_frame
        labels = np.zeros((len(train), 0), dtype=np.uint8)
    elif cfg.label_column and layout.one_column:  # a 0/1 (or two-name) column, submitted as the sample's
        labels = _binary_labels(_positive_as_one(train, cfg, train_path), [cfg.label_column], train_path)
    elif cfg.label_column:
        labels = _list_labels(train, cfg, names, train_path, layout.one_per_row)
    else:
        labels = _binary_labels(train, names, train_path)
        if layout.one_per_row:
            bad = np.flatnonzero(labels.sum(axis=1) != 1)
            if bad.size:
                raise FoldwiseError(
                    f"{train_path}: row {bad[0] + 2}: multiclass rows need exactly one label column set to 1"
                )

    train_ids = _check_ids(train[cfg.id_column], train_path, cfg.id_column)
    test_ids = _check_ids(test[test_id], test_path, test_id)
    sample_ids = _check_ids(sample[test_id], sample_path, test_id)
    missing = set(test_ids) - set(sample_ids)
    extra = set(sample_ids) - set(test_ids)
    if missing or extra:
        detail = (
            f"test id '{sorted(missing)[0]}' is not in the sample"
            if missing
            else f"sample id '{sorted(extra)[0]}' is not in the test file"
        )
        raise FoldwiseError(f"{sample_path}: ids differ from {test_path} ({detail})")

    train_texts, test_texts = texts_of(train, cfg, train_path), texts_of(test, cfg, test_path)
    if layout is not None:
        _warn_constant_labels(labels, names, train_path)
    return CompetitionData(
        train_ids=train_ids,
        train_texts=train_texts,
        labels=labels,
        test_ids=test_ids,
        test_texts=test_texts,
        label_names=names,
        sample_submission=sample,
        task=cfg.task,
        name=cfg.name,
        task_reason=task_reason,
        train_frame=train,
    )
