"""K-fold assignment written once to ``folds/<dataset>.csv`` and shared by every model."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..config import DataConfig, concrete_task
from ..errors import FoldwiseError
from ..io import artifacts, paths


class Strata(NamedTuple):
    """What a task's folds balance (:meth:`foldwise.tasks.Task.stratify_on`).

    Attributes
    ----------
    key : an (n_rows, C) 0/1 matrix (labels, or bins of a number), or None: nothing to balance.
    method : "iterative" (iterative stratification of several columns) or "classes" (stratified
        on the one set column), None with no key.
    names : the key's C column names, as the per-fold count table shows them.
    """

    key: np.ndarray | None
    method: str | None
    names: list[str]


def assign_folds(
    key: np.ndarray | None,
    method: str | None,
    n_splits: int,
    seed: int,
    groups: np.ndarray | None = None,
    n_rows: int | None = None,
    label_names: list[str] | None = None,
) -> np.ndarray:
    """Fold index of every training row.

    Parameters
    ----------
    key : what the folds balance (:meth:`foldwise.tasks.Task.stratify_on`): an (n_rows, L)
        0/1 matrix, or None.
    method : "iterative" uses iterative stratification (MultilabelStratifiedKFold) on the
        matrix (several labels per row); "classes" uses StratifiedKFold on the class index (argmax of a one-hot
        matrix, or a single 0/1 column, as any one-column matrix is); None: shuffled K-fold.
    n_splits, seed : K and the shuffle seed.
    groups : (n_rows,) values; rows with equal values land in the same fold (the
        stratification then works on whole groups, each with its rows' labels pooled).
    n_rows : the number of rows, needed only when there is neither a key nor groups.
    label_names : the key's column names, to name a class that cannot be stratified.

    Returns
    -------
    (n_rows,) int array with values 0..K-1.
    """
    n_rows = len(key) if key is not None else len(groups) if groups is not None else int(n_rows or 0)
    if n_splits < 2:
        raise FoldwiseError(f"folds: n_splits must be at least 2, got {n_splits}")
    if n_rows < n_splits:
        raise FoldwiseError(f"folds: {n_rows} training rows cannot fill {n_splits} folds")
    if groups is not None:
        return _assign_group_folds(key, method, n_splits, seed, groups)
    if key is None or method is None:
        return _plain_folds(n_rows, n_splits, seed)
    if method == "iterative" and key.shape[1] > 1:
        from iterstrat.ml_stratifiers import MultilabelStratifiedKFold

        splitter = MultilabelStratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        target = key
    else:
        from sklearn.model_selection import StratifiedKFold

        splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        target = key[:, 0] if key.shape[1] == 1 else key.argmax(axis=1)  # one 0/1 column: binary
        _check_class_counts(target, n_splits, label_names)
    fold = np.full(n_rows, -1, dtype=np.int64)
    for k, (_, valid) in enumerate(splitter.split(np.zeros(n_rows), target)):
        fold[valid] = k
    return fold


def _check_class_counts(target: np.ndarray, n_splits: int, label_names: list[str] | None = None) -> None:
    """Refuse, in one line each, what StratifiedKFold cannot split (its own error is a traceback):
    one class only, a class of a single row (the fold holding it would score a class its model
    never saw), or no class with a row for every fold."""
    values, counts = np.unique(target, return_counts=True)
    names = [str(label_names[v]) if label_names and len(label_names) > 1 else str(v) for v in values]
    if len(values) < 2:
        raise FoldwiseError(f"folds: every training row has the same label ({names[0]}); nothing to stratify")
    single = [name for name, count in zip(names, counts) if count == 1]
    if single:
        shown = ", ".join(f"'{name}'" for name in single[:5]) + (
            f", ... ({len(single)} in all)" if len(single) > 5 else ""
        )
        which = f"class {shown} has" if len(single) == 1 else f"classes {shown} each have"
        rows = "its row" if len(single) == 1 else "those rows"
        raise FoldwiseError(
            f"folds: {which} a single training row; stratified folds need at least 2 of each "
            f"class: drop or relabel {rows} (or merge rare classes)"
        )
    if counts.max() < n_splits:
        raise FoldwiseError(
            f"folds: no class has {n_splits} training rows (the largest, '{names[counts.argmax()]}', "
            f"has {counts.max()}): lower folds.n_splits to {counts.max()}"
        )


def _assign_group_folds(
    key: np.ndarray | None, method: str | None, n_splits: int, seed: int, groups: np.ndarray
) -> np.ndarray:
    """Fold every group as one multi-label row holding the labels of all its rows (or, with
    nothing to balance, as one row), then give each row its group's fold."""
    names, index = np.unique(np.asarray(groups, dtype=str), return_inverse=True)
    if len(names) < n_splits:
        raise FoldwiseError(f"folds: {len(names)} groups cannot fill {n_splits} folds")
    if key is None or method is None:
        return _balanced_group_folds(np.bincount(index), n_splits, seed)[index]
    pooled = np.zeros((len(names), key.shape[1]), dtype=np.uint8)
    np.maximum.at(pooled, index, key.astype(np.uint8))
    return assign_folds(pooled, "iterative", n_splits, seed)[index]


def _balanced_group_folds(sizes: np.ndarray, n_splits: int, seed: int) -> np.ndarray:
    """The fold of each group, largest groups first (ties in a seeded order), each into the
    fold that holds the fewest rows so far: folds of nearly equal rows."""
    order = np.random.default_rng(seed).permutation(len(sizes))
    order = order[np.argsort(-sizes[order], kind="stable")]
    fold, rows = np.zeros(len(sizes), dtype=np.int64), np.zeros(n_splits, dtype=np.int64)
    for group in order:
        k = int(np.argmin(rows))
        fold[group], rows[k] = k, rows[k] + sizes[group]
    return fold


def _plain_folds(n_rows: int, n_splits: int, seed: int) -> np.ndarray:
    """Shuffled K-fold of ``n_rows`` rows (or groups)."""
    from sklearn.model_selection import KFold

    fold = np.full(n_rows, -1, dtype=np.int64)
    splitter = KFold(n_splits=n_splits, shuffle=True, random_state=seed)
    for k, (_, valid) in enumerate(splitter.split(np.zeros(n_rows))):
        fold[valid] = k
    return fold


def read_groups(cfg: DataConfig) -> np.ndarray | None:
    """The ``folds.group_column`` values of the training rows, in file order (None: not set)."""
    column = cfg.folds.group_column
    if column is None:
        return None
    from ..io.tables import read_csv

    path = cfg.path / cfg.train_file
    frame = read_csv(path, cfg.sep, encoding=cfg.encoding).iloc[: cfg.max_train_rows]  # the rows load_competition keeps
    if column not in frame.columns:
        raise FoldwiseError(
            f"{path}: missing column '{column}' (folds.group_column; columns: {', '.join(frame.columns)})"
        )
    values = frame[column]
    empty = np.flatnonzero((values.isna() | (values.str.strip() == "")).to_numpy(dtype=bool))
    if empty.size:  # they would all fall into one made-up group, and into one fold
        raise FoldwiseError(
            f"{path}: column '{column}' (folds.group_column) is empty in {empty.size} of "
            f"{len(values)} rows (first: row {empty[0] + 2}); give every row a group"
        )
    return values.to_numpy(dtype=object)


#: what rewriting a fold file costs, for messages
STALE_RUNS = "every run trained on the old folds goes stale"


def folds_path(cfg: DataConfig) -> Path:
    """Where the fold file of a dataset lives."""
    return paths.folds_csv(cfg.name)


def fold_settings(cfg: DataConfig, ids: np.ndarray, task: str | None = None) -> dict:
    """What identifies a fold split: K, seed, task (``task``: the one ``auto`` resolved to) and
    the training ids it covers."""
    digest = hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]
    settings = {
        "n_splits": cfg.folds.n_splits,
        "seed": cfg.folds.seed,
        "task": task or cfg.task,
        "n_rows": len(ids),
        "ids_sha256": digest,
    }
    if cfg.folds.group_column is not None:  # absent otherwise: older fold files stay valid
        settings["group_column"] = cfg.folds.group_column
    return settings


def label_count_table(labels: np.ndarray | None, fold: np.ndarray, label_names: list[str]) -> pd.DataFrame:
    """Positive count of every label in every fold (rows: labels, columns: folds), and the
    rows per fold (the only line when there are no labels to count)."""
    n_splits = int(fold.max()) + 1
    if labels is None:
        labels, label_names = np.zeros((len(fold), 0), dtype=np.uint8), []
    counts = np.stack([labels[fold == k].sum(axis=0) for k in range(n_splits)], axis=1)
    table = pd.DataFrame(counts, index=label_names, columns=[f"fold {k}" for k in range(n_splits)])
    table.loc["(rows)"] = [int((fold == k).sum()) for k in range(n_splits)]
    return table


def write_folds(
    cfg: DataConfig,
    ids: np.ndarray,
    labels: np.ndarray | None,
    label_names: list[str],
    force: bool = False,
    task: str | None = None,
    method: str | None = "iterative",
) -> tuple[Path, pd.DataFrame, bool]:
    """Write ``folds/<name>.csv`` (``id,fold``) and its settings JSON, once.

    Re-running with the same settings is a no-op; different settings are an error
    unless ``force`` (every model must see the same folds for OOF files to line up).

    ``task`` is the task the data resolved (``CompetitionData.task``; default ``cfg.task``);
    ``labels`` and ``method`` are what the task balances (:meth:`foldwise.tasks.Task.stratify_on`).

    Returns
    -------
    (path, per-fold label-count table, whether the file was written now)
    """
    task = concrete_task(task or cfg.task, len(label_names))
    path = folds_path(cfg)
    meta_path = path.with_suffix(".json")
    settings = fold_settings(cfg, ids, task)
    for written in (path, meta_path):  # left by a `folds` that was killed
        artifacts.remove_stale_temps(written)
    if path.exists() and not force:
        _check_unchanged(path, meta_path, settings)
        fold = read_folds(cfg, ids)
        return path, label_count_table(labels, fold, label_names), False

    groups = read_groups(cfg)
    if groups is not None and len(groups) != len(ids):
        raise FoldwiseError(f"folds.group_column: {len(groups)} group values for {len(ids)} training rows")
    fold = assign_folds(
        labels, method, cfg.folds.n_splits, cfg.folds.seed, groups, n_rows=len(ids), label_names=label_names
    )
    table = label_count_table(labels, fold, label_names)
    frame = pd.DataFrame({"id": ids, "fold": fold})
    csv_sha256 = artifacts.write_hashed(path, lambda tmp: frame.to_csv(tmp, index=False))
    # the JSON goes last and names the CSV's hash: a run killed between the two leaves a
    # CSV that the old JSON does not describe, which the next `folds` refuses to call unchanged
    artifacts.write_json(
        meta_path,
        {
            "settings": settings,
            "csv_sha256": csv_sha256,
            "label_counts": table.to_dict(),
            **artifacts.provenance(cfg.folds.seed),
        },
    )
    return path, table, True


def _check_unchanged(path: Path, meta_path: Path, settings: dict) -> None:
    """Refuse a fold file whose JSON records other settings, or another CSV than the one
    there (an interrupted `folds`, or an edited file)."""
    meta = artifacts.read_json(meta_path) if meta_path.exists() else {}
    old = meta.get("settings")
    if old != settings:
        raise FoldwiseError(
            f"{path} exists with other settings ({_diff(old, settings)}); pass --force to rewrite it ({STALE_RUNS})"
        )
    if meta.get("csv_sha256") != artifacts.file_sha256(path):
        raise FoldwiseError(
            f"{meta_path} does not describe {path} (csv_sha256 differs: an interrupted `folds` or an edited "
            f"file); pass --force to rewrite both ({STALE_RUNS})"
        )


def _diff(old: dict | None, new: dict) -> str:
    if old is None:
        return "no settings file beside it"
    changed = [f"{k}: {old.get(k)} -> {v}" for k, v in new.items() if old.get(k) != v]
    return ", ".join(changed)


def read_folds(cfg: DataConfig, ids: np.ndarray) -> np.ndarray:
    """Fold index for each of ``ids`` from ``folds/<name>.csv``.

    Ids absent from the fold file are an error; extra ids in the file are allowed so
    that a small-data run (``max_train_rows``) reuses the full dataset's folds.
    """
    path = folds_path(cfg)
    if not path.exists():
        raise FoldwiseError(f"{path} not found; run `make folds` (foldwise folds) first")
    frame = pd.read_csv(path, dtype={"id": str})
    if list(frame.columns) != ["id", "fold"]:
        raise FoldwiseError(f"{path}: expected columns id,fold, got {','.join(frame.columns)}")
    lookup = pd.Series(frame["fold"].to_numpy(), index=frame["id"].to_numpy())
    missing = ~pd.Index(ids).isin(lookup.index)
    if missing.any():
        raise FoldwiseError(
            f"{path}: training id '{ids[np.flatnonzero(missing)[0]]}' has no fold; "
            "the data changed since the folds were written (foldwise folds --force)"
        )
    fold = lookup.loc[ids].to_numpy().astype(np.int64)
    if len(np.unique(fold)) < 2:
        raise FoldwiseError(f"{path}: the selected rows fall in fewer than two folds")
    return fold
