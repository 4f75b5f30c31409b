"""How numeric predictions become what is submitted, fit on OOF predictions.

- :class:`Clip` (regression, ``thresholds.clip``): each target clipped to the range seen in its
  training targets; :class:`Raw` leaves them as they are (the untuned decision, and ``clip: false``).
- :class:`Rounding` (ordinal, untuned): the nearest whole level, within the training range.
- :class:`Cuts` (ordinal): cut points between consecutive levels fit on OOF to maximise the
  metric (the "optimized rounder" of essay-scoring winners): a coordinate search, each cut in turn
  moved to the best of a grid of candidates between its neighbours, until no move helps.

Every rule's :meth:`fit` takes (n, K) predictions and truth and returns itself; :meth:`predict`
decides (n, K) values. A fitted rule is written to ``thresholds.json`` as a record
(:func:`rule_record`) and read back with :func:`rule_from_record`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ...errors import FoldwiseError

#: candidate positions tried for one cut in one pass (quantiles of the predictions between its neighbours)
CANDIDATES = 64
#: passes over the cuts at most (each pass moves every cut once)
PASSES = 6

#: (truth column, decided column) -> the metric to maximise on one target
ColumnScore = Callable[[np.ndarray, np.ndarray], float]


class Raw:
    """Predictions submitted as they are."""

    kind = "raw"
    learns = False

    def fit(self, preds: np.ndarray, truth: np.ndarray) -> Raw:
        return self

    def predict(self, preds: np.ndarray) -> np.ndarray:
        return np.asarray(preds, dtype=np.float64)


class Clip:
    """Each target clipped to ``[low_, high_]``, the range of its training targets."""

    kind = "clip"
    learns = False  # the range is the truth's, not searched for the metric: nothing to cross-fit

    def fit(self, preds: np.ndarray, truth: np.ndarray) -> Clip:
        truth = np.asarray(truth, dtype=np.float64)
        self.low_, self.high_ = truth.min(axis=0), truth.max(axis=0)
        return self

    def predict(self, preds: np.ndarray) -> np.ndarray:
        return np.clip(np.asarray(preds, dtype=np.float64), self.low_, self.high_)


class Rounding:
    """The nearest whole level, clipped to the training levels' range (the untuned ordinal decision)."""

    kind = "rounding"
    learns = False

    def fit(self, preds: np.ndarray, truth: np.ndarray) -> Rounding:
        truth = np.asarray(truth, dtype=np.float64)
        self.low_, self.high_ = truth.min(axis=0), truth.max(axis=0)
        return self

    def predict(self, preds: np.ndarray) -> np.ndarray:
        # halves round up, as a prediction on a cut goes to the upper level (np.round would round to even)
        return np.clip(np.floor(np.asarray(preds, dtype=np.float64) + 0.5), self.low_, self.high_)


class Cuts:
    """Cut points per target between its consecutive whole levels, fit on OOF for ``score``.

    Parameters
    ----------
    score : (truth (n, 1), decided (n, 1)) -> the metric of one target, higher is better.

    Attributes
    ----------
    levels_ : per target, its levels: every whole number from the lowest training target to the highest.
    cuts_ : per target, ``len(levels) - 1`` increasing cuts; a prediction below ``cuts[0]`` is the
        lowest level, one at or above ``cuts[i - 1]`` and below ``cuts[i]`` level ``i``.
    """

    kind = "cuts"
    learns = True

    def __init__(self, score: ColumnScore | None = None):
        self.score = score

    def fit(self, preds: np.ndarray, truth: np.ndarray) -> Cuts:
        if self.score is None:
            raise ValueError("Cuts.fit needs the metric to maximise")
        preds, truth = np.asarray(preds, dtype=np.float64), np.asarray(truth, dtype=np.float64)
        self.levels_ = [np.arange(truth[:, j].min(), truth[:, j].max() + 1) for j in range(truth.shape[1])]
        self.cuts_ = [fit_cuts(preds[:, j], truth[:, j], levels, self.score) for j, levels in enumerate(self.levels_)]
        return self

    def predict(self, preds: np.ndarray) -> np.ndarray:
        preds = np.asarray(preds, dtype=np.float64)
        return np.column_stack(
            [decide(preds[:, j], cuts, levels) for j, (cuts, levels) in enumerate(zip(self.cuts_, self.levels_))]
        ).reshape(preds.shape)


def decide(pred: np.ndarray, cuts: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """The level of each prediction: ``levels[i]`` for ``cuts[i - 1] <= pred < cuts[i]``."""
    return levels[np.searchsorted(cuts, pred, side="right")]


def fit_cuts(
    pred: np.ndarray,
    truth: np.ndarray,
    levels: np.ndarray,
    score: ColumnScore,
    candidates: int = CANDIDATES,
    passes: int = PASSES,
) -> np.ndarray:
    """Increasing cuts between ``levels`` maximising ``score`` of the decided ``pred`` against ``truth``.

    Starts from rounding (cuts halfway between levels); each pass moves each cut, in turn, to the
    best of up to ``candidates`` positions (quantiles of the predictions strictly between its
    neighbours, one place above all of them, and its current place) and stops when a pass moves none.
    """
    cuts = (levels[:-1] + levels[1:]) / 2.0
    if len(cuts) == 0:
        return cuts
    column = truth[:, None]

    def value(trial: np.ndarray) -> float:
        return score(column, decide(pred, trial, levels)[:, None])

    best = value(cuts)
    for _ in range(passes):
        moved = False
        for i in range(len(cuts)):
            low = cuts[i - 1] if i else -np.inf
            high = cuts[i + 1] if i + 1 < len(cuts) else np.inf
            inside = pred[(pred > low) & (pred < high)]
            if not len(inside):
                continue
            # a cut at a prediction puts it in the upper level: the place above the highest one puts
            # every prediction between the neighbours in the lower level (the quantiles never do)
            above = (inside.max() + high) / 2.0 if np.isfinite(high) else inside.max() + 0.5
            for place in np.append(np.unique(np.quantile(inside, np.linspace(0.0, 1.0, candidates))), above):
                trial = cuts.copy()
                trial[i] = place
                trial_value = value(trial)
                if trial_value > best + 1e-12:
                    best, cuts, moved = trial_value, trial, True
        if not moved:
            break
    return cuts


# --- the fitted rule as a record (``thresholds.json``) and back ---


def rule_record(rule: Raw | Clip | Rounding | Cuts, label_names: list[str]) -> dict:
    """A fitted rule as plain data, by target name."""
    record: dict = {"kind": rule.kind}
    if isinstance(rule, (Clip, Rounding)):
        record["range"] = {name: [float(lo), float(hi)] for name, lo, hi in zip(label_names, rule.low_, rule.high_)}
    if isinstance(rule, Cuts):
        record["cuts"] = {
            name: {"levels": [float(v) for v in levels], "cuts": [float(c) for c in cuts]}
            for name, levels, cuts in zip(label_names, rule.levels_, rule.cuts_)
        }
    return record


def rule_from_record(record: dict, label_names: list[str], source: str) -> Raw | Clip | Rounding | Cuts:
    """The fitted rule :func:`rule_record` described; one line naming ``source`` when it does not fit
    these targets."""
    kind = record.get("kind")
    try:
        if kind == "raw":
            return Raw()
        if kind in ("clip", "rounding"):
            rule = Clip() if kind == "clip" else Rounding()
            ranges = np.array([record["range"][name] for name in label_names], dtype=np.float64)
            rule.low_, rule.high_ = ranges[:, 0], ranges[:, 1]
            return rule
        if kind == "cuts":
            cuts = Cuts()
            cuts.levels_ = [np.array(record["cuts"][name]["levels"]) for name in label_names]
            cuts.cuts_ = [np.array(record["cuts"][name]["cuts"]) for name in label_names]
            return cuts
    except (KeyError, TypeError, ValueError) as exc:
        raise FoldwiseError(f"{source}: decision {kind!r} does not describe targets {label_names} ({exc})") from None
    raise FoldwiseError(f"{source}: unknown decision kind {kind!r} for a regression or ordinal task")
