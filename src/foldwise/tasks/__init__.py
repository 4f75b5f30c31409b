"""The competition, as one object the stages ask: its truth, predictions, metric, decisions,
reports and submission format.

A :class:`Task` is built from the data config and the loaded data by :func:`task_for`.
The stages (``cv``, ``ensemble``, ``tuning``, ``predict``, ``folds``, ``benchmarks``) only
orchestrate: they hand the task opaque *predictions* (for classification an (n, L)
probability matrix; for regression and ordinal scores an (n, K) matrix of numbers; for span
extraction the answer spans with their character scores; for generation the generated texts)
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
from typing import Any

import pandas as pd

from ..config import DATA_CHECKS, DataConfig, concrete_task
from ..data.competition import CompetitionData
from . import classification, generation, regression, span
from .metrics import get_metric
from .roles import Task


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


def _no_key_problems(cfg: DataConfig) -> list[tuple[str, str]]:
    return []


@dataclass(frozen=True)
class TaskKind:
    """What the kit asks of a task kind before it has a task object: one record per ``data.task``.

    Attributes
    ----------
    build : ``(data config, label names, sample submission, loaded data or None) -> Task``.
    guess_metric : ``(kind, what init read) -> MetricGuess``, for ``foldwise init``.
    key_problems : the checks of the kind's own data keys, ``cfg -> [(key, problem), ...]``; run
        for every data config, since a kind also refuses its keys under another task.
    untuned_keys : default tuning-space keys that mean nothing for the kind.
    """

    build: Callable[..., Task[Any, Any]]
    guess_metric: Callable[[str, SampleFacts], MetricGuess]
    key_problems: Callable[[DataConfig], list[tuple[str, str]]] = _no_key_problems
    untuned_keys: frozenset[str] = frozenset()


#: what a kind trains without a choice of loss (one softmax, span logits, generated tokens)
_FIXED_LOSS = frozenset({"model.loss", "model.focal_gamma"})
#: the TF-IDF model's keys of one kind of estimator: logistic regression (labels), ridge (numbers)
_LOGISTIC_KEYS = frozenset({"model.C", "model.class_weight"})
_RIDGE_KEYS = frozenset({"model.alpha"})
_CLASSIFICATION = TaskKind(classification.build, classification.guess_metric, untuned_keys=_RIDGE_KEYS)
_NUMBERS = TaskKind(regression.build, regression.guess_metric, regression.key_problems, _FIXED_LOSS | _LOGISTIC_KEYS)

#: data.task -> its kind: a new kind of competition is a package under tasks/ and a line here
TASKS: dict[str, TaskKind] = {
    "multilabel": _CLASSIFICATION,
    "multiclass": replace(_CLASSIFICATION, untuned_keys=_FIXED_LOSS | _RIDGE_KEYS),
    "binary": _CLASSIFICATION,
    "span": TaskKind(span.build, span.guess_metric, span.key_problems, _FIXED_LOSS),
    "generation": TaskKind(generation.build, generation.guess_metric, generation.key_problems, _FIXED_LOSS),
    "regression": _NUMBERS,
    "ordinal": _NUMBERS,
}


def guess_metric(kind: str, facts: SampleFacts) -> MetricGuess:
    """The metric (and submission format) ``foldwise init`` guesses for a ``kind`` competition."""
    return TASKS[kind].guess_metric(kind, facts)


def untuned_keys(kind: str) -> frozenset[str]:
    """The default tuning-space keys that mean nothing for ``kind`` (none for ``auto``)."""
    return TASKS[kind].untuned_keys if kind in TASKS else frozenset()


#: the kinds whose predictions are (n, L) label probabilities: what a classifier model kind trains
CLASSIFICATION_KINDS: tuple[str, ...] = tuple(kind for kind, k in TASKS.items() if k.build is classification.build)
#: the kinds whose predictions are (n, K) numbers: what a regressor (TF-IDF ridge, a neural head) trains
NUMBER_KINDS: tuple[str, ...] = tuple(kind for kind, k in TASKS.items() if k.build is regression.build)


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
    task = TASKS[kind].build(replace(data_cfg, task=kind), label_names, sample, data)  # type: ignore[arg-type]
    task.task_reason = reason
    return task


def _task_key_problems(cfg: DataConfig) -> list[tuple[str, str]]:
    checks = dict.fromkeys(k.key_problems for k in TASKS.values())  # each kind's checks once
    return [problem for check in checks for problem in check(cfg)]


DATA_CHECKS.append(_task_key_problems)


def competition_task(data_cfg: DataConfig, data: CompetitionData) -> Task:
    """The task of loaded competition data: ``task_for`` with the task that data resolved."""
    return task_for(data_cfg, data.label_names, data.sample_submission, data.task, data.task_reason, data)
