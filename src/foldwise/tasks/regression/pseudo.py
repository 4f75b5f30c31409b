"""Which test rows a teacher of numbers is sure of (``pseudo_labels``): those its fold models
agree on, the least spread across them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def spread(per_fold: Sequence[np.ndarray], oof: np.ndarray) -> np.ndarray:
    """(n_test,) each test row's spread across the fold models: per target the standard deviation
    of their predictions over the spread of the teacher's OOF predictions of that target (targets
    on other scales weigh alike), the largest over targets (the least certain one)."""
    stacked = np.stack([np.asarray(p, dtype=np.float64) for p in per_fold])
    scale = np.asarray(oof, dtype=np.float64).std(axis=0)
    return (stacked.std(axis=0) / np.where(scale > 0, scale, 1.0)).max(axis=1)


def agreed_rows(per_fold: Sequence[np.ndarray], oof: np.ndarray, share: float) -> tuple[np.ndarray, str]:
    """The ``share`` of test rows of the least spread across the fold models (:func:`spread`), in
    row order, and the choice as the log says it."""
    rows = np.asarray(per_fold[0]).shape[0]
    if not rows:
        return np.array([], dtype=np.int64), "no test rows"
    spreads = spread(per_fold, oof)
    order = np.argsort(spreads, kind="stable")
    keep = max(1, int(round(share * rows)))
    return np.sort(order[:keep]), (
        f"the {share:.0%} its {len(per_fold)} fold models agree on most, relative std <= {spreads[order[keep - 1]]:.4g}"
    )
