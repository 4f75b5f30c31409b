"""Decision thresholds fit on out-of-fold probabilities (scikit-learn style estimator).

Macro-F1 is the mean of independent per-label F1 scores, so maximising each label's F1
on its own maximises macro-F1 exactly. Each label's search sorts its scores once and
reads F1 at every distinct cut from cumulative counts: O(n log n) per label instead of a
grid of ``f1_score`` calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .metrics import f1_per_class, macro_f1


@dataclass
class ThresholdCurve:
    """F1 of one label at every distinct cut, highest cut first."""

    cuts: np.ndarray  # (m,) predict positive when score >= cut
    f1: np.ndarray  # (m,)


def _cut_between(upper: float, lower: float | None) -> float:
    """A cut that keeps ``upper`` and drops ``lower``: their midpoint."""
    return float(upper) if lower is None else float((upper + lower) / 2.0)


def f1_curve(scores: np.ndarray, y: np.ndarray) -> ThresholdCurve:
    """F1 of predicting ``scores >= cut`` for every distinct score as the cut.

    Parameters
    ----------
    scores : (n,) float scores of one label.
    y : (n,) 0/1 truth.
    """
    order = np.argsort(-scores, kind="stable")
    s = scores[order]
    tp = np.cumsum(y[order], dtype=np.int64)
    predicted = np.arange(1, len(s) + 1)
    group_end = np.r_[s[:-1] != s[1:], True]  # a cut can only fall between distinct scores
    positives = tp[-1] if len(tp) else 0
    f1 = 2.0 * tp / (predicted + positives)
    return ThresholdCurve(cuts=s[group_end], f1=f1[group_end])


def best_cut(scores: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The F1-optimal cut for one label and its F1, exactly.

    The cut is the midpoint between the last score kept and the next lower one. A label
    with no positives gets a cut above every score (predict none).

    Parameters
    ----------
    scores : (n,) float scores; y : (n,) 0/1 truth.

    Returns
    -------
    (cut, f1)
    """
    if len(scores) == 0 or not np.any(y):
        top = float(np.max(scores)) if len(scores) else 0.5
        return float(np.nextafter(top, np.inf)), 0.0
    curve = f1_curve(scores, y)
    best = int(np.argmax(curve.f1))
    lower = curve.cuts[best + 1] if best + 1 < len(curve.cuts) else None
    return _cut_between(curve.cuts[best], lower), float(curve.f1[best])


def best_global_cut(scores: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The one cut shared by all labels that maximises macro-F1, exactly.

    Every distinct score is a candidate; for each label the number of rows at or above
    a candidate comes from a binary search in its sorted scores.

    Parameters
    ----------
    scores, y : (n, n_labels).

    Returns
    -------
    (cut, macro_f1)
    """
    candidates = np.unique(scores)[::-1]  # descending
    total = np.zeros(len(candidates))
    for j in range(scores.shape[1]):
        order = np.argsort(scores[:, j], kind="stable")
        s = scores[order, j]
        pos_from_bottom = np.r_[0, np.cumsum(y[order, j], dtype=np.int64)]
        positives = pos_from_bottom[-1]
        below = np.searchsorted(s, candidates, side="left")  # rows with score < cut
        predicted = len(s) - below
        tp = positives - pos_from_bottom[below]
        denom = predicted + positives
        total += np.where(denom > 0, 2.0 * tp / np.maximum(denom, 1), 0.0)
    best = int(np.argmax(total))
    lower = candidates[best + 1] if best + 1 < len(candidates) else None
    return _cut_between(candidates[best], lower), float(total[best] / scores.shape[1])


class ThresholdOptimizer:
    """Per-label (or global, or fixed) decision thresholds for multi-label scores.

    Parameters
    ----------
    mode : "per_class" (each label's F1-optimal cut), "global" (one cut maximising
        macro-F1) or "fixed" (``value`` for every label).
    value : the cut used by mode "fixed".
    at_least_one : a row with no label at or above its cut gets the label whose score
        is closest to (or furthest above) its cut.

    Attributes
    ----------
    thresholds_ : (n_labels,) the fitted cuts.
    train_f1_ : (n_labels,) per-label F1 on the data the cuts were fit on.
    """

    def __init__(self, mode: str = "per_class", value: float = 0.5, at_least_one: bool = False):
        if mode not in ("per_class", "global", "fixed"):
            raise ValueError(f"unknown threshold mode {mode!r}")
        self.mode = mode
        self.value = value
        self.at_least_one = at_least_one

    def fit(self, scores: np.ndarray, y: np.ndarray) -> "ThresholdOptimizer":
        """Fit cuts on (n, n_labels) out-of-fold scores and 0/1 truth."""
        scores = np.asarray(scores, dtype=np.float64)
        y = np.asarray(y).astype(np.int64)
        n_labels = scores.shape[1]
        if self.mode == "per_class":
            cuts = [best_cut(scores[:, j], y[:, j])[0] for j in range(n_labels)]
            self.thresholds_ = np.asarray(cuts)
        elif self.mode == "global":
            self.thresholds_ = np.full(n_labels, best_global_cut(scores, y)[0])
        else:
            self.thresholds_ = np.full(n_labels, float(self.value))
        self.train_f1_ = f1_per_class(y, self.predict(scores))
        return self

    def predict(self, scores: np.ndarray) -> np.ndarray:
        """0/1 labels, (n, n_labels) uint8, from scores and the fitted cuts."""
        scores = np.asarray(scores, dtype=np.float64)
        decided = scores >= self.thresholds_
        if self.at_least_one:
            empty = ~decided.any(axis=1)
            margin = scores[empty] - self.thresholds_
            decided[np.flatnonzero(empty), margin.argmax(axis=1)] = True
        return decided.astype(np.uint8)


def crossfit_macro_f1(scores: np.ndarray, y: np.ndarray, fold: np.ndarray,
                      make: Callable[[], ThresholdOptimizer]) -> float:
    """Macro-F1 when each fold's rows are cut with thresholds fit on the other folds.

    Thresholds fit and scored on the same OOF rows are slightly optimistic; this is
    the honest estimate of what tuned thresholds will do on unseen test rows.

    Parameters
    ----------
    scores, y : (n, n_labels) OOF scores and truth; fold : (n,) fold index.
    make : builds a fresh, unfitted :class:`ThresholdOptimizer`.
    """
    decided = np.zeros_like(y, dtype=np.uint8)
    for k in np.unique(fold):
        held = fold == k
        decided[held] = make().fit(scores[~held], y[~held]).predict(scores[held])
    return macro_f1(y, decided)


class ArgmaxDecision:
    """Multiclass decisions: the most probable label of each row (no cuts to fit).

    Shares :class:`ThresholdOptimizer`'s interface so callers need not branch;
    ``thresholds_`` is None.
    """

    thresholds_ = None

    def fit(self, scores: np.ndarray, y: np.ndarray) -> "ArgmaxDecision":
        """Nothing to learn; records the per-label F1 on ``scores``."""
        self.train_f1_ = f1_per_class(y, self.predict(scores))
        return self

    def predict(self, scores: np.ndarray) -> np.ndarray:
        """One-hot (n, n_labels) uint8 of each row's argmax."""
        decided = np.zeros(scores.shape, dtype=np.uint8)
        decided[np.arange(len(scores)), np.asarray(scores).argmax(axis=1)] = 1
        return decided
