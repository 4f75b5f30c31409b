"""Blend several experiments' probabilities with weights fit on their OOF predictions.

The objective is the competition metric after the decisions fit on the blend
(:func:`after_decisions`; the task builds it), which is what the submission is scored on.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .metrics import Metric

#: objective(blended OOF probabilities) -> score to maximise
Objective = Callable[[np.ndarray], float]


def blend(probs: list[np.ndarray], weights: np.ndarray) -> np.ndarray:
    """Weighted mean of (n, n_labels) probability matrices; weights sum to 1."""
    out = np.zeros_like(probs[0], dtype=np.float64)
    for p, w in zip(probs, weights):
        out += w * p
    return out


def after_decisions(metric: Metric, make_decider: Callable[[], object], labels: np.ndarray) -> Objective:
    """Objective: ``metric`` (negated for losses) after fitting a fresh decider on the blend."""
    def objective(blended: np.ndarray) -> float:
        return metric.objective(labels, make_decider().fit(blended, labels).predict(blended))
    return objective


class Blender:
    """Blend weights on the simplex, fit on out-of-fold probabilities.

    ``method="mean"`` uses equal weights. ``method="fit"`` starts from equal weights and
    runs coordinate ascent: move ``step`` of weight onto one member (taking it from the
    others in proportion), keep the move if the objective improves, halve the step when
    no move helps. With decisions re-fit inside the objective, the weights maximise the
    competition metric *after* decisions, which is what the submission is scored on.

    Parameters
    ----------
    method : "fit" or "mean".
    steps : the step sizes tried, largest first.
    combine : (members' predictions, weights) -> one prediction; default :func:`blend`, the
        weighted mean of probability matrices (a task whose predictions are not matrices
        passes its own, ``Task.blend``).

    Attributes
    ----------
    weights_ : (n_members,) weights, non-negative, summing to 1.
    score_ : objective at ``weights_``; mean_score_ : objective at equal weights.
    """

    def __init__(self, method: str = "fit", steps: tuple[float, ...] = (0.2, 0.1, 0.05, 0.025, 0.0125),
                 combine: Callable[[list, np.ndarray], object] = blend):
        if method not in ("fit", "mean"):
            raise ValueError(f"unknown blend method {method!r}")
        self.method = method
        self.steps = steps
        self.combine = combine

    def fit(self, probs: list[np.ndarray], objective: Objective) -> "Blender":
        """Fit weights for members' (n, n_labels) OOF probabilities."""
        n = len(probs)
        weights = np.full(n, 1.0 / n)
        self.mean_score_ = best = objective(self.combine(probs, weights))
        if self.method == "fit" and n > 1:
            for step in self.steps:
                improved = True
                while improved:
                    improved = False
                    for i in range(n):
                        candidate = _shift(weights, i, step)
                        if candidate is None:
                            continue
                        score = objective(self.combine(probs, candidate))
                        if score > best + 1e-9:
                            weights, best, improved = candidate, score, True
        self.weights_ = weights
        self.score_ = best
        return self

    def predict(self, probs: list[np.ndarray]) -> np.ndarray:
        """Blend members' probabilities (OOF or test) with the fitted weights."""
        return self.combine(probs, self.weights_)


def _shift(weights: np.ndarray, i: int, step: float) -> np.ndarray | None:
    """Move ``step`` of weight onto member i, taken from the others in proportion."""
    others = 1.0 - weights[i]
    if others <= 1e-12:
        return None
    moved = min(step, others)
    candidate = weights * (1.0 - moved / others)
    candidate[i] = weights[i] + moved
    return candidate / candidate.sum()
