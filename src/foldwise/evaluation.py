"""Score out-of-fold probabilities: metrics at 0.5, after tuned thresholds, per class, per fold.

Shared by ``train`` (one experiment) and ``ensemble`` (a blend), so both report the
same numbers in the same layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import metrics
from .config import ThresholdConfig
from .thresholds import ArgmaxDecision, ThresholdOptimizer, crossfit_macro_f1


def make_decider(task: str, cfg: ThresholdConfig) -> ThresholdOptimizer | ArgmaxDecision:
    """The unfitted object that turns probabilities into 0/1 labels for ``task``."""
    if task == "multiclass":
        return ArgmaxDecision()
    return ThresholdOptimizer(mode=cfg.mode, value=cfg.value, at_least_one=cfg.at_least_one)


def fixed_half(task: str) -> ThresholdOptimizer | ArgmaxDecision:
    """The untuned baseline decision: 0.5 for multi-label, argmax for multiclass."""
    return make_decider(task, ThresholdConfig(mode="fixed", value=0.5))


def untuned_scores(probs: np.ndarray, labels: np.ndarray, task: str) -> dict[str, float]:
    """Macro-F1, micro-F1 and accuracy of the untuned decision (0.5 cut, or argmax for multiclass)."""
    return metrics.scores(labels, fixed_half(task).fit(probs, labels).predict(probs))


def is_single_label(summary: dict) -> bool:
    """True for the summary of a multiclass task (argmax decisions, no thresholds to tune)."""
    return summary.get("threshold_mode") == "argmax"


@dataclass
class Evaluation:
    """Metrics of OOF probabilities and the decider fit on them."""

    summary: dict[str, Any]
    decider: ThresholdOptimizer | ArgmaxDecision

    @property
    def per_class(self) -> dict[str, dict[str, float]]:
        """label -> {support, f1_at_0.5, f1_tuned, threshold}."""
        return self.summary["per_class"]


def evaluate(probs: np.ndarray, labels: np.ndarray, fold: np.ndarray, label_names: list[str],
             task: str, cfg: ThresholdConfig) -> Evaluation:
    """Fit the decider on OOF probabilities and score them several ways.

    Parameters
    ----------
    probs : (n, n_labels) out-of-fold probabilities.
    labels : (n, n_labels) 0/1 truth.
    fold : (n,) fold of each row (for the cross-fitted score and per-fold scores).
    label_names : n_labels names.
    task, cfg : decide how probabilities become labels.

    Returns
    -------
    Evaluation with ``summary`` keys: ``at_0.5`` and ``tuned`` (macro_f1, micro_f1,
    accuracy), ``tuned_crossfit_macro_f1`` (thresholds fit on the other folds: the
    honest estimate), ``per_fold`` and ``per_class``. For multiclass both decisions
    are the argmax (``threshold_mode: argmax``), so ``tuned.accuracy`` is the accuracy
    and ``tuned.macro_f1`` the macro-F1; single-label data has no cuts to report.
    """
    decider = make_decider(task, cfg).fit(probs, labels)
    baseline = fixed_half(task).fit(probs, labels)
    tuned_pred = decider.predict(probs)
    base_pred = baseline.predict(probs)
    crossfit = crossfit_macro_f1(probs, labels, fold, lambda: make_decider(task, cfg))
    per_fold = []
    for k in np.unique(fold):
        rows = fold == k
        per_fold.append({
            "fold": int(k), "rows": int(rows.sum()),
            "macro_f1_at_0.5": metrics.macro_f1(labels[rows], base_pred[rows]),
            "macro_f1_tuned": metrics.macro_f1(labels[rows], tuned_pred[rows]),
        })
    thresholds = decider.thresholds_
    per_class = {
        name: {
            "support": int(labels[:, j].sum()),
            "f1_at_0.5": float(baseline.train_f1_[j]),
            "f1_tuned": float(decider.train_f1_[j]),
            "threshold": None if thresholds is None else float(thresholds[j]),
        }
        for j, name in enumerate(label_names)
    }
    summary = {
        "rows": int(len(labels)),
        "at_0.5": metrics.scores(labels, base_pred),
        "tuned": metrics.scores(labels, tuned_pred),
        "tuned_crossfit_macro_f1": crossfit,
        "threshold_mode": "argmax" if task == "multiclass" else cfg.mode,
        "per_fold": per_fold,
        "per_class": per_class,
    }
    return Evaluation(summary=summary, decider=decider)


def thresholds_record(evaluation: Evaluation, label_names: list[str], cfg: ThresholdConfig) -> dict:
    """What ``thresholds.json`` holds: the cuts by label and how to apply them."""
    cuts = evaluation.decider.thresholds_
    return {
        "mode": evaluation.summary["threshold_mode"],
        "at_least_one": cfg.at_least_one,
        "thresholds": None if cuts is None else dict(zip(label_names, map(float, cuts))),
    }
