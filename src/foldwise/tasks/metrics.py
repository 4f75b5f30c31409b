"""Classification metrics in plain numpy, and the registry of competition metrics.

``get_metric(name, task)`` returns a :class:`Metric`: the score function, its direction,
its title and scale as reports print them, the tasks it fits and the secondary scores
reported beside it, whether it is scored on decisions or on probabilities, and (for
metrics on decisions) its *count form*, which lets :mod:`foldwise.tasks.classification.decisions` search
cuts for it exactly. Adding a metric is one function plus one line in ``METRICS``;
``SCORES`` names every score reports print (the metrics and the secondary scores that are
no competition metric). :func:`metric_problem` is the one check that a metric fits a task.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import numpy as np

from ..config import DATA_CHECKS, GENERATED_HELP, DataConfig
from ..errors import FoldwiseError
from .text_metrics import rouge1_score, squad_f1, word_jaccard_score

#: probabilities are clipped to [EPS, 1 - EPS] before a log (Kaggle's log-loss rule)
EPS = 1e-15


def _same_shape(y_true: np.ndarray, y_pred: np.ndarray, dtype: Any = bool) -> tuple[np.ndarray, np.ndarray]:
    """Both arrays as numpy arrays (truth as bool, predictions as ``dtype``), shapes checked."""
    y_true = np.asarray(y_true, dtype=bool)
    y_pred = np.asarray(y_pred, dtype=dtype)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"shape mismatch: y_true {y_true.shape} vs y_pred {y_pred.shape}")
    return y_true, y_pred


def _counts(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y_true, y_pred = _same_shape(y_true, y_pred)
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
    return {
        "macro_f1": macro_f1(y_true, y_pred),
        "micro_f1": micro_f1(y_true, y_pred),
        "accuracy": accuracy(y_true, y_pred),
    }


# --- count forms: a metric as the mean over groups of cells of a score of their counts ---


def f1_from_counts(tp: np.ndarray, predicted: np.ndarray, positives: np.ndarray, empty: float = 0.0) -> np.ndarray:
    """F1 = 2 tp / (predicted + positives) of each group of decisions.

    Parameters
    ----------
    tp, predicted, positives : (g,) counts of true positives, predicted and true labels.
    empty : the score of a group with no predicted and no true label.

    Returns
    -------
    (g,) float array.
    """
    denom = predicted + positives
    return np.where(denom > 0, 2.0 * tp / np.maximum(denom, 1), empty)


def jaccard_from_counts(tp: np.ndarray, predicted: np.ndarray, positives: np.ndarray, empty: float = 1.0) -> np.ndarray:
    """Jaccard = tp / (size of predicted set union true set) of each group, (g,) floats.

    ``empty`` is the score of a group with no predicted and no true label.
    """
    union = predicted + positives - tp
    return np.where(union > 0, tp / np.maximum(union, 1), empty)


def exact_match_from_counts(tp: np.ndarray, predicted: np.ndarray, positives: np.ndarray) -> np.ndarray:
    """1.0 where a group's predicted set equals its true set, else 0.0; (g,) floats."""
    return ((tp == predicted) & (tp == positives)).astype(np.float64)


def group_sizes(over: str, shape: tuple[int, int]) -> np.ndarray:
    """(g,) number of cells in each group of an (n, L) matrix (see :func:`group_counts`)."""
    n, n_labels = shape
    return {"rows": np.full(n, n_labels), "labels": np.full(n_labels, n), "all": np.array([n * n_labels])}[over]


def group_counts(y_true: np.ndarray, y_pred: np.ndarray, over: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True positives, predicted labels and true labels of each group of cells.

    Parameters
    ----------
    y_true, y_pred : (n, L) 0/1 arrays.
    over : "rows" (n groups), "labels" (L groups) or "all" (one group of every cell).

    Returns
    -------
    tp, predicted, positives : (g,) int64 arrays.
    """
    y_true, y_pred = _same_shape(y_true, y_pred)
    axis = {"rows": 1, "labels": 0, "all": None}[over]
    tp, predicted, positives = (
        np.atleast_1d(cells.sum(axis=axis, dtype=np.int64)) for cells in (y_true & y_pred, y_pred, y_true)
    )
    return tp, predicted, positives


@dataclass(frozen=True)
class CountForm:
    """A metric written as the mean, over groups of cells, of a score of each group's counts.

    Every metric on decisions here is one: macro-F1 is the mean over label columns of
    their F1, micro-F1 the F1 of one group holding every cell, samples-F1 and Jaccard
    means over rows. This is what lets :mod:`foldwise.tasks.classification.decisions` read the metric at
    every cut from cumulative counts.

    Attributes
    ----------
    over : the groups: "rows", "labels" or "all".
    score : (tp, predicted, positives) -> (g,) scores, vectorised over groups; with
        ``sized``, (tp, predicted, positives, size): metrics that need the true negatives
        (size - predicted - positives + tp), such as MCC.
    sized : whether ``score`` takes the group sizes too.
    """

    over: str
    score: Callable[..., np.ndarray]
    sized: bool = False

    def group_scores(
        self, tp: np.ndarray, predicted: np.ndarray, positives: np.ndarray, size: np.ndarray
    ) -> np.ndarray:
        """(g,) score of each group from its counts and its number of cells."""
        return self.score(tp, predicted, positives, size) if self.sized else self.score(tp, predicted, positives)

    def value(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        """The metric of (n, L) 0/1 decisions: the mean group score."""
        counts = group_counts(y_true, y_pred, self.over)
        return float(self.group_scores(*counts, group_sizes(self.over, np.shape(y_true))).mean())


_ROW_F1 = CountForm("rows", partial(f1_from_counts, empty=1.0))
_ROW_JACCARD = CountForm("rows", jaccard_from_counts)


def samples_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Per-row F1 averaged over rows (Kaggle's "mean F1", scikit-learn's ``average="samples"``).

    Parameters
    ----------
    y_true, y_pred : (n, L) 0/1 arrays.

    A row with no true and no predicted label scores 1 (scikit-learn's
    ``zero_division=1.0``, and Kaggle's mean-F1 convention).
    """
    return _ROW_F1.value(y_true, y_pred)


def jaccard(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Per-row Jaccard index averaged over rows (SemEval-2018 Task 1 E-c's official score).

    Parameters
    ----------
    y_true, y_pred : (n, L) 0/1 arrays.

    A row with no true and no predicted label scores 1. The task's official scorer calls
    scikit-learn's old ``jaccard_similarity_score``, which sets such rows to 1.0; the
    same as today's ``jaccard_score(average="samples", zero_division=1.0)``.
    """
    return _ROW_JACCARD.value(y_true, y_pred)


# --- binary metrics: one 0/1 column, scored from its confusion counts ---


def mcc_from_counts(tp: np.ndarray, predicted: np.ndarray, positives: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Matthews correlation of each group, (g,) floats; 0 where a margin is empty
    (scikit-learn's convention)."""
    tp, predicted, positives, size = (np.asarray(v, dtype=np.float64) for v in (tp, predicted, positives, size))
    fp, fn = predicted - tp, positives - tp
    tn = size - predicted - positives + tp
    denom = np.sqrt(predicted * positives * (size - predicted) * (size - positives))
    return np.where(denom > 0, (tp * tn - fp * fn) / np.where(denom > 0, denom, 1.0), 0.0)


def both_classes_f1_from_counts(
    tp: np.ndarray, predicted: np.ndarray, positives: np.ndarray, size: np.ndarray
) -> np.ndarray:
    """Mean of the F1 of the positive and of the negative class of each group, (g,) floats
    (macro-F1 of a binary problem, as scikit-learn's ``average="macro"`` computes it)."""
    tn = size - predicted - positives + tp
    return (f1_from_counts(tp, predicted, positives) + f1_from_counts(tn, size - predicted, size - positives)) / 2


_POSITIVE_F1 = CountForm("labels", f1_from_counts)
_MCC = CountForm("labels", mcc_from_counts, sized=True)
_BOTH_CLASSES_F1 = CountForm("labels", both_classes_f1_from_counts, sized=True)


def f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """F1 of the positive class (Kaggle's "F1" on a 0/1 target).

    Parameters
    ----------
    y_true, y_pred : (n, 1) 0/1 arrays (one label column); with several columns, the
        mean of their F1s.
    """
    return _POSITIVE_F1.value(y_true, y_pred)


def mcc(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Matthews correlation coefficient of (n, 1) 0/1 decisions (0 when a margin is empty)."""
    return _MCC.value(y_true, y_pred)


def binary_macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Macro-F1 of a binary problem: the mean F1 of class 1 and class 0, (n, 1) 0/1 arrays."""
    return _BOTH_CLASSES_F1.value(y_true, y_pred)


# --- metrics on probabilities ---


def _average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n down each column of (n, L) ``x``; tied values share their mean rank."""
    n, n_cols = x.shape
    order = np.argsort(x, axis=0, kind="stable")
    ranked = np.take_along_axis(x, order, axis=0)
    position = np.broadcast_to(np.arange(n)[:, None], x.shape)
    differs = ranked[1:] != ranked[:-1]
    edge = np.ones((1, n_cols), dtype=bool)
    first = np.maximum.accumulate(np.where(np.vstack([edge, differs]), position, 0), axis=0)
    last = np.minimum.accumulate(np.where(np.vstack([differs, edge]), position, n)[::-1], axis=0)[::-1]
    ranks = np.empty(x.shape)
    np.put_along_axis(ranks, order, (first + last) / 2.0 + 1.0, axis=0)
    return ranks


def roc_auc(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """Mean column-wise ROC AUC of scores (each label's Mann-Whitney U; ties count half).

    Parameters
    ----------
    y_true : (n, L) 0/1 truth.
    y_score : (n, L) probabilities or any scores.

    A label column whose truth holds one class only has no AUC and is left out of the
    mean (scikit-learn's ``roc_auc_score`` raises instead). On single-label data this is
    the one-vs-rest macro AUC.

    Raises
    ------
    FoldwiseError
        When no label column holds both classes.
    """
    y_true, y_score = _same_shape(y_true, y_score, dtype=np.float64)
    positives = y_true.sum(axis=0)
    negatives = len(y_true) - positives
    scored = (positives > 0) & (negatives > 0)
    if not scored.any():
        raise FoldwiseError("roc_auc is undefined: no label column has both positive and negative rows")
    rank_sum = np.where(y_true, _average_ranks(y_score), 0.0).sum(axis=0)
    auc = (rank_sum - positives * (positives + 1) / 2.0) / np.maximum(positives * negatives, 1)
    return float(auc[scored].mean())


def binary_log_loss(y_true: np.ndarray, y_prob: np.ndarray) -> float:
    """Multi-label log loss: the mean over label columns of each column's binary log loss.

    Parameters
    ----------
    y_true : (n, L) 0/1 truth.
    y_prob : (n, L) probabilities, clipped to [EPS, 1 - EPS].
    """
    y_true, y_prob = _same_shape(y_true, y_prob, dtype=np.float64)
    p = np.clip(y_prob, EPS, 1 - EPS)
    return float(-np.where(y_true, np.log(p), np.log1p(-p)).mean())


def categorical_log_loss(y_true: np.ndarray, y_prob: np.ndarray) -> float:
    """Single-label log loss: the mean over rows of -log p(true class).

    Parameters
    ----------
    y_true : (n, L) one-hot truth.
    y_prob : (n, L) probabilities; clipped to [EPS, 1 - EPS], then each row divided by
        its sum (Kaggle's rule for multi-class log loss).
    """
    y_true, y_prob = _same_shape(y_true, y_prob, dtype=np.float64)
    p = np.clip(y_prob, EPS, 1 - EPS)
    p = p / p.sum(axis=1, keepdims=True)
    return float(-np.where(y_true, np.log(p), 0.0).sum(axis=1).mean())


def per_label_scores(name: str, task: str, y_true: np.ndarray, y_prob: np.ndarray) -> np.ndarray:
    """Each label's share of a metric scored on probabilities (``roc_auc``, ``log_loss``).

    Parameters
    ----------
    name : "roc_auc" or "log_loss".
    task : "multilabel", "multiclass" or "binary".
    y_true : (n, L) 0/1 truth.
    y_prob : (n, L) probabilities.

    Returns
    -------
    (L,) float: each column's ROC AUC (NaN where the column holds one class only), each
    column's binary log loss, or on single-label data each class's mean ``-log p(true class)``
    over its own rows (NaN for a class without rows; the metric is their row-weighted mean).
    """
    y_true, y_prob = _same_shape(y_true, y_prob, dtype=np.float64)
    columns = range(y_true.shape[1])
    if name == "roc_auc":
        return np.array(
            [
                roc_auc(y_true[:, [j]], y_prob[:, [j]]) if 0 < y_true[:, j].sum() < len(y_true) else np.nan
                for j in columns
            ]
        )
    if name != "log_loss":
        raise ValueError(f"per_label_scores: {name} is not a metric scored on probabilities")
    if task != "multiclass":
        return np.array([binary_log_loss(y_true[:, [j]], y_prob[:, [j]]) for j in columns])
    p = np.clip(y_prob, EPS, 1 - EPS)
    row_loss = -np.log((p / p.sum(axis=1, keepdims=True))[y_true.astype(bool)])
    true_class = y_true.argmax(axis=1)
    return np.array([row_loss[true_class == j].mean() if (true_class == j).any() else np.nan for j in columns])


# --- metrics on numbers (regression, ordinal scores) ---


def _numbers(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both arrays as (n, K) float64, shapes checked (a (n,) vector is one column)."""
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"shape mismatch: y_true {y_true.shape} vs y_pred {y_pred.shape}")
    return (y_true[:, None], y_pred[:, None]) if y_true.ndim == 1 else (y_true, y_pred)


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Root mean squared error over every (row, target) cell."""
    y_true, y_pred = _numbers(y_true, y_pred)
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


def mcrmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean column-wise RMSE: each target column's RMSE, averaged (Feedback Prize - ELL)."""
    y_true, y_pred = _numbers(y_true, y_pred)
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2, axis=0)).mean())


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean absolute error over every (row, target) cell."""
    y_true, y_pred = _numbers(y_true, y_pred)
    return float(np.mean(np.abs(y_true - y_pred)))


def _column_correlations(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """(K,) Pearson correlation of each column pair; 0 where the predictions are constant (a
    constant truth is refused when the data loads: its correlation is undefined)."""
    t = y_true - y_true.mean(axis=0)
    p = y_pred - y_pred.mean(axis=0)
    denom = np.sqrt((t**2).sum(axis=0) * (p**2).sum(axis=0))
    return np.where(denom > 0, (t * p).sum(axis=0) / np.where(denom > 0, denom, 1.0), 0.0)


def pearson(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Pearson correlation (several targets: the mean over columns); constant predictions score 0."""
    return float(_column_correlations(*_numbers(y_true, y_pred)).mean())


def spearman(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Spearman rank correlation: Pearson of the average ranks (ties share theirs), per column, averaged."""
    y_true, y_pred = _numbers(y_true, y_pred)
    return float(_column_correlations(_average_ranks(y_true), _average_ranks(y_pred)).mean())


def quadratic_weighted_kappa(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Quadratic weighted kappa of integer scores (several targets: the mean over columns).

    Each column's levels are the values seen in its truth and predictions together (as
    scikit-learn's ``cohen_kappa_score(weights="quadratic")``); 1 - sum(w * observed) /
    sum(w * expected) with w the squared level distance; a column where truth and
    predictions agree on one value scores 1.
    """
    y_true, y_pred = _numbers(y_true, y_pred)
    return float(np.mean([_kappa(y_true[:, j], y_pred[:, j]) for j in range(y_true.shape[1])]))


def _kappa(truth: np.ndarray, pred: np.ndarray) -> float:
    levels, codes = np.unique(np.concatenate([truth, pred]), return_inverse=True)
    n, m = len(truth), len(levels)
    observed = np.bincount(codes[:n] * m + codes[n:], minlength=m * m).reshape(m, m).astype(np.float64)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / max(n, 1)
    weights = (np.arange(m)[:, None] - np.arange(m)[None, :]) ** 2
    denom = (weights * expected).sum()
    return 1.0 if denom == 0 else float(1.0 - (weights * observed).sum() / denom)


def exact_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Share of rows whose every target is predicted exactly (integer scores)."""
    y_true, y_pred = _numbers(y_true, y_pred)
    return float((y_true == y_pred).all(axis=1).mean())


# --- the registry ---

ScoreFn = Callable[[np.ndarray, np.ndarray], float]


@dataclass(frozen=True)
class Score:
    """A score as reports print it: its name, title and scale.

    Attributes
    ----------
    name : its key in scores, records and ``data.metric``.
    title : its name in printed tables and plots: "macro-F1", "jaccard", "log-loss", ...
    hundred : on the published 0-100 scale (SQuAD, ROUGE): printed with 2 decimals;
        0-1 scores with 4.
    short_title : its title in a text task's own tables, where the competition is known
        ("F1" for SQuAD F1); None: ``title``.
    """

    name: str
    title: str
    hundred: bool = False
    short_title: str | None = None

    def shown(self, value: float) -> str:
        """A value of this score as printed: 2 decimals on the 0-100 scale, else 4."""
        return f"{value:.2f}" if self.hundred else f"{value:.4f}"


#: the secondary scores each task reports beside any of its classification metrics
CLASSIFICATION_SECONDARY = (
    ("multiclass", ("accuracy", "macro_f1")),
    ("multilabel", ("macro_f1", "micro_f1", "accuracy")),
    ("binary", ("f1", "accuracy", "mcc")),
)


@dataclass(frozen=True, kw_only=True)
class Metric(Score):
    """A competition metric and what the kit needs to know to optimise and report it.

    Attributes
    ----------
    name, title, hundred, short_title : as a :class:`Score` (how reports print it).
    fn : (y_true (n, L) 0/1, y_pred (n, L)) -> float, where y_pred holds 0/1 decisions,
        or probabilities when ``needs_decision`` is False.
    greater_is_better : False for losses.
    needs_decision : False: scored on probabilities, which are submitted as they are.
    per_label : the mean over labels of each label's F1 (or of a rising function of
        it), so each label's F1-optimal cut optimises it exactly (macro-F1).
    tasks : the tasks it fits ("multilabel", "multiclass", "binary", "span", "generation",
        "regression", "ordinal").
    secondary : (task, score names) pairs: the scores reported beside it on that task's data.
    counts : the metric as a :class:`CountForm`; None for metrics on probabilities.
    task_fns : (task, fn, counts) triples for tasks on which it is computed differently
        (log loss is categorical on single-label data, macro-F1 of a binary task averages
        both classes); :meth:`for_task` picks the one to use.
    calibrated : a metric on probabilities that calibration can improve (log loss), so a
        temperature or Platt scaling is fit on OOF for it; a rank metric (ROC AUC) is not.
    lowest : the lowest score it can give (0 for F1s, accuracy, AUC, losses; -1 for MCC and
        correlations): ``foldwise lb`` refuses a leaderboard score below it as a typo.
    levels : on numbers, it scores integer levels (QWK, accuracy): the targets must be integers and
        the decision is a set of cut points fit on OOF (an ordinal task).
    """

    fn: ScoreFn
    greater_is_better: bool = True
    needs_decision: bool = True
    per_label: bool = False
    tasks: tuple[str, ...] = ("multilabel", "multiclass")
    secondary: tuple[tuple[str, tuple[str, ...]], ...] = CLASSIFICATION_SECONDARY
    counts: CountForm | None = None
    task_fns: tuple[tuple[str, ScoreFn, CountForm | None], ...] = ()
    calibrated: bool = False
    lowest: float = 0.0
    levels: bool = False

    def score(self, y_true: Any, y_pred: np.ndarray) -> float:
        """The metric's value (raw: a loss stays a loss); ``y_true`` is the task's truth (a 0/1
        matrix, or a text task's truth object)."""
        return float(self.fn(y_true, y_pred))

    def objective(self, y_true: Any, y_pred: np.ndarray) -> float:
        """The value to maximise: the score, negated when lower is better."""
        value = self.score(y_true, y_pred)
        return value if self.greater_is_better else -value

    def improves(self, new: float, old: float) -> bool:
        """Whether the value ``new`` is better than ``old`` (lower for a loss)."""
        return new > old if self.greater_is_better else new < old

    def from_objective(self, objective: float) -> float:
        """The metric's value back from :meth:`objective`'s (a loss un-negated)."""
        return objective if self.greater_is_better else -objective

    def secondary_for(self, task: str) -> tuple[str, ...]:
        """The names of the scores reported beside this metric on ``task`` data."""
        return dict(self.secondary).get(task, ())

    def fit_problem(self, task: str, reason: str | None = None) -> str | None:
        """Why this metric cannot score ``task`` data, worded as the problem of key
        ``data.metric`` (None when it fits); ``reason`` says why the task is ``task``."""
        if task in self.tasks:
            return None
        why = f"task {task}: {reason}; " if reason else ""
        return f"is {self.name!r}, which does not fit {task} data ({why}it fits: {', '.join(self.tasks)})"

    def for_task(self, task: str, reason: str | None = None) -> Metric:
        """This metric as computed on ``task`` data; FoldwiseError (naming ``data.metric``)
        if it does not fit."""
        problem = self.fit_problem(task, reason)
        if problem:
            raise FoldwiseError(f"key 'data.metric' {problem}")
        for name, fn, counts in self.task_fns:
            if name == task:
                return replace(
                    self, fn=fn, counts=counts or self.counts, per_label=self.per_label and counts is None, task_fns=()
                )
        return replace(self, task_fns=())


_ALL_TASKS = ("multilabel", "multiclass", "binary")
_TEXT_TASKS = ("span", "generation")
#: the tasks whose predictions are numbers: regression, and ordinal scores (integer levels)
_NUMBER_TASKS = ("regression", "ordinal")


def _numbers_secondary(*names: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The same secondary scores on regression and ordinal data."""
    return tuple((task, names) for task in _NUMBER_TASKS)


METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in (
        Metric(
            "macro_f1",
            "macro-F1",
            fn=macro_f1,
            per_label=True,
            counts=CountForm("labels", f1_from_counts),
            tasks=_ALL_TASKS,
            task_fns=(("binary", binary_macro_f1, _BOTH_CLASSES_F1),),
        ),
        Metric("micro_f1", "micro-F1", fn=micro_f1, counts=CountForm("all", f1_from_counts)),
        Metric("samples_f1", "samples-F1", fn=samples_f1, tasks=("multilabel",), counts=_ROW_F1),
        Metric("jaccard", "jaccard", fn=jaccard, tasks=("multilabel",), counts=_ROW_JACCARD),
        Metric(
            "accuracy",
            "accuracy",
            fn=accuracy,
            tasks=("multiclass", "binary", *_NUMBER_TASKS),
            counts=CountForm("rows", exact_match_from_counts),
            levels=True,
            secondary=(*CLASSIFICATION_SECONDARY, *_numbers_secondary("qwk", "pearson")),
            task_fns=tuple((task, exact_accuracy, None) for task in _NUMBER_TASKS),
        ),
        Metric("f1", "F1", fn=f1, per_label=True, tasks=("binary",), counts=_POSITIVE_F1),
        Metric("mcc", "MCC", fn=mcc, tasks=("binary",), counts=_MCC, lowest=-1.0),
        Metric("roc_auc", "ROC AUC", fn=roc_auc, needs_decision=False, tasks=_ALL_TASKS),
        Metric(
            "log_loss",
            "log-loss",
            fn=binary_log_loss,
            greater_is_better=False,
            needs_decision=False,
            tasks=_ALL_TASKS,
            calibrated=True,
            task_fns=(("multiclass", categorical_log_loss, None),),
        ),
        Metric(
            "squad",
            "SQuAD F1",
            hundred=True,
            short_title="F1",
            fn=squad_f1,
            tasks=_TEXT_TASKS,
            secondary=tuple((task, ("exact_match",)) for task in _TEXT_TASKS),
        ),
        Metric(
            "rouge",
            "ROUGE-1",
            hundred=True,
            fn=rouge1_score,
            tasks=("generation",),
            secondary=(("generation", ("rouge2", "rougeL", "rougeLsum")),),
        ),
        Metric("word_jaccard", "word Jaccard", fn=word_jaccard_score, tasks=("span",), secondary=()),
        Metric(
            "rmse",
            "RMSE",
            fn=rmse,
            greater_is_better=False,
            tasks=_NUMBER_TASKS,
            secondary=_numbers_secondary("mae", "pearson"),
        ),
        Metric(
            "mcrmse",
            "MCRMSE",
            fn=mcrmse,
            greater_is_better=False,
            tasks=_NUMBER_TASKS,
            secondary=_numbers_secondary("rmse", "pearson"),
        ),
        Metric(
            "mae",
            "MAE",
            fn=mae,
            greater_is_better=False,
            tasks=_NUMBER_TASKS,
            secondary=_numbers_secondary("rmse", "pearson"),
        ),
        Metric(
            "pearson",
            "Pearson",
            fn=pearson,
            tasks=_NUMBER_TASKS,
            secondary=_numbers_secondary("spearman", "rmse"),
            lowest=-1.0,
        ),
        Metric(
            "spearman",
            "Spearman",
            fn=spearman,
            tasks=_NUMBER_TASKS,
            secondary=_numbers_secondary("pearson", "rmse"),
            lowest=-1.0,
        ),
        Metric(
            "qwk",
            "QWK",
            fn=quadratic_weighted_kappa,
            tasks=_NUMBER_TASKS,
            levels=True,
            secondary=_numbers_secondary("pearson", "accuracy"),
            lowest=-1.0,
        ),
    )
}

#: every score reports print by name: the metrics, then the secondary scores that are no
#: competition metric (and the names ``squad_f1``, ``rouge1`` that text scorers give the metrics)
SCORES: dict[str, Score] = {
    **METRICS,
    **{
        score.name: score
        for score in (
            Score("squad_f1", "SQuAD F1", hundred=True, short_title="F1"),
            Score("exact_match", "exact match", hundred=True),
            Score("rouge1", "ROUGE-1", hundred=True),
            Score("rouge2", "ROUGE-2", hundred=True),
            Score("rougeL", "ROUGE-L", hundred=True),
            Score("rougeLsum", "ROUGE-Lsum", hundred=True),
        )
    },
}


def score_title(name: str) -> str:
    """How reports write a score's name ("macro-F1", "exact match"); an unknown name as it is."""
    return SCORES[name].title if name in SCORES else name


def short_title(name: str) -> str:
    """A score's name in a text task's own tables ("F1" for SQuAD F1), else its :func:`score_title`."""
    return (SCORES[name].short_title or SCORES[name].title) if name in SCORES else name


def shown_score(name: str, value: float) -> str:
    """A score as printed: 0-100 scores (SQuAD, ROUGE) with 2 decimals, 0-1 scores (word Jaccard) with 4."""
    return SCORES[name].shown(value) if name in SCORES else f"{value:.4f}"


def metric_choices() -> str:
    """``data.metric``'s help: every metric in ``METRICS`` with the tasks it fits, metrics
    that fit the same tasks grouped ("f1, mcc (binary)")."""
    groups: list[tuple[tuple[str, ...], list[str]]] = []
    for metric in METRICS.values():
        if groups and groups[-1][0] == metric.tasks:
            groups[-1][1].append(metric.name)
        else:
            groups.append((metric.tasks, [metric.name]))
    return "the competition metric: " + "; ".join(f"{', '.join(names)} ({', '.join(tasks)})" for tasks, names in groups)


#: metrics that average over classes: on a 2-class multiclass task they are not the F1 of the
#: positive class that Kaggle's binary competitions score (see :func:`two_class_hint`)
CLASS_AVERAGED = ("macro_f1", "micro_f1")


def two_class_hint(name: str, task: str, n_labels: int) -> str | None:
    """A one-line hint when two classes are scored by a class-averaged metric (a 2-class
    multiclass task, or a binary one left at the default macro-F1)."""
    if name not in CLASS_AVERAGED or not (task == "binary" or (task == "multiclass" and n_labels == 2)):
        return None
    data = "binary" if task == "binary" else "2-class multiclass"
    return (
        f"note: {score_title(name)} on {data} data averages over both classes; a Kaggle 0/1 target "
        "scored by F1 is `task: binary` with `metric: f1` (F1 of the positive class)"
    )


def metric_problem(name: str, task: str | None = None, reason: str | None = None) -> str | None:
    """Why ``data.metric`` ``name`` cannot score ``task`` data, as the problem of that key
    (None when it can): an unknown name (the known ones listed), or a metric that does not
    fit the task. ``task`` None: only the name is checked (``data.task: auto``, not yet
    resolved); ``reason``: why the task is ``task``. The one check that config loading,
    :func:`foldwise.tasks.task_for` and :func:`get_metric` all make."""
    if name not in METRICS:
        return f"is {name!r}, not a known metric (known: {', '.join(sorted(METRICS))})"
    return None if task is None else METRICS[name].fit_problem(task, reason)


def get_metric(name: str, task: str, reason: str | None = None) -> Metric:
    """The registered metric ``name``, as computed on ``task`` data.

    Parameters
    ----------
    name : a key of ``METRICS`` (``data.metric``).
    task : "multilabel", "multiclass", "binary", "span" or "generation".
    reason : why the task is ``task`` (said when the metric does not fit it).

    Raises
    ------
    FoldwiseError
        One line naming ``data.metric`` (:func:`metric_problem`): an unknown name, or a
        metric that does not fit the task (accuracy on multi-label data,
        samples_f1/jaccard on single-label, f1/mcc on anything but binary).
    """
    problem = metric_problem(name)
    if problem:
        raise FoldwiseError(f"key 'data.metric' {problem}")
    return METRICS[name].for_task(task, reason)


def _data_metric_problems(cfg: DataConfig) -> list[tuple[str, str]]:
    """``data.metric`` against ``data.task`` (``auto``: against every task), as config checks report it."""
    problem = metric_problem(cfg.metric, None if cfg.task == "auto" else cfg.task)
    return [("metric", problem)] if problem else []


DATA_CHECKS.append(_data_metric_problems)
GENERATED_HELP["data.metric"] = metric_choices
