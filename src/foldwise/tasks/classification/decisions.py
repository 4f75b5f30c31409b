"""Decision rules fit on out-of-fold probabilities for a competition metric.

Each decider is a scikit-learn-style estimator: ``fit(probs, y)`` learns on OOF
probabilities, ``predict(probs)`` decides; learned state sits in attributes ending in
``_``. :func:`make_decider` picks the rule for a metric and a task:

* multi-label, metric on decisions: per-label cuts (:class:`CutDecider`). Macro-F1 is
  a mean of independent per-label F1s, so each label's exact F1-optimal cut
  (:func:`foldwise.tasks.classification.thresholds.best_cut`) maximises it. Other metrics couple the labels;
  their cuts start from the best global cut and climb label by label (coordinate
  ascent), each step exact: the metric is a mean of a score of group counts
  (:class:`foldwise.tasks.metrics.CountForm`), so sorting one label's scores and adding the
  count changes one row at a time reads the metric at every cut in O(n log n);
* single-label: argmax, optionally with a per-class bias on log probabilities
  (:class:`ArgmaxDecider`), each bias step exact in the same way;
* binary (one 0/1 column): one cut, searched exactly for the metric (F1, MCC, accuracy, ...);
* metrics on probabilities: no decision; log loss gets the probabilities calibrated on OOF
  (:class:`CalibratedDecider`), roc_auc gets them as they are (:class:`ProbabilityDecider`).
"""

from __future__ import annotations

import numpy as np

from ...errors import FoldwiseError
from ..metrics import EPS, CountForm, Metric, group_counts, group_sizes
from .calibration import PlattScaling, TemperatureScaling, calibrator_for
from .thresholds import best_cut, best_global_cut

MODES = ("auto", "per_class", "global", "fixed")
#: a step must raise the metric by more than this (float noise must not loop for ever)
TOLERANCE = 1e-12


# --- exact sweeps: the metric after each of a sequence of changes, from counts ---


def _cell_groups(over: str, shape: tuple[int, int]) -> np.ndarray:
    """(n, L) index of the count-form group each cell belongs to."""
    n, n_labels = shape
    ids = {
        "rows": np.arange(n)[:, None],
        "labels": np.arange(n_labels)[None, :],
        "all": np.zeros((1, 1), dtype=np.int64),
    }[over]
    return np.broadcast_to(ids, shape)


def _earlier_in_group(groups: np.ndarray, *values: np.ndarray) -> list[np.ndarray]:
    """For each position, the sum of ``values`` at earlier positions of the same group.

    ``groups`` holds non-negative group indices; the sums follow the positions' order.
    """
    if np.bincount(groups).max() == 1:  # one change per group (a label's sweep over rows)
        return [np.zeros_like(v) for v in values]
    order = np.argsort(groups, kind="stable")
    grouped = groups[order]
    starts = np.r_[True, grouped[1:] != grouped[:-1]]
    start_of = np.flatnonzero(starts)[np.cumsum(starts) - 1]
    sums = []
    for v in values:
        before = np.cumsum(v[order]) - v[order]
        out = np.empty_like(before)
        out[order] = before - before[start_of]
        sums.append(out)
    return sums


def _sweep(
    form: CountForm,
    counts: tuple[np.ndarray, ...],
    sizes: np.ndarray,
    groups: np.ndarray,
    d_tp: np.ndarray,
    d_pred: np.ndarray,
    event: np.ndarray | None = None,
) -> np.ndarray:
    """The metric before and after each event of a sequence of count changes.

    Parameters
    ----------
    form : the metric's count form.
    counts : (tp, predicted, positives), each (g,), of the starting decisions.
    sizes : (g,) cells in each group (for metrics that need the true negatives).
    groups, d_tp, d_pred : (c,) the group each change hits and what it adds to that
        group's true positives and predicted labels, in the order they happen.
    event : (c,) non-decreasing event of each change (several changes may make one
        event); None: each change is its own event.

    Returns
    -------
    (n_events + 1,) the metric (mean group score) at the start and after each event.
    """
    tp, predicted, positives = counts
    tp_before, pred_before = _earlier_in_group(groups, d_tp, d_pred)
    tp_before = tp_before + tp[groups]
    pred_before = pred_before + predicted[groups]
    pos, size = positives[groups], sizes[groups]
    gain = form.group_scores(tp_before + d_tp, pred_before + d_pred, pos, size) - form.group_scores(
        tp_before, pred_before, pos, size
    )
    if event is not None:
        gain = np.bincount(event, weights=gain)
    start = form.group_scores(tp, predicted, positives, sizes).sum()
    return (start + np.r_[0.0, np.cumsum(gain)]) / len(positives)


def _best_prefix(totals: np.ndarray, scores_desc: np.ndarray) -> int:
    """How many of the changes (sorted by descending score) to make for the best total.

    A cut cannot split tied scores, so only prefixes that end a run of ties count.
    The first best wins: the highest cut among equals.
    """
    ends = np.flatnonzero(np.r_[scores_desc[:-1] != scores_desc[1:], True]) + 1
    allowed = np.r_[0, ends]
    return int(allowed[np.argmax(totals[allowed])])


def _cut_after(scores_desc: np.ndarray, k: int) -> float:
    """A cut keeping the first ``k`` of the descending scores and none of the others."""
    if k == 0:
        return float(np.nextafter(scores_desc[0], np.inf))
    if k == len(scores_desc):
        return float(np.nextafter(scores_desc[-1], -np.inf))
    return float((scores_desc[k - 1] + scores_desc[k]) / 2.0)


def _counted(metric: Metric) -> CountForm:
    """The metric's count form, or a one-line error when it has none."""
    if metric.counts is None:
        raise FoldwiseError(
            f"metric {metric.name!r} has no count form: its decisions cannot be searched (use thresholds mode 'fixed')"
        )
    return metric.counts


def global_sweep(metric: Metric, probs: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The one cut shared by all labels that maximises ``metric``, exactly.

    Parameters
    ----------
    metric : a metric on decisions with a count form.
    probs : (n, L) scores; y : (n, L) 0/1 truth.

    Returns
    -------
    (cut, metric value at that cut)
    """
    form = _counted(metric)
    probs, y = np.asarray(probs, dtype=np.float64), np.asarray(y, dtype=bool)
    order = np.argsort(-probs, axis=None)
    scores = probs.ravel()[order]
    positives = group_counts(y, y, form.over)[2]
    nothing = np.zeros_like(positives)
    totals = _sweep(
        form,
        (nothing, nothing, positives),
        group_sizes(form.over, y.shape),
        _cell_groups(form.over, y.shape).ravel()[order],
        y.ravel()[order].astype(np.int64),
        np.ones(len(order), dtype=np.int64),
    )
    k = _best_prefix(totals, scores)
    return _cut_after(scores, k), float(totals[k])


def column_sweep(metric: Metric, probs: np.ndarray, y: np.ndarray, decided: np.ndarray, j: int) -> tuple[float, float]:
    """The cut of label ``j`` that maximises ``metric`` while the other labels keep ``decided``.

    One exact coordinate-ascent step: label j's rows switch on in descending score
    order, and each switch changes the counts of one group (its row, label j, or the
    pooled counts), so the metric at every cut comes from one cumulative sum.

    Parameters
    ----------
    metric : a metric on decisions with a count form.
    probs : (n, L) scores; y : (n, L) 0/1 truth; decided : (n, L) current decisions.
    j : the label column that moves.

    Returns
    -------
    (cut, metric value with label j cut there)
    """
    form = _counted(metric)
    probs, y = np.asarray(probs, dtype=np.float64), np.asarray(y, dtype=bool)
    others = np.array(decided, dtype=bool)
    others[:, j] = False
    order = np.argsort(-probs[:, j])
    scores = probs[order, j]
    totals = _sweep(
        form,
        group_counts(y, others, form.over),
        group_sizes(form.over, y.shape),
        _cell_groups(form.over, y.shape)[order, j],
        y[order, j].astype(np.int64),
        np.ones(len(order), dtype=np.int64),
    )
    k = _best_prefix(totals, scores)
    return _cut_after(scores, k), float(totals[k])


def _log_probs(probs: np.ndarray) -> np.ndarray:
    return np.log(np.clip(np.asarray(probs, dtype=np.float64), EPS, 1.0))


def _argmax_one_hot(scores: np.ndarray) -> np.ndarray:
    """(n, L) bool: each row's highest score."""
    decided = np.zeros(scores.shape, dtype=bool)
    decided[np.arange(len(scores)), scores.argmax(axis=1)] = True
    return decided


def bias_sweep(metric: Metric, log_probs: np.ndarray, y: np.ndarray, bias: np.ndarray, j: int) -> tuple[float, float]:
    """The bias of class ``j`` that maximises ``metric`` of argmax(log_probs + bias), exactly.

    Row i turns to class j once j's bias passes ``d_i`` (the gap between the row's best
    other class and class j); each such switch turns one cell on and one off, so the
    metric at every bias comes from one cumulative sum over rows sorted by ``d``.

    Parameters
    ----------
    metric : a metric on decisions with a count form.
    log_probs : (n, L) log probabilities; y : (n, L) one-hot truth.
    bias : (L,) the current biases (class j's is ignored).
    j : the class whose bias moves.

    Returns
    -------
    (bias of class j, metric value with it)
    """
    form = _counted(metric)
    y = np.asarray(y, dtype=bool)
    rows = np.arange(len(y))
    others = log_probs + bias
    others[:, j] = -np.inf
    previous = others.argmax(axis=1)
    gap = others[rows, previous] - log_probs[:, j]
    order = np.argsort(gap)
    cell_groups = _cell_groups(form.over, y.shape)
    switched_on = (cell_groups[order, j], y[order, j].astype(np.int64), np.ones(len(order), dtype=np.int64))
    switched_off = (
        cell_groups[order, previous[order]],
        -y[order, previous[order]].astype(np.int64),
        -np.ones(len(order), dtype=np.int64),
    )
    groups, d_tp, d_pred = (np.column_stack(pair).ravel() for pair in zip(switched_on, switched_off))
    start = group_counts(y, _argmax_one_hot(others), form.over)
    totals = _sweep(
        form, start, group_sizes(form.over, y.shape), groups, d_tp, d_pred, event=np.repeat(np.arange(len(order)), 2)
    )
    k = _best_prefix(totals, -gap[order])
    return -_cut_after(-gap[order], k), float(totals[k])


# --- deciders ---


class Decider:
    """The interface every decider shares.

    Attributes
    ----------
    thresholds_ : (L,) cuts, or None for rules without cuts.
    bias_ : (L,) per-class bias on log probabilities (argmax rules), else None.
    at_least_one_ : whether an empty row gets its label closest to its cut.
    train_score_ : the metric on the data the decider was fit on.
    """

    #: how the rule decides, as recorded in ``thresholds.json``: "cuts", "argmax" or "probabilities"
    kind = "probabilities"
    thresholds_: np.ndarray | None = None
    bias_: np.ndarray | None = None
    at_least_one_ = False

    def __init__(self, metric: Metric):
        self.metric = metric

    @property
    def learns(self) -> bool:
        """Whether fitting learns anything from the data (else in-sample = cross-fitted)."""
        return False

    def fit(self, probs: np.ndarray, y: np.ndarray) -> Decider:
        """Learn from (n, L) OOF probabilities and 0/1 truth; returns self."""
        self._fit(np.asarray(probs, dtype=np.float64), np.asarray(y, dtype=bool))
        self.train_score_ = self.metric.score(y, self.predict(probs))
        return self

    def _fit(self, probs: np.ndarray, y: np.ndarray) -> None:
        """Set the learned attributes (nothing to learn by default)."""

    def predict(self, probs: np.ndarray) -> np.ndarray:
        """(n, L) decisions for (n, L) probabilities."""
        raise NotImplementedError


class ProbabilityDecider(Decider):
    """No decision: metrics scored on probabilities (roc_auc, log_loss) get them as they are."""

    def predict(self, probs: np.ndarray) -> np.ndarray:
        """The probabilities, unchanged."""
        return np.asarray(probs)


class CalibratedDecider(Decider):
    """Metrics on probabilities that calibration improves (log loss): the probabilities are
    calibrated on OOF (:mod:`foldwise.tasks.classification.calibration`), one temperature for single-label data,
    Platt scaling per label otherwise.

    Parameters
    ----------
    calibrator : an unfitted :class:`~foldwise.tasks.classification.calibration.TemperatureScaling` or
        :class:`~foldwise.tasks.classification.calibration.PlattScaling`
        (:func:`~foldwise.tasks.classification.calibration.calibrator_for`).

    Attributes
    ----------
    calibrator_ : the calibrator, fitted.
    """

    kind = "calibrated"

    def __init__(self, metric: Metric, calibrator: TemperatureScaling | PlattScaling):
        super().__init__(metric)
        self.calibrator = calibrator

    @property
    def learns(self) -> bool:
        """The calibration is fit on the data."""
        return True

    def _fit(self, probs: np.ndarray, y: np.ndarray) -> None:
        self.calibrator_ = self.calibrator.fit(probs, y)

    def predict(self, probs: np.ndarray) -> np.ndarray:
        """(n, L) calibrated probabilities."""
        return self.calibrator_.predict(probs)

    def calibration_record(self, label_names: list[str]) -> dict:
        """``{"temperature": T}`` or ``{"platt": {label: [a, b]}}`` for ``thresholds.json``."""
        if isinstance(self.calibrator_, TemperatureScaling):
            return {"temperature": self.calibrator_.temperature_}
        return {"platt": {name: [float(a), float(b)] for name, (a, b) in zip(label_names, self.calibrator_.coef_)}}


def _fill_empty_rows(decided: np.ndarray, probs: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Give each row with no label its label closest to (or furthest above) its cut."""
    empty = np.flatnonzero(~decided.any(axis=1))
    decided[empty, (probs[empty] - cuts).argmax(axis=1)] = True
    return decided


class CutDecider(Decider):
    """Multi-label decisions: a label is on where its probability reaches its cut.

    Parameters
    ----------
    metric : the metric the cuts maximise on the data they are fit on.
    mode : "per_class" (a cut per label, searched for the metric), "global" (one cut
        maximising the metric) or "fixed" (``value`` for every label: the untuned rule).
    value : the cut of mode "fixed".
    at_least_one : None: keep the "at least one label per row" rule only if it raises
        the metric on the fit data ("fixed" learns nothing, so None means no rule
        there); True/False force it.
    max_rounds : coordinate-ascent rounds at most (it stops when no label improves).

    Attributes
    ----------
    thresholds_ : (L,) cuts; at_least_one_ : bool; train_score_ : float.
    """

    kind = "cuts"
    thresholds_: np.ndarray  # set by fit (None before, from the base class)

    def __init__(
        self,
        metric: Metric,
        mode: str = "per_class",
        value: float = 0.5,
        at_least_one: bool | None = None,
        max_rounds: int = 10,
    ):
        super().__init__(metric)
        self.mode = mode
        self.value = value
        self.at_least_one = at_least_one
        self.max_rounds = max_rounds

    @property
    def learns(self) -> bool:
        """Cuts searched on the data (modes per_class and global), or the at-least-one rule chosen there."""
        return self.mode != "fixed"

    def _fit(self, probs: np.ndarray, y: np.ndarray) -> None:
        self.thresholds_ = self._fit_cuts(probs, y)
        self.at_least_one_ = self._choose_at_least_one(probs, y)

    def _fit_cuts(self, probs: np.ndarray, y: np.ndarray) -> np.ndarray:
        """(L,) cuts for the mode and metric."""
        n_labels = probs.shape[1]
        if self.mode == "fixed":
            return np.full(n_labels, float(self.value))
        if self.metric.per_label:
            if self.mode == "global":
                return np.full(n_labels, best_global_cut(probs, y)[0])
            return np.array([best_cut(probs[:, j], y[:, j])[0] for j in range(n_labels)])
        cuts = np.full(n_labels, global_sweep(self.metric, probs, y)[0])
        return cuts if self.mode == "global" else self._climb(probs, y, cuts)

    def _climb(self, probs: np.ndarray, y: np.ndarray, cuts: np.ndarray) -> np.ndarray:
        """Coordinate ascent: move one label's cut at a time to its exact best."""
        form = _counted(self.metric)
        decided = probs >= cuts
        current = form.value(y, decided)
        for _ in range(self.max_rounds):
            improved = False
            for j in range(len(cuts)):
                cut, value = column_sweep(self.metric, probs, y, decided, j)
                if value > current + TOLERANCE:
                    cuts[j] = cut
                    decided[:, j] = probs[:, j] >= cut
                    current = form.value(y, decided)
                    improved = True
            if not improved:
                break
        return cuts

    def _choose_at_least_one(self, probs: np.ndarray, y: np.ndarray) -> bool:
        """The forced setting, or (None) whether the rule raises the metric on the fit data."""
        if self.at_least_one is not None:
            return bool(self.at_least_one)
        if self.mode == "fixed":
            return False
        decided = probs >= self.thresholds_
        filled = _fill_empty_rows(decided.copy(), probs, self.thresholds_)
        return self.metric.objective(y, filled) > self.metric.objective(y, decided) + TOLERANCE

    def predict(self, probs: np.ndarray) -> np.ndarray:
        """(n, L) uint8 decisions from the fitted cuts (and the at-least-one rule)."""
        probs = np.asarray(probs, dtype=np.float64)
        decided = probs >= self.thresholds_
        if self.at_least_one_:
            decided = _fill_empty_rows(decided, probs, self.thresholds_)
        return decided.astype(np.uint8)


class ArgmaxDecider(Decider):
    """Single-label decisions: each row's most probable class, optionally after a bias.

    Parameters
    ----------
    metric : the metric the bias maximises.
    class_bias : fit a per-class additive bias on log probabilities by coordinate
        ascent on the fit data, kept only if it raises the metric there.
    max_rounds : coordinate-ascent rounds at most.

    Attributes
    ----------
    bias_ : (L,) the bias (zeros without class_bias); thresholds_ : None;
    train_score_ : float.
    """

    kind = "argmax"

    def __init__(self, metric: Metric, class_bias: bool = False, max_rounds: int = 10):
        super().__init__(metric)
        self.class_bias = class_bias
        self.max_rounds = max_rounds

    @property
    def learns(self) -> bool:
        """Only the per-class bias is learnt."""
        return self.class_bias

    def _fit(self, probs: np.ndarray, y: np.ndarray) -> None:
        self.bias_ = np.zeros(probs.shape[1])
        if self.class_bias:
            log_probs = _log_probs(probs)
            plain = self.metric.objective(y, _argmax_one_hot(log_probs))
            bias = self._climb(log_probs, y)
            if self.metric.objective(y, _argmax_one_hot(log_probs + bias)) > plain + TOLERANCE:
                self.bias_ = bias

    def _climb(self, log_probs: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Coordinate ascent: move one class's bias at a time to its exact best."""
        bias = np.zeros(log_probs.shape[1])
        form = _counted(self.metric)
        current = form.value(y, _argmax_one_hot(log_probs))
        for _ in range(self.max_rounds):
            improved = False
            for j in range(len(bias)):
                moved, value = bias_sweep(self.metric, log_probs, y, bias, j)
                if value > current + TOLERANCE:
                    bias[j] = moved
                    current = form.value(y, _argmax_one_hot(log_probs + bias))
                    improved = True
            if not improved:
                break
        return bias

    def predict(self, probs: np.ndarray) -> np.ndarray:
        """(n, L) uint8 one-hot decisions: argmax of log probabilities plus the bias."""
        return _argmax_one_hot(_log_probs(probs) + self.bias_).astype(np.uint8)


def make_decider(
    metric: Metric,
    task: str,
    mode: str = "auto",
    value: float = 0.5,
    at_least_one: bool | None = None,
    class_bias: bool = False,
) -> Decider:
    """The unfitted decision rule that maximises ``metric`` for ``task``.

    Parameters
    ----------
    metric : from :func:`foldwise.tasks.metrics.get_metric`.
    task : "multilabel", "multiclass" or "binary".
    mode : "auto" (per-class cuts for multi-label, one cut for binary, argmax for
        single-label), "per_class", "global" or "fixed" (``value`` for every label; argmax
        for single-label: the untuned baseline). Single-label data always get argmax; only
        "fixed" there turns ``class_bias`` off. Metrics on probabilities get them
        calibrated on OOF where calibration can help (log loss), raw with "fixed".
    value : the cut of mode "fixed".
    at_least_one : see :class:`CutDecider`.
    class_bias : single-label only: fit a per-class bias on OOF (see :class:`ArgmaxDecider`).

    Raises
    ------
    FoldwiseError
        An unknown mode, a metric that does not fit the task, or a search asked of a
        metric without a count form.
    """
    if mode not in MODES:
        raise FoldwiseError(f"unknown decision mode {mode!r} (known: {', '.join(MODES)})")
    metric = metric.for_task(task)
    tuned = mode != "fixed"
    if not metric.needs_decision:
        if tuned and metric.calibrated:
            return CalibratedDecider(metric, calibrator_for(task))
        return ProbabilityDecider(metric)
    if task == "binary":  # one column: one cut, searched exactly for any metric with a count form
        at_least_one = False
    if task == "multiclass":
        if tuned and class_bias:
            _counted(metric)
        return ArgmaxDecider(metric, class_bias=tuned and class_bias)
    if tuned and not metric.per_label:
        _counted(metric)
    return CutDecider(metric, mode="per_class" if mode == "auto" else mode, value=value, at_least_one=at_least_one)


# --- the fitted decider as a record (``thresholds.json``) and back ---


def decider_record(decider: Decider, label_names: list[str]) -> dict:
    """A fitted decider as plain data: what ``thresholds.json`` holds and ``predict`` loads back.

    Keys: ``kind`` ("cuts", "argmax" or "probabilities"), ``metric``, ``mode`` (cuts only),
    ``thresholds`` (label -> cut, or None), ``bias`` (label -> bias on log probabilities,
    or None) and ``at_least_one``.
    """

    def by_label(values: np.ndarray | None) -> dict[str, float] | None:
        return None if values is None else dict(zip(label_names, map(float, values)))

    record = {
        "kind": decider.kind,
        "metric": decider.metric.name,
        "mode": getattr(decider, "mode", None),
        "thresholds": by_label(decider.thresholds_),
        "bias": by_label(decider.bias_),
        "at_least_one": bool(decider.at_least_one_),
    }
    if isinstance(decider, CalibratedDecider):
        record["calibration"] = decider.calibration_record(label_names)
    return record


def _values_by_label(record: dict, key: str, label_names: list[str], source: str) -> np.ndarray | None:
    """``record[key]`` (label -> number) as an (L,) array in ``label_names`` order, or None."""
    values = record.get(key)
    if values is None:
        return None
    if not isinstance(values, dict) or list(values) != list(label_names):
        raise FoldwiseError(f"{source}: '{key}' must map the run's {len(label_names)} labels, in order, to numbers")
    return np.asarray(list(values.values()), dtype=np.float64)


def decider_from_record(record: dict, metric: Metric, label_names: list[str], source: str) -> Decider:
    """The fitted decider a :func:`decider_record` describes."""
    kind = record.get("kind")
    if kind == "cuts":
        cuts = CutDecider(metric, mode=record.get("mode") or "per_class")
        thresholds = _values_by_label(record, "thresholds", label_names, source)
        if thresholds is None:
            raise FoldwiseError(f"{source}: kind 'cuts' without 'thresholds'")
        cuts.thresholds_ = thresholds
        cuts.at_least_one_ = bool(record.get("at_least_one"))
        return cuts
    if kind == "argmax":
        argmax = ArgmaxDecider(metric)
        bias = _values_by_label(record, "bias", label_names, source)
        argmax.bias_ = np.zeros(len(label_names)) if bias is None else bias
        return argmax
    if kind == "probabilities":
        return ProbabilityDecider(metric)
    if kind == "calibrated":
        return _calibrated_from_record(record.get("calibration"), metric, label_names, source)
    raise FoldwiseError(f"{source}: unknown decision kind {kind!r} (known: cuts, argmax, probabilities, calibrated)")


def _calibrated_from_record(record: object, metric: Metric, label_names: list[str], source: str) -> Decider:
    """The fitted :class:`CalibratedDecider` that a ``calibration`` record describes."""
    if isinstance(record, dict) and isinstance(record.get("temperature"), (int, float)):
        temperature = TemperatureScaling()
        temperature.temperature_ = float(record["temperature"])
        return _fitted_calibration(metric, temperature)
    platt = record.get("platt") if isinstance(record, dict) else None
    if (
        not isinstance(platt, dict)
        or list(platt) != list(label_names)
        or not all(isinstance(v, list) and len(v) == 2 for v in platt.values())
    ):
        raise FoldwiseError(
            f"{source}: kind 'calibrated' needs 'calibration' with a 'temperature' or "
            f"'platt' mapping of the run's {len(label_names)} labels, in order, to [a, b]"
        )
    scaling = PlattScaling()
    scaling.coef_ = np.asarray(list(platt.values()), dtype=np.float64)
    return _fitted_calibration(metric, scaling)


def _fitted_calibration(metric: Metric, calibrator: TemperatureScaling | PlattScaling) -> CalibratedDecider:
    """A :class:`CalibratedDecider` holding an already fitted ``calibrator``."""
    decider = CalibratedDecider(metric, calibrator)
    decider.calibrator_ = calibrator
    return decider
