"""The competition, as one object the stages ask: its truth, predictions, metric, decisions,
reports and submission format.

A :class:`Task` is built from the data config and the loaded data by :func:`task_for`.
The stages (``cv``, ``ensemble``, ``tuning``, ``predict``, ``folds``, ``benchmarks``) only
orchestrate: they hand the task opaque *predictions* (for classification an (n, L)
probability matrix; for span extraction the answer spans with their character scores;
for generation the generated texts)
and *truth*, and get back fold files, OOF, deciders, typed
:class:`~foldwise.tasks.evaluation.Evaluation` results, reports, submission frames and
scores. Models get their output layer and loss from :meth:`Task.head`. What each stage
asks is one of the roles of :mod:`foldwise.tasks.roles` (truth and folds, prediction files,
decisions, submissions, presentation), generic over the task's predictions and truth;
:class:`Task` is all of them. Adding a kind of task is one package here plus one line in
``TASKS``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import pandas as pd

from ..config import DataConfig, concrete_task
from ..data.competition import CompetitionData
from .metrics import get_metric
from .roles import Task

if TYPE_CHECKING:
    from .generation.predictions import GenerationPredictions
    from .generation.task import GenerationTruth
    from .span.predictions import SpanPredictions
    from .span.task import SpanTruth


# each builder returns its task as the Task of its predictions and truth (the type checker holds it to them)
def _classification(data_cfg: DataConfig, label_names: list[str], sample: pd.DataFrame,
                    data: CompetitionData | None = None) -> Task[np.ndarray, np.ndarray]:
    from .classification.task import ClassificationTask

    return ClassificationTask(data_cfg, label_names, sample)


def _span(data_cfg: DataConfig, label_names: list[str], sample: pd.DataFrame,
          data: CompetitionData | None = None) -> Task[SpanPredictions, SpanTruth]:
    from .span.task import span_task

    return span_task(data_cfg, label_names, sample, data)


def _generation(data_cfg: DataConfig, label_names: list[str], sample: pd.DataFrame,
                data: CompetitionData | None = None) -> Task[GenerationPredictions, GenerationTruth]:
    from .generation.task import generation_task

    return generation_task(data_cfg, label_names, sample, data)


#: data.task -> builder(data config, label names, sample submission, loaded data or None)
TASKS: dict[str, Callable[..., Task[Any, Any]]] = {
    "multilabel": _classification,
    "multiclass": _classification,
    "binary": _classification,
    "span": _span,
    "generation": _generation,
}


def task_for(data_cfg: DataConfig, label_names: list[str], sample: pd.DataFrame, kind: str | None = None,
             reason: str = "set by data.task", data: CompetitionData | None = None) -> Task:
    """The task of a competition (``data.task``); its metric and submission format checked here.

    Parameters
    ----------
    data_cfg : the data config (task, metric, submission_format, id column).
    label_names : the competition's labels (``CompetitionData.label_names``).
    sample : the sample submission frame.
    kind : the resolved task (``CompetitionData.task``); None: ``data_cfg.task``, where
        ``auto`` without loaded data means binary for one label, else multilabel.
    reason : why that task, for :attr:`Task.task_line`.
    data : the loaded competition, for tasks that read their truth from it (span).
    """
    kind = concrete_task(kind or data_cfg.task, len(label_names))
    get_metric(data_cfg.metric, kind, reason)  # data.task auto: the metric's fit is checked once the task is known
    # kind is concrete (not auto): one of the Literal values data.task takes, which a str does not say
    task = TASKS[kind](replace(data_cfg, task=kind), label_names, sample, data)  # type: ignore[arg-type]
    task.task_reason = reason
    return task


#: default tuning-space keys that mean nothing for a task (multiclass trains with ce only)
UNTUNED_KEYS: dict[str, set[str]] = {"multiclass": {"model.loss", "model.focal_gamma"},
                                     "span": {"model.loss", "model.focal_gamma"},
                                     "generation": {"model.loss", "model.focal_gamma"}}


def competition_task(data_cfg: DataConfig, data: CompetitionData) -> Task:
    """The task of loaded competition data: ``task_for`` with the task that data resolved."""
    return task_for(data_cfg, data.label_names, data.sample_submission, data.task, data.task_reason, data)
