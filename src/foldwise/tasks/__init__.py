"""The competition, as one object the stages ask: its truth, predictions, metric, decisions,
reports and submission format.

A :class:`Task` is built from the data config and the loaded data by :func:`task_for`.
The stages (``cv``, ``ensemble``, ``tuning``, ``predict``, ``folds``, ``benchmarks``) only
orchestrate: they hand the task opaque *predictions* (for classification an (n, L)
probability matrix; for span extraction the answer spans with their character scores;
for generation the generated texts)
and *truth*, and get back fold files, OOF, deciders, typed
:class:`~foldwise.tasks.evaluation.Evaluation` results, reports, submission frames and
scores. Models get their output layer and loss from :meth:`Task.head`. Adding a kind of
task is one module here plus one line in ``TASKS``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Protocol

import numpy as np
import pandas as pd

from ..config import DATA_CHECKS, DataConfig, ThresholdConfig, concrete_task
from ..data.competition import CompetitionData
from .evaluation import Evaluation
from .metrics import Metric, get_metric
from .generation import keys as generation_keys
from .span import keys as span_keys


class Task(Protocol):
    """What every kind of task tells the stages.

    Attributes
    ----------
    kind : the task's name (``data.task``).
    single_label : one label per row, probabilities summing to 1 (argmax decisions, a
        multinomial stack, a one-class softmax for models); False for tasks without label rows.
    soft_targets : the truth is label rows that a teacher's probabilities can stand in for
        (``distill``, ``pseudo_labels``).
    blend_methods : the ``ensemble --method`` values its predictions blend by.
    metric : the competition metric, as computed for this task.
    label_names : the prediction columns (classification) in submission order.
    submission_format : the resolved format (see :mod:`foldwise.io.submission`).
    format_reason : why that format: inferred from the sample, or set in the config.
    task_reason : why this task: set by ``data.task``, or what ``auto`` inferred.
    """

    kind: str
    single_label: bool
    soft_targets: bool
    blend_methods: tuple[str, ...]
    task_reason: str
    metric: Metric
    label_names: list[str]
    submission_format: str
    format_reason: str

    # --- truth, folds, predictions ---

    def truth(self, data: CompetitionData) -> Any:
        """What the training rows' predictions are scored against (and models train on)."""

    def take(self, values: Any, rows: np.ndarray) -> Any:
        """The ``rows`` of predictions or truth, in that order."""

    def concat(self, parts: list) -> Any:
        """Predictions of several row sets, one after the other."""

    def stratify_on(self, data: CompetitionData) -> np.ndarray | None:
        """What folds balance: an (n, L) 0/1 matrix (iterative stratification), (n,) classes
        (stratified), or None (plain shuffled K-fold); groups come from ``folds.group_column``."""

    def head(self, model_cfg: Any) -> Any:
        """The output layer a neural model kind trains (size, loss, outputs -> predictions)."""

    def no_predictions(self) -> Any:
        """Predictions of zero rows (a fold trained without test rows)."""

    def save_fold(self, path: Path, valid_ids: np.ndarray, valid: Any, test: Any) -> None:
        """Write one fold's validation and test predictions (``fold_<k>.npz``), atomically."""

    def load_fold(self, path: Path) -> tuple[np.ndarray, Any, Any]:
        """``(valid_ids, valid predictions, test predictions)`` of a fold file."""

    def combine_test(self, folds: list) -> Any:
        """One test prediction from the fold models' (the mean of probabilities, ...)."""

    def as_stored(self, preds: Any) -> Any:
        """``preds`` as a run's ``test.csv`` holds them (rounded where the file rounds): what
        ``ensemble`` blends, so that re-made predictions blend to the same submission."""

    def write_predictions(self, path: Path, ids: np.ndarray, preds: Any) -> None:
        """A run's ``oof.csv`` / ``test.csv`` (and what else reads them back), atomically."""

    def read_predictions(self, path: Path) -> tuple[np.ndarray, Any]:
        """``(ids, predictions)`` written by :meth:`write_predictions`; bad cells refused."""

    def untuned_text(self, scores: dict[str, float]) -> str:
        """One fold's untuned validation scores as the training log prints them."""

    def report(self, evaluation: Evaluation, oof: Any, truth: Any, out: Path, title: str) -> str:
        """Write the run's figures under ``out`` and return the table printed after training."""

    def plot(self, evaluation: Evaluation, path: Path, title: str) -> None:
        """The one figure of a submission (``submissions/<name>.per_class_f1.png``)."""

    def record(self, evaluation: Evaluation, truth: Any, test: Any) -> dict[str, Any]:
        """Task-specific fields of a submission's record (e.g. label rates)."""

    def threshold_notes(self, cfg: ThresholdConfig) -> list[str]:
        """Lines on ``thresholds`` settings this task does not use."""

    def data_summary(self, data: CompetitionData, where: str) -> str:
        """One line on the competition's rows (and labels) read from ``where``, for the results notebook."""

    def data_figure(self, data: CompetitionData, text_columns: list[str]) -> Any:
        """The notebook's figure of the competition's data (labels, text lengths)."""

    def prediction_records(self, texts: list, preds: Any, decided: Any, top: int) -> list[dict]:
        """``foldwise predict``'s records: labels and top probabilities, or the answer."""

    def prediction_lines(self, record: dict) -> list[str]:
        """One record of :meth:`prediction_records` as printed."""

    # --- decisions ---

    def decider(self, cfg: ThresholdConfig) -> Any:
        """An unfitted decision rule maximising the metric (``fit(preds, truth)``, ``predict(preds)``)."""

    def baseline(self) -> Any:
        """The untuned decision rule (0.5 cut, argmax, or the probabilities as they are)."""

    def load_decider(self, record: dict, source: str) -> Any:
        """A fitted decider back from the record that ``Evaluation.decision`` holds."""

    def shown_decider(self, record: dict, source: str) -> Any:
        """The saved decider, or where it decides nothing (a metric on probabilities) the
        untuned one, so that ``predict`` can show decisions."""

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


def _classification(data_cfg: DataConfig, label_names: list[str], sample: pd.DataFrame,
                    data: CompetitionData | None = None) -> Task:
    from .classification.task import ClassificationTask

    return ClassificationTask(data_cfg, label_names, sample)


def _span(data_cfg: DataConfig, label_names: list[str], sample: pd.DataFrame,
          data: CompetitionData | None = None) -> Task:
    from .span.task import span_task

    return span_task(data_cfg, label_names, sample, data)


def _generation(data_cfg: DataConfig, label_names: list[str], sample: pd.DataFrame,
                data: CompetitionData | None = None) -> Task:
    from .generation.task import generation_task

    return generation_task(data_cfg, label_names, sample, data)


#: data.task -> builder(data config, label names, sample submission, loaded data or None)
TASKS: dict[str, Callable[..., Task]] = {
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
    task = TASKS[kind](replace(data_cfg, task=kind), label_names, sample, data)
    task.task_reason = reason
    return task


#: default tuning-space keys that mean nothing for a task (multiclass trains with ce only)
UNTUNED_KEYS: dict[str, set[str]] = {"multiclass": {"model.loss", "model.focal_gamma"},
                                     "span": {"model.loss", "model.focal_gamma"},
                                     "generation": {"model.loss", "model.focal_gamma"}}


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
