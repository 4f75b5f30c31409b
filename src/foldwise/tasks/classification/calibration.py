"""Probability calibration fit on out-of-fold predictions, for metrics scored on probabilities.

Log loss punishes confident mistakes; a model's (or a blend's) probabilities are often
too sharp or too flat. Two scikit-learn-style estimators fix that with one or two numbers,
fit on OOF only (``fit(probs, y)``, then ``predict(probs)``):

* :class:`TemperatureScaling` (single-label): ``softmax(log p / T)``, one temperature for
  all classes (Guo et al., 2017), so the argmax never changes;
* :class:`PlattScaling` (binary and multi-label): ``sigmoid(a * logit p + b)`` per label
  column (Platt, 1999).

Both contain the identity (``T = 1``; ``a = 1, b = 0``), so on the data they are fit on
they never raise the log loss; the stages report the cross-fitted figure as the honest one.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize, minimize_scalar

from ..metrics import EPS

#: the range searched for log T (T from about 0.05 to 20)
LOG_T_BOUNDS = (-3.0, 3.0)


def _logit(probs: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(probs, dtype=np.float64), EPS, 1 - EPS)
    return np.log(p) - np.log1p(-p)


def _softmax(scores: np.ndarray) -> np.ndarray:
    scores = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    return exp / exp.sum(axis=1, keepdims=True)


class TemperatureScaling:
    """One temperature for single-label probabilities, fit to minimise the categorical log loss.

    Attributes
    ----------
    temperature_ : float; above 1 flattens the probabilities, below 1 sharpens them.
    """

    def fit(self, probs: np.ndarray, y: np.ndarray) -> TemperatureScaling:
        """Fit on (n, L) probabilities and (n, L) one-hot truth; returns self."""
        log_p = np.log(np.clip(np.asarray(probs, dtype=np.float64), EPS, 1.0))
        truth = np.asarray(y, dtype=bool)

        def loss(log_t: float) -> float:
            scaled = log_p / np.exp(log_t)
            log_norm = np.log(np.exp(scaled - scaled.max(axis=1, keepdims=True)).sum(axis=1)) + scaled.max(axis=1)
            return float((log_norm - scaled[truth]).mean()) if truth.any() else 0.0

        found = minimize_scalar(loss, bounds=LOG_T_BOUNDS, method="bounded", options={"xatol": 1e-6})
        self.temperature_ = float(np.exp(found.x)) if found.fun < loss(0.0) else 1.0
        return self

    def predict(self, probs: np.ndarray) -> np.ndarray:
        """(n, L) calibrated probabilities; each row sums to 1."""
        log_p = np.log(np.clip(np.asarray(probs, dtype=np.float64), EPS, 1.0))
        return _softmax(log_p / self.temperature_)


class PlattScaling:
    """A slope and an intercept on the logit of each label column, fit to minimise its log loss.

    Attributes
    ----------
    coef_ : (L, 2) float array of (a, b) per label: ``sigmoid(a * logit p + b)``.
    """

    def fit(self, probs: np.ndarray, y: np.ndarray) -> PlattScaling:
        """Fit on (n, L) probabilities and (n, L) 0/1 truth; returns self."""
        logits = _logit(probs)
        truth = np.asarray(y, dtype=np.float64)
        self.coef_ = np.array([_fit_platt(logits[:, j], truth[:, j]) for j in range(logits.shape[1])])
        return self

    def predict(self, probs: np.ndarray) -> np.ndarray:
        """(n, L) calibrated probabilities."""
        z = _logit(probs) * self.coef_[:, 0] + self.coef_[:, 1]
        return 1.0 / (1.0 + np.exp(-z))


def _fit_platt(logit: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(a, b) minimising the binary log loss of ``sigmoid(a * logit + b)``; identity for a
    column with one class only (nothing to learn a slope from)."""
    if y.min() == y.max():
        return 1.0, 0.0

    def loss_and_grad(params: np.ndarray) -> tuple[float, np.ndarray]:
        z = params[0] * logit + params[1]
        loss = np.logaddexp(0.0, z) - y * z  # -log p(y), computed stably
        residual = 1.0 / (1.0 + np.exp(-z)) - y
        return float(loss.mean()), np.array([(residual * logit).mean(), residual.mean()])

    found = minimize(loss_and_grad, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B")
    return (float(found.x[0]), float(found.x[1])) if found.fun <= loss_and_grad(np.array([1.0, 0.0]))[0] else (1.0, 0.0)


def calibrator_for(task: str) -> TemperatureScaling | PlattScaling:
    """The calibrator of a task kind: one temperature (multiclass) or Platt per label (else)."""
    return TemperatureScaling() if task == "multiclass" else PlattScaling()
