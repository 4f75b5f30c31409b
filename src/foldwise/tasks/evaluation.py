"""Typed results of scoring out-of-fold predictions: :class:`Evaluation` and its parts.

A task (:mod:`foldwise.tasks`) fills them; ``train`` and ``ensemble`` write them to
``metrics.json`` (plain JSON, the metric's name a field, never part of a key), and the
reports and the results notebook read them back with :meth:`Evaluation.from_json`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import FoldwiseError
from .metrics import score_title

if TYPE_CHECKING:
    from .metrics import Metric
    from .roles import Rule


@dataclass
class FoldScore:
    """The competition metric on one fold's OOF rows: untuned, and after the decision fit on all OOF."""

    fold: int
    rows: int
    untuned: float
    tuned: float


@dataclass
class ClassScore:
    """One label's OOF support and F1 (untuned and after the decision), and its cut if it has one.

    For a metric scored on probabilities (ROC AUC, log loss), which submits no decisions,
    ``metric_untuned`` / ``metric_tuned`` hold the label's own value of the metric (raw, and
    after the calibration when one is kept; NaN where undefined), and the reports show these
    instead of F1 and cuts."""

    support: int
    f1_untuned: float
    f1_tuned: float
    threshold: float | None = None
    metric_untuned: float | None = None
    metric_tuned: float | None = None


@dataclass
class Evaluation:
    """How out-of-fold predictions score on the competition metric, and the decision fit on them.

    Attributes
    ----------
    metric : the competition metric's name (``data.metric``), reported first everywhere.
    greater_is_better : False for losses.
    task : "multilabel" or "multiclass".
    rows : OOF rows scored.
    decision : the fitted decision rule as a record
        (see :func:`foldwise.tasks.classification.decisions.decider_record`).
    score : the metric after the fitted decision, on the OOF rows it was fit on.
    score_untuned : the metric of the untuned decision (0.5 cut, argmax; or the probabilities).
    score_crossfit : the metric when each fold is decided by a rule fit on the other folds
        (the honest estimate); None when the decision learns nothing from the data.
    tuned, untuned : secondary scores of the decisions (macro_f1, micro_f1, accuracy).
    per_fold, per_class : the metric per fold; each label's F1 and cut.
    decider : the fitted decider (not serialised).
    """

    metric: str
    greater_is_better: bool
    task: str
    rows: int
    decision: dict[str, Any]
    score: float
    score_untuned: float
    score_crossfit: float | None
    tuned: dict[str, float]
    untuned: dict[str, float]
    per_fold: list[FoldScore]
    per_class: dict[str, ClassScore]
    decider: Any = field(default=None, compare=False, repr=False)
    #: the metric of each baseline answer on the same rows (span tasks; empty otherwise)
    baselines: dict[str, float] = field(default_factory=dict)

    @property
    def title(self) -> str:
        """The metric's name as reports print it ("macro-F1", "jaccard", ...)."""
        return score_title(self.metric)

    @property
    def single_label(self) -> bool:
        """Multiclass data: argmax decisions, no cuts (the reports drop cut columns)."""
        return self.task == "multiclass"

    @property
    def on_probabilities(self) -> bool:
        """Scored on probabilities (ROC AUC, log loss): per-label values of the metric, no decisions."""
        return self.decision.get("kind") in ("probabilities", "calibrated") and any(
            r.metric_untuned is not None for r in self.per_class.values()
        )

    @property
    def learned(self) -> bool:
        """Whether the decision was fit on the data (cuts or a bias): tuned differs from untuned."""
        return self.score_crossfit is not None

    def to_json(self) -> dict[str, Any]:
        """Plain data for ``metrics.json`` (everything but the decider)."""
        plain = {f.name: _plain(getattr(self, f.name)) for f in fields(self) if f.name != "decider"}
        if not plain["baselines"]:  # classification files keep their layout
            del plain["baselines"]
        return plain

    @classmethod
    def from_json(cls, raw: dict[str, Any], source: str = "metrics.json") -> Evaluation:
        """Read back what :meth:`to_json` wrote (``metrics.json``, a submission record's ``metrics``);
        a record without one of its keys is one line naming them."""
        names = [f.name for f in fields(cls) if f.name not in ("decider", "baselines")]
        missing = [name for name in names if name not in raw]
        if missing:
            raise FoldwiseError(
                f"{source}: not an evaluation record (no {', '.join(map(repr, missing))}); "
                "train the run again, or make the submission again"
            )
        values = {name: raw[name] for name in names}
        values["baselines"] = raw.get("baselines", {})
        values["per_fold"] = [FoldScore(**r) for r in raw["per_fold"]]
        values["per_class"] = {name: ClassScore(**r) for name, r in raw["per_class"].items()}
        return cls(**values)


def _plain(value: Any) -> Any:
    """Dataclasses (also inside lists and dicts) as dicts, for JSON."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    return value


def crossfit_score(metric: Metric, probs: Any, y: Any, fold: np.ndarray, make: Callable[[], Rule[Any]]) -> float:
    """The metric when each fold's rows are decided by a decider fit on the other folds.

    A decider fit and scored on the same OOF rows is slightly optimistic; this is the
    honest estimate of what it will do on unseen test rows.

    Parameters
    ----------
    metric : the metric to report.
    probs, y : (n, L) OOF predictions (probabilities, numbers) and their truth; fold : (n,) fold of each row.
    make : builds a fresh, unfitted decider.
    """
    decided: np.ndarray | None = None
    for k in np.unique(fold):
        held = fold == k
        part = make().fit(probs[~held], y[~held]).predict(probs[held])
        if decided is None:
            decided = np.empty((len(probs), *np.shape(part)[1:]), dtype=part.dtype)
        decided[held] = part
    if decided is None:
        raise ValueError("cross-fitting needs at least one fold")
    return metric.score(y, decided)
