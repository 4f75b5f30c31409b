"""The competition, as one object the stages ask: its metric, decisions and submission format.

A :class:`Task` is built from the data config and the loaded data by :func:`task_for`.
The stages (``cv``, ``ensemble``, ``tuning``, ``predict``, ``report``) only orchestrate:
they hand the task opaque *predictions* (for classification an (n, L) probability matrix;
for a later generation task, texts) and *truth*, and get back deciders, typed
:class:`~foldwise.tasks.evaluation.Evaluation` results, submission frames and scores. Adding a
kind of task is one module here plus one line in ``TASKS``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Protocol

import pandas as pd

from ..config import DataConfig, ThresholdConfig, concrete_task
from ..data.competition import CompetitionData
from .evaluation import Evaluation
from ..errors import FoldwiseError
from .metrics import METRICS, Metric


class Task(Protocol):
    """What every kind of task tells the stages.

    Attributes
    ----------
    kind : the task's name (``data.task``).
    metric : the competition metric, as computed for this task.
    label_names : the prediction columns (classification) in submission order.
    submission_format : the resolved format (see :mod:`foldwise.io.submission`).
    format_reason : why that format: inferred from the sample, or set in the config.
    task_reason : why this task: set by ``data.task``, or what ``auto`` inferred.
    """

    kind: str
    task_reason: str
    metric: Metric
    label_names: list[str]
    submission_format: str
    format_reason: str

    def decider(self, cfg: ThresholdConfig) -> Any:
        """An unfitted decision rule maximising the metric (``fit(preds, truth)``, ``predict(preds)``)."""

    def baseline(self) -> Any:
        """The untuned decision rule (0.5 cut, argmax, or the probabilities as they are)."""

    def load_decider(self, record: dict, source: str) -> Any:
        """A fitted decider back from the record that ``Evaluation.decision`` holds."""

    def untuned_scores(self, preds: Any, truth: Any) -> dict[str, float]:
        """The metric (first) and the secondary scores of the untuned decision."""

    def blend(self, members: list, weights: Any) -> Any:
        """One prediction from several members' predictions and their weights (summing to 1)."""

    def objective(self, cfg: ThresholdConfig, truth: Any) -> Callable[[Any], float]:
        """preds -> the metric after fitting ``decider(cfg)`` on them, as a value to maximise."""

    def evaluate(self, preds: Any, truth: Any, fold: Any, cfg: ThresholdConfig) -> Evaluation:
        """Fit the decider on OOF predictions and score them every way the reports show."""

    def submission_frame(self, ids: Any, preds: Any, decider: Any) -> pd.DataFrame:
        """The submission in the sample's layout and the resolved format."""

    @property
    def task_line(self) -> str:
        """"task: binary (inferred: ...)" (and a hint where the metric misleads) for printing."""

    def write_submission(self, path: Path, frame: pd.DataFrame) -> str:
        """Write ``frame`` only if it validates (nothing written otherwise); the sha256 of the bytes written."""

    def validate_submission(self, path: Path) -> pd.DataFrame:
        """Check a submission file against the sample in the resolved format; return it."""

    def score_submission(self, path: Path, solution: Path) -> dict[str, float]:
        """The metric (first) and secondary scores of a submission against a solution file."""

    def score_untuned(self, probs_path: Path, solution: Path) -> dict[str, float]:
        """The metric (first) and secondary scores of a predictions file decided the untuned way."""


def _classification(data_cfg: DataConfig, label_names: list[str], sample: pd.DataFrame) -> Task:
    from .classification import ClassificationTask

    return ClassificationTask(data_cfg, label_names, sample)


#: data.task -> builder(data config, label names, sample submission)
TASKS: dict[str, Callable[[DataConfig, list[str], pd.DataFrame], Task]] = {
    "multilabel": _classification,
    "multiclass": _classification,
    "binary": _classification,
}


def task_for(data_cfg: DataConfig, label_names: list[str], sample: pd.DataFrame, kind: str | None = None,
             reason: str = "set by data.task") -> Task:
    """The task of a competition (``data.task``); its metric and submission format checked here.

    Parameters
    ----------
    data_cfg : the data config (task, metric, submission_format, id column).
    label_names : the competition's labels (``CompetitionData.label_names``).
    sample : the sample submission frame.
    kind : the resolved task (``CompetitionData.task``); None: ``data_cfg.task``, where
        ``auto`` without loaded data means binary for one label, else multilabel.
    reason : why that task, for :attr:`Task.task_line`.
    """
    kind = concrete_task(kind or data_cfg.task, len(label_names))
    metric = METRICS.get(data_cfg.metric)
    if metric is not None and kind not in metric.tasks:  # data.task auto: checked once the task is known
        raise FoldwiseError(f"key 'data.metric' is {data_cfg.metric!r}, which does not fit {kind} data "
                            f"(task {kind}: {reason}; the metric fits: {', '.join(metric.tasks)})")
    task = TASKS[kind](replace(data_cfg, task=kind), label_names, sample)
    task.task_reason = reason
    return task


def competition_task(data_cfg: DataConfig, data: CompetitionData) -> Task:
    """The task of loaded competition data: ``task_for`` with the task that data resolved."""
    return task_for(data_cfg, data.label_names, data.sample_submission, data.task, data.task_reason)
