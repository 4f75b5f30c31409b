"""Blend several experiments' predictions, fit on their OOF predictions.

Methods (``foldwise ensemble --method``):

- ``fit``: weights on the simplex maximising the competition metric after the decisions
  fit on the blend (:func:`after_decisions`; the task builds it), which is what the
  submission is scored on;
- ``mean``: equal weights;
- ``rank``: ``fit`` on each member's predictions turned into ranks (per label, scaled to
  (0, 1], OOF and test ranked apart): members whose probabilities are on different scales
  (an LLM against TF-IDF) weigh by order only, the trick for AUC-scored competitions;
- ``stack``: a level-2 model, cross-validated on the run folds: a logistic regression on the
  members' logits (per label; multinomial on every member's classes for one label per row), or
  for numbers a ridge regression per target on the members' predictions; a row's stacked OOF
  prediction comes from a model fit on the other folds, the test prediction from one fit on
  every OOF row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .metrics import Metric
from .roles import Rule

if TYPE_CHECKING:
    from typing_extensions import Self

#: objective(blended OOF probabilities) -> score to maximise
Objective = Callable[[np.ndarray], float]
#: (members' predictions, weights) -> one prediction (:func:`blend`, or a task's ``blend``)
Combine = Callable[[list[Any], np.ndarray], Any]


def blend(probs: list[np.ndarray], weights: np.ndarray) -> np.ndarray:
    """Weighted mean of (n, n_labels) probability matrices; weights sum to 1."""
    out = np.zeros_like(probs[0], dtype=np.float64)
    for p, w in zip(probs, weights):
        out += w * p
    return out


def after_decisions(metric: Metric, make_decider: Callable[[], Rule[np.ndarray]], labels: np.ndarray) -> Objective:
    """Objective: ``metric`` (negated for losses) after fitting a fresh decider on the blend."""

    def objective(blended: np.ndarray) -> float:
        return metric.objective(labels, make_decider().fit(blended, labels).predict(blended))

    return objective


BLEND_METHODS = ("fit", "mean", "rank", "stack")
#: probabilities are clipped to [CLIP, 1 - CLIP] before a logit or log in stacking
CLIP = 1e-6


def rank_normalize(probs: np.ndarray) -> np.ndarray:
    """Each column's values replaced by their average rank scaled to (0, 1] (ties share a rank)."""
    from scipy.stats import rankdata

    probs = np.asarray(probs, dtype=np.float64)
    if not len(probs):
        return probs
    return rankdata(probs, axis=0, method="average") / len(probs)


class CrossFitStacker:
    """A level-2 model on members' (n, L) predictions, cross-validated on the run folds.

    :meth:`fit` keeps the OOF prediction (``oof_``: the rows of fold k predicted by models fit on
    the other folds) and models fit on every row (``models_``), which :meth:`predict` uses for the
    test set. Subclasses say how models are fit (``_fit_models``) and predict (``_predict_with``).
    """

    def fit(self, members: list[np.ndarray], truth: np.ndarray, fold: np.ndarray) -> Self:
        truth = np.asarray(truth, dtype=np.float64)
        members = [np.asarray(m, dtype=np.float64) for m in members]
        self.oof_ = np.zeros(truth.shape, dtype=np.float64)
        for k in np.unique(fold):
            held = np.asarray(fold) == k
            models = self._fit_models(members, truth, ~held)
            self.oof_[held] = self._predict_with(models, [m[held] for m in members])
        self.models_ = self._fit_models(members, truth, np.ones(len(truth), dtype=bool))
        return self

    def predict(self, members: list[np.ndarray]) -> np.ndarray:
        """Test predictions of the models fit on every OOF row."""
        return self._predict_with(self.models_, [np.asarray(m, dtype=np.float64) for m in members])

    def _fit_models(self, members: list[np.ndarray], truth: np.ndarray, rows: np.ndarray) -> list[dict]:
        raise NotImplementedError

    def _predict_with(self, models: list[dict], members: list[np.ndarray]) -> np.ndarray:
        raise NotImplementedError


class Stacker(CrossFitStacker):
    """A level-2 logistic regression on members' (n, L) probabilities.

    ``single_label``: one multinomial model on every member's log-probabilities; else one
    binary model per label on the members' logits of that label. :meth:`fit` keeps a
    cross-validated OOF prediction (``oof_``: the rows of fold k predicted by models fit on
    the other folds) and models fit on every row, which :meth:`predict` uses for the test set.
    """

    kind = "logistic"

    def __init__(self, single_label: bool, C: float = 1.0):
        self.single_label = single_label
        self.C = C

    def fit(self, members: list[np.ndarray], truth: np.ndarray, fold: np.ndarray) -> Self:
        self.n_labels_ = np.shape(truth)[1]
        return super().fit(members, truth, fold)

    def _features(self, members: list[np.ndarray], label: int | None) -> np.ndarray:
        clipped = [np.clip(m, CLIP, 1 - CLIP) for m in members]
        if label is None:
            return np.hstack([np.log(m) for m in clipped])
        return np.column_stack([np.log(m[:, label] / (1 - m[:, label])) for m in clipped])

    def _fit_models(self, members: list[np.ndarray], truth: np.ndarray, rows: np.ndarray) -> list:
        if self.single_label:
            return [self._fit_one(self._features(members, None)[rows], truth[rows].argmax(axis=1))]
        return [self._fit_one(self._features(members, j)[rows], truth[rows, j]) for j in range(self.n_labels_)]

    def _fit_one(self, x: np.ndarray, y: np.ndarray) -> dict:
        """A logistic regression's coefficients, or the one value ``y`` holds in these rows."""
        from sklearn.linear_model import LogisticRegression

        values = np.unique(y)
        if len(values) < 2:
            return {"constant": int(values[0])}
        model = LogisticRegression(C=self.C, max_iter=1000).fit(x, y)
        return {
            "coef": model.coef_.tolist(),
            "intercept": model.intercept_.tolist(),
            "classes": model.classes_.astype(int).tolist(),
        }

    def _predict_with(self, models: list[dict], members: list[np.ndarray]) -> np.ndarray:
        n = len(members[0])
        if self.single_label:
            model, out = models[0], np.zeros((n, self.n_labels_))
            if "constant" in model:
                out[:, model["constant"]] = 1.0
                return out
            scores = self._features(members, None) @ np.array(model["coef"]).T + np.array(model["intercept"])
            if len(model["classes"]) == 2:  # two classes: one coefficient row, as for a binary model
                p = _sigmoid(scores[:, 0])
                out[:, model["classes"]] = np.column_stack([1 - p, p])
            else:
                scores -= scores.max(axis=1, keepdims=True)
                out[:, model["classes"]] = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
            return out
        return np.column_stack(
            [
                np.full(n, float(m["constant"]))
                if "constant" in m
                else _sigmoid(self._features(members, j) @ np.array(m["coef"][0]) + m["intercept"][0])
                for j, m in enumerate(models)
            ]
        )

    def to_record(self) -> dict:
        """The fitted level-2 models as JSON-ready data (the submission record keeps them)."""
        return {
            "kind": self.kind,
            "single_label": self.single_label,
            "C": self.C,
            "n_labels": self.n_labels_,
            "models": self.models_,
        }

    @classmethod
    def from_record(cls, record: dict) -> Stacker:
        """A stacker that predicts as the one :meth:`to_record` described."""
        stacker = cls(record["single_label"], record["C"])
        stacker.n_labels_, stacker.models_ = record["n_labels"], record["models"]
        return stacker


class RidgeStacker(CrossFitStacker):
    """A level-2 ridge regression per target on the members' (n, K) numeric predictions: target
    ``j`` is predicted from every member's column ``j`` (and an intercept)."""

    kind = "ridge"

    def __init__(self, alpha: float = 1.0):
        self.alpha = alpha

    def _fit_models(self, members: list[np.ndarray], truth: np.ndarray, rows: np.ndarray) -> list[dict]:
        from sklearn.linear_model import Ridge

        models = []
        for j in range(truth.shape[1]):
            model = Ridge(alpha=self.alpha).fit(np.column_stack([m[rows, j] for m in members]), truth[rows, j])
            models.append({"coef": model.coef_.tolist(), "intercept": float(model.intercept_)})
        return models

    def _predict_with(self, models: list[dict], members: list[np.ndarray]) -> np.ndarray:
        return np.column_stack(
            [
                np.column_stack([m[:, j] for m in members]) @ np.array(model["coef"]) + model["intercept"]
                for j, model in enumerate(models)
            ]
        )

    def to_record(self) -> dict:
        """The fitted level-2 models as JSON-ready data."""
        return {"kind": self.kind, "alpha": self.alpha, "models": self.models_}

    @classmethod
    def from_record(cls, record: dict) -> RidgeStacker:
        """A stacker that predicts as the one :meth:`to_record` described."""
        stacker = cls(record["alpha"])
        stacker.models_ = record["models"]
        return stacker


#: a level-2 model's record kind -> its class (what ``reproduce`` reads back)
STACKERS: dict[str, Any] = {"logistic": Stacker, "ridge": RidgeStacker}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -500, 500)))


class Blender:
    """Blend members' OOF predictions into one and apply the same blend to their test predictions.

    ``method="mean"`` uses equal weights. ``method="fit"`` starts from equal weights and
    runs coordinate ascent: move ``step`` of weight onto one member (taking it from the
    others in proportion), keep the move if the objective improves, halve the step when
    no move helps. With decisions re-fit inside the objective, the weights maximise the
    competition metric *after* decisions, which is what the submission is scored on.
    ``method="rank"`` does the same on rank-normalised members; ``method="stack"`` fits a
    cross-validated :class:`Stacker` (it needs the truth and the folds).

    Parameters
    ----------
    method : one of :data:`BLEND_METHODS`.
    steps : the step sizes tried, largest first.
    combine : (members' predictions, weights) -> one prediction; default :func:`blend`, the
        weighted mean of probability matrices (a task whose predictions are not matrices
        passes its own, ``Task.blend``, and blends by ``fit`` or ``mean`` only).
    stacker : builds the unfitted level-2 model of ``stack`` (``Task.stacker``: a :class:`Stacker`
        for label probabilities, a :class:`RidgeStacker` for numbers).

    Attributes
    ----------
    weights_ : (n_members,) weights, non-negative, summing to 1 (equal for ``stack``).
    score_ : objective of ``oof_``; mean_score_ : objective at equal weights.
    oof_ : the blended OOF prediction the decisions are fit on (cross-validated for ``stack``).
    stacker_ : the fitted :class:`Stacker` (``stack`` only).
    """

    def __init__(
        self,
        method: str = "fit",
        steps: tuple[float, ...] = (0.2, 0.1, 0.05, 0.025, 0.0125),
        combine: Combine = blend,
        stacker: Callable[[], Any] | None = None,
    ):
        if method not in BLEND_METHODS:
            raise ValueError(f"unknown blend method {method!r}")
        self.method = method
        self.steps = steps
        self.combine = combine
        self.stacker = stacker

    def fit(
        self,
        probs: list[np.ndarray],
        objective: Objective,
        truth: np.ndarray | None = None,
        fold: np.ndarray | None = None,
    ) -> Blender:
        """Fit on members' OOF predictions (``truth`` and ``fold``: for ``stack``)."""
        n = len(probs)
        weights = np.full(n, 1.0 / n)
        self.mean_score_ = objective(self.combine(probs, weights))
        if self.method == "stack":
            if truth is None or fold is None or self.stacker is None:
                raise ValueError("stacking needs the truth, the folds and the task's level-2 model")
            self.stacker_ = self.stacker().fit(probs, truth, fold)
            self.weights_, self.oof_ = weights, self.stacker_.oof_
            self.score_ = objective(self.oof_)
            return self
        members = self._members(probs)
        best = self.mean_score_ if self.method != "rank" else objective(self.combine(members, weights))
        if self.method in ("fit", "rank") and n > 1:
            for step in self.steps:
                improved = True
                while improved:
                    improved = False
                    for i in range(n):
                        candidate = _shift(weights, i, step)
                        if candidate is None:
                            continue
                        score = objective(self.combine(members, candidate))
                        if score > best + 1e-9:
                            weights, best, improved = candidate, score, True
        self.weights_ = weights
        self.score_ = best
        self.oof_ = self.combine(members, weights)
        return self

    def predict(self, probs: list[np.ndarray]) -> np.ndarray:
        """Blend members' test predictions as the OOF ones were."""
        if self.method == "stack":
            return self.stacker_.predict(probs)
        return self.combine(self._members(probs), self.weights_)

    def _members(self, probs: list[np.ndarray]) -> list[np.ndarray]:
        return [rank_normalize(p) for p in probs] if self.method == "rank" else probs

    def to_record(self, names: list[str]) -> dict:
        """``method``, ``weights`` by member name and, for ``stack``, the level-2 models."""
        record = {"method": self.method, "weights": dict(zip(names, map(float, self.weights_)))}
        if self.method == "stack":
            record["stacker"] = self.stacker_.to_record()
        return record

    @classmethod
    def from_record(cls, record: dict, combine: Combine = blend) -> Blender:
        """The fitted blender a submission record describes (members in ``record["members"]`` order)."""
        blender = cls(record.get("method", "fit"), combine=combine)
        blender.weights_ = np.array([record["weights"][name] for name in record["members"]])
        if blender.method == "stack":
            blender.stacker_ = STACKERS[record["stacker"]["kind"]].from_record(record["stacker"])
        return blender


def blend_line(record: dict) -> str:
    """How a submission record's members were blended, in one line: their weights, or for a
    stack the level-2 model (its equal ``weights`` are no weights the stack applies)."""
    if record.get("method") == "stack":
        what = (
            "ridge regression on the predictions"
            if record["stacker"]["kind"] == "ridge"
            else "logistic regression on the logits"
        )
        return f"stacked: a level-2 {what} of {', '.join(record['weights'])}, cross-validated on the run folds"
    return "weights: " + ", ".join(f"{name} {weight:.3f}" for name, weight in record["weights"].items())


def _shift(weights: np.ndarray, i: int, step: float) -> np.ndarray | None:
    """Move ``step`` of weight onto member i, taken from the others in proportion."""
    others = 1.0 - weights[i]
    if others <= 1e-12:
        return None
    moved = min(step, others)
    candidate = weights * (1.0 - moved / others)
    candidate[i] = weights[i] + moved
    return candidate / candidate.sum()
