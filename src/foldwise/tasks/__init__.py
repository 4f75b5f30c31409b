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

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..config import DATA_CHECKS, DataConfig, concrete_task
from ..data.competition import CompetitionData
from .generation import keys as generation_keys
from .metrics import get_metric
from .roles import Task
from .span import keys as span_keys

if TYPE_CHECKING:
    from .generation.predictions import GenerationPredictions
    from .generation.task import GenerationTruth
    from .span.predictions import SpanPredictions
    from .span.task import SpanTruth


# each builder returns its task as the Task of its predictions and truth (the type checker holds it to them)
def _classification(
    data_cfg: DataConfig, label_names: list[str], sample: pd.DataFrame, data: CompetitionData | None = None
) -> Task[np.ndarray, np.ndarray]:
    from .classification.task import ClassificationTask

    return ClassificationTask(data_cfg, label_names, sample)


def _span(
    data_cfg: DataConfig, label_names: list[str], sample: pd.DataFrame, data: CompetitionData | None = None
) -> Task[SpanPredictions, SpanTruth]:
    from .span.task import span_task

    return span_task(data_cfg, label_names, sample, data)


def _generation(
    data_cfg: DataConfig, label_names: list[str], sample: pd.DataFrame, data: CompetitionData | None = None
) -> Task[GenerationPredictions, GenerationTruth]:
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


@dataclass
class SampleFacts:
    """What ``foldwise init`` read of a competition, for its task kind's metric guess.

    Attributes
    ----------
    sample : the sample submission frame; ``id_column`` its id, ``targets`` its other columns.
    one_label_column : a train column of class names (or label lists) holds the labels of the
        sample's one target column.
    label_names : the guessed ``label_names`` (None: the sample's columns, or train's values).
    short_question : the guessed question column holds short or repeated values (a sentiment).
    """

    sample: pd.DataFrame
    id_column: str
    targets: list[str]
    one_label_column: bool = False
    label_names: list[str] | None = None
    short_question: bool = False


@dataclass
class MetricGuess:
    """A task kind's guess of the competition metric, for ``foldwise init``.

    Attributes
    ----------
    metric, why : the metric and the reason (with what else is common).
    constant : the one 0/1 value every sample cell holds (the guess is blind); None otherwise.
    submission_format : ``(format, reason)`` to write beside the metric; None: none written.
    """

    metric: str
    why: str
    constant: str | None = None
    submission_format: tuple[str, str] | None = None


def _classification_guess(kind: str, facts: SampleFacts) -> MetricGuess:
    from .classification.guess import guess_metric as guess

    return guess(kind, facts)


def _span_guess(kind: str, facts: SampleFacts) -> MetricGuess:
    from .span.task import guess_metric as guess

    return guess(kind, facts)


def _generation_guess(kind: str, facts: SampleFacts) -> MetricGuess:
    from .generation.task import guess_metric as guess

    return guess(kind, facts)


#: data.task -> its metric guess for ``foldwise init`` (kind, what init read) -> MetricGuess
METRIC_GUESSES: dict[str, Callable[[str, SampleFacts], MetricGuess]] = {
    "multilabel": _classification_guess,
    "multiclass": _classification_guess,
    "binary": _classification_guess,
    "span": _span_guess,
    "generation": _generation_guess,
}


def guess_metric(kind: str, facts: SampleFacts) -> MetricGuess:
    """The metric (and submission format) ``foldwise init`` guesses for a ``kind`` competition."""
    return METRIC_GUESSES[kind](kind, facts)


#: the kinds whose predictions are (n, L) label probabilities: what a classifier model kind trains
CLASSIFICATION_KINDS: tuple[str, ...] = tuple(kind for kind, build in TASKS.items() if build is _classification)


def task_for(
    data_cfg: DataConfig,
    label_names: list[str],
    sample: pd.DataFrame,
    kind: str | None = None,
    reason: str = "set by data.task",
    data: CompetitionData | None = None,
) -> Task:
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
UNTUNED_KEYS: dict[str, set[str]] = {
    "multiclass": {"model.loss", "model.focal_gamma"},
    "span": {"model.loss", "model.focal_gamma"},
    "generation": {"model.loss", "model.focal_gamma"},
}


#: data.task -> the checks of that kind's own data keys (run for every config: a kind also
#: refuses its keys under another task)
TASK_KEYS: dict[str, Callable[[DataConfig], list[tuple[str, str]]]] = {
    "span": span_keys.problems,
    "generation": generation_keys.problems,
}


def _task_key_problems(cfg: DataConfig) -> list[tuple[str, str]]:
    return [problem for check in TASK_KEYS.values() for problem in check(cfg)]


DATA_CHECKS.append(_task_key_problems)


def competition_task(data_cfg: DataConfig, data: CompetitionData) -> Task:
    """The task of loaded competition data: ``task_for`` with the task that data resolved."""
    return task_for(data_cfg, data.label_names, data.sample_submission, data.task, data.task_reason, data)
