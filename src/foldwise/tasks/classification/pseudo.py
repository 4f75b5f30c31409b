"""Which test rows a label teacher is sure of (``pseudo_labels``): confidence from probabilities,
and the cut chosen on the teacher's OOF rows where its decisions match the truth often enough."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def confidence(probs: np.ndarray, single_label: bool) -> np.ndarray:
    """How sure each row's prediction is: the largest probability (``single_label``: one label
    per row), else the least certain label's ``max(p, 1 - p)``."""
    probs = np.asarray(probs, dtype=np.float64)
    if single_label:
        return probs.max(axis=1)
    return np.maximum(probs, 1 - probs).min(axis=1)


def confidence_cut(oof: np.ndarray, right: np.ndarray, min_agreement: float, single_label: bool) -> float | None:
    """The lowest confidence at which the teacher's decisions on OOF rows at least that confident
    match the truth (``right``: the whole row) ``min_agreement`` of the time; None if no cut does."""
    sure = confidence(oof, single_label)
    order = np.argsort(-sure, kind="stable")
    agreement = np.cumsum(np.asarray(right)[order]) / np.arange(1, len(sure) + 1)
    good = np.flatnonzero(agreement >= min_agreement)
    return float(sure[order][good[-1]]) if len(good) else None


def confident_rows(
    per_fold: Sequence[np.ndarray], k: int, oof: np.ndarray, right: np.ndarray, min_agreement: float, single_label: bool
) -> tuple[np.ndarray, str]:
    """The test rows whose fold-k probabilities are at least as confident as the cut of the OOF
    rows outside fold k (:func:`confidence_cut`), and the cut as the log says it."""
    cut = confidence_cut(oof, right, min_agreement, single_label)
    chosen = (
        np.flatnonzero(confidence(per_fold[k], single_label) >= cut)
        if cut is not None
        else np.array([], dtype=np.int64)
    )
    return chosen, f"teacher confidence >= {cut if cut is not None else 'none reached'}"
