"""Classification metrics in plain numpy (macro/micro F1, per-class F1, accuracy)."""

from __future__ import annotations

import numpy as np


def _counts(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true, dtype=bool)
    y_pred = np.asarray(y_pred, dtype=bool)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"shape mismatch: y_true {y_true.shape} vs y_pred {y_pred.shape}")
    tp = (y_true & y_pred).sum(axis=0)
    fp = (~y_true & y_pred).sum(axis=0)
    fn = (y_true & ~y_pred).sum(axis=0)
    return tp, fp, fn


def f1_per_class(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """F1 of every label column.

    Parameters
    ----------
    y_true, y_pred : (n_rows, n_labels) 0/1 arrays.

    Returns
    -------
    (n_labels,) float array; a label with no positives and no predictions scores 0
    (scikit-learn's ``zero_division=0``).
    """
    tp, fp, fn = _counts(y_true, y_pred)
    denom = 2 * tp + fp + fn
    return np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Unweighted mean of the per-label F1 scores (the competition metric)."""
    return float(f1_per_class(y_true, y_pred).mean())


def micro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """F1 of all (row, label) decisions pooled together."""
    tp, fp, fn = (c.sum() for c in _counts(y_true, y_pred))
    denom = 2 * tp + fp + fn
    return float(2 * tp / denom) if denom else 0.0


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Share of rows whose whole label vector is predicted exactly."""
    y_true = np.asarray(y_true, dtype=bool)
    y_pred = np.asarray(y_pred, dtype=bool)
    return float((y_true == y_pred).all(axis=1).mean())


def scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Macro-F1, micro-F1 and exact-match accuracy of 0/1 predictions."""
    return {"macro_f1": macro_f1(y_true, y_pred), "micro_f1": micro_f1(y_true, y_pred),
            "accuracy": accuracy(y_true, y_pred)}
