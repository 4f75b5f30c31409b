"""Out-of-fold predictions put back together from the folds' validation predictions."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ..errors import FoldwiseError
from ..tasks.roles import Folds, Rows

#: the task's predictions
P = TypeVar("P", bound=Rows)


def assemble_oof(task: Folds[P, Any], train_ids: np.ndarray, parts: list[tuple[np.ndarray, P]], source: Path) -> P:
    """Every training row's out-of-fold prediction, in ``train_ids`` order, from the folds'
    ``(valid ids, predictions)``; a row that no fold predicted is an error naming ``source``."""
    position = {id_: i for i, id_ in enumerate(train_ids)}
    rows = np.array([position[i] for ids, _ in parts for i in ids], dtype=np.int64)
    covered = np.zeros(len(train_ids), dtype=bool)
    covered[rows] = True
    if not covered.all() or len(rows) != len(train_ids):
        raise FoldwiseError(f"{source}: some training rows have no out-of-fold prediction")
    order = np.empty(len(rows), dtype=np.int64)
    order[rows] = np.arange(len(rows))
    return task.take(task.concat([preds for _, preds in parts]), order)
