"""The roles a task plays for the stages, each a small protocol generic over the task's types.

A stage asks a task for one thing at a time: cross-validation for its truth, folds and
the combining of predictions (:class:`Folds`); the run folder for its prediction files
(:class:`PredictionFiles`); the ensemble and the reports for decisions and scores
(:class:`Decisions`); ``ensemble``, ``validate`` and ``score`` for the submission file
(:class:`Submissions`); the logs, reports, ``predict`` and the notebook for what is shown
(:class:`Presentation`). :class:`foldwise.tasks.Task` is all of them at once.

Each role is generic over the task's *predictions* ``P`` (classification: an (n, L)
probability matrix; span: :class:`~foldwise.tasks.span.predictions.SpanPredictions`;
generation: :class:`~foldwise.tasks.generation.predictions.GenerationPredictions`) and,
where it reads them, its *truth* ``T`` (classification: the (n, L) 0/1 matrix; span and
generation: their truth objects). A stage that does not care which task it runs holds a
``Task`` (``Task[Any, Any]``); each concrete task fits ``Task`` with its own types.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np
import pandas as pd

from ..config import ThresholdConfig
from ..data.competition import CompetitionData
from ..data.folds import Strata
from .evaluation import Evaluation
from .metrics import Metric

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from typing_extensions import Self

    from ..train.heads import Head


class Rows(Protocol):
    """Predictions or truth: rows that can be counted and taken (``values[rows]``)."""

    def __len__(self) -> int: ...

    def __getitem__(self, rows: Any) -> Any: ...


#: a task's predictions, and its truth (the ``_co`` / ``_contra`` variants where a role only
#: returns them, or only takes them)
P = TypeVar("P", bound=Rows)
P_contra = TypeVar("P_contra", bound=Rows, contravariant=True)
T = TypeVar("T", bound=Rows)
T_co = TypeVar("T_co", bound=Rows, covariant=True)
T_contra = TypeVar("T_contra", bound=Rows, contravariant=True)
#: predictions or truth, whichever :meth:`Folds.take` is given
R = TypeVar("R", bound=Rows)


class Rule(Protocol[P_contra]):
    """A decision rule on predictions: fit on OOF predictions and truth, then decide.

    Attributes
    ----------
    kind : how it decides, as its record says ("cuts", "argmax", "calibrated", "span", ...).
    """

    kind: str

    def fit(self, preds: P_contra, truth: Any) -> Self:
        """Learn from OOF predictions and their truth; returns itself."""
        ...

    def predict(self, preds: P_contra) -> np.ndarray:
        """The decisions (0/1 matrix, class indicators, probabilities, or the answer texts)."""
        ...


class Named(Protocol):
    """What the stages read of any task: its name, its prediction columns and its metric (every
    role but :class:`PredictionFiles` extends it).

    Attributes
    ----------
    kind : the task's name (``data.task``).
    label_names : the prediction columns (classification) in submission order; text tasks:
        their one answer column.
    metric : the competition metric, as computed for this task.
    """

    kind: str
    label_names: list[str]
    metric: Metric


class Folds(Named, Protocol[P, T_co]):
    """Truth, folds and predictions as cross-validation handles them (``cv``, ``oof``,
    ``tuning``, ``teachers``, ``predict``), and how predictions combine (``ensemble``).

    Attributes
    ----------
    single_label : one label per row, probabilities summing to 1 (argmax decisions, a
        multinomial stack, a one-class softmax for models); False for tasks without label rows.
    soft_targets : the truth is label rows (or numbers) that a teacher's predictions can stand in
        for (``distill``, ``pseudo_labels``).
    numeric : the predictions are numbers (regression, ordinal scores): a model kind fits a
        regressor (TF-IDF: ridge) where it would fit a classifier.
    blend_methods : the ``ensemble --method`` values its predictions blend by.
    """

    @property
    def single_label(self) -> bool: ...

    @property
    def soft_targets(self) -> bool: ...

    @property
    def numeric(self) -> bool: ...

    @property
    def blend_methods(self) -> tuple[str, ...]: ...

    def truth(self, data: CompetitionData) -> T_co:
        """What the training rows' predictions are scored against (and models train on)."""
        ...

    def stratify_on(self, data: CompetitionData) -> Strata:
        """What folds balance and how: an (n, C) 0/1 matrix (labels, bins of a number) with
        ``"iterative"`` (iterative stratification) or ``"classes"`` (stratified), or no key (plain
        shuffled K-fold); groups come from ``folds.group_column``."""
        ...

    def take(self, values: R, rows: np.ndarray) -> R:
        """The ``rows`` of predictions or truth, in that order."""
        ...

    def concat(self, parts: list[P]) -> P:
        """Predictions of several row sets, one after the other."""
        ...

    def head(self, model_cfg: Any) -> Head[P, Any, Any]:
        """The output layer a neural model kind trains (size, loss, outputs -> predictions)."""
        ...

    def no_predictions(self) -> P:
        """Predictions of zero rows (a fold trained without test rows)."""
        ...

    def combine_test(self, folds: list[P]) -> P:
        """One test prediction from the fold models' (the mean of probabilities, ...)."""
        ...

    def blend(self, members: list[P], weights: np.ndarray) -> P:
        """One prediction from several members' predictions and their weights (summing to 1)."""
        ...

    def stacker(self) -> Any:
        """A fresh level-2 model for ``ensemble --method stack`` (``fit(members, truth, fold)``,
        ``oof_``, ``predict``, ``to_record``); None where ``stack`` is not among :attr:`blend_methods`."""
        ...


class PredictionFiles(Protocol[P]):
    """A run's prediction files: fold files, ``oof.csv`` / ``test.csv`` (``cv``, ``refit``,
    ``seed_scores``, ``runs``, ``reproduce``)."""

    def save_fold(self, path: Path, valid_ids: np.ndarray, valid: P, test: P) -> None:
        """Write one fold's validation and test predictions (``fold_<k>.npz``), atomically."""
        ...

    def load_fold(self, path: Path) -> tuple[np.ndarray, P, P]:
        """``(valid_ids, valid predictions, test predictions)`` of a fold file."""
        ...

    def write_predictions(self, path: Path, ids: np.ndarray, preds: P) -> None:
        """A run's ``oof.csv`` / ``test.csv`` (and what else reads them back), atomically."""
        ...

    def read_predictions(self, path: Path) -> tuple[np.ndarray, P]:
        """``(ids, predictions)`` written by :meth:`write_predictions`; bad cells refused."""
        ...

    def as_stored(self, preds: P) -> P:
        """``preds`` as a run's ``test.csv`` holds them (rounded where the file rounds): what
        ``ensemble`` blends, so that re-made predictions blend to the same submission."""
        ...


class Decisions(Named, Protocol[P_contra, T_contra]):
    """Decisions fit on OOF predictions, and the scores of predictions (``cv``, ``ensemble``,
    ``tuning``, ``predict``, ``teachers``: which test rows a teacher is sure of). How a task
    builds its rules (its tuned and untuned deciders) stays inside it: :meth:`evaluate` and
    :meth:`objective` fit them."""

    def load_decider(self, record: dict, source: str) -> Rule[P_contra]:
        """A fitted decider back from the record that ``Evaluation.decision`` holds."""
        ...

    def shown_decider(self, record: dict, source: str) -> Rule[P_contra]:
        """The saved decider, or where it decides nothing (a metric on probabilities) the
        untuned one, so that ``predict`` can show decisions."""
        ...

    def objective(self, cfg: ThresholdConfig, truth: T_contra) -> Callable[[P_contra], float]:
        """preds -> the metric after fitting ``decider(cfg)`` on them, as a value to maximise."""
        ...

    def untuned_scores(self, preds: P_contra, truth: T_contra) -> dict[str, float]:
        """The metric (first) and the secondary scores of the untuned decision."""
        ...

    def evaluate(self, preds: P_contra, truth: T_contra, fold: np.ndarray, cfg: ThresholdConfig) -> Evaluation:
        """Fit the decider on OOF predictions and score them every way the reports show."""
        ...

    def threshold_notes(self, cfg: ThresholdConfig) -> list[str]:
        """Lines on ``thresholds`` settings this task does not use."""
        ...

    def pseudo_label_rows(
        self, per_fold: Sequence[P_contra], k: int, oof: P_contra, right: np.ndarray, min_agreement: float
    ) -> tuple[np.ndarray, str]:
        """The test rows a teacher is sure of, which student fold ``k`` adds as pseudo-labels
        (``pseudo_labels``), and how they were chosen (for the log).

        ``per_fold``: the teacher's test predictions of each fold's models (``per_fold[k]``: of
        those trained without fold k); ``oof``: its OOF predictions of the rows outside fold k,
        ``right``: whether its decisions of them match the truth; ``min_agreement``: the config's.
        """
        ...


class Submissions(Named, Protocol[P, T_contra]):
    """The submission file: built, written, validated and scored (``ensemble``, ``reproduce``,
    ``validate``, ``score``, ``benchmarks``).

    Attributes
    ----------
    submission_format : the resolved format (see :mod:`foldwise.io.submission`).
    format_reason : why that format: inferred from the sample, or set in the config.
    sample_path : the sample submission file.
    """

    submission_format: str
    format_reason: str
    sample_path: Path

    @property
    def format_line(self) -> str:
        """The submission format and why, for printing: "submission format: ... (why)"."""
        ...

    def submission_frame(self, ids: np.ndarray, preds: P, decider: Rule[P]) -> pd.DataFrame:
        """The submission in the sample's layout and the resolved format."""
        ...

    def write_submission(self, path: Path, frame: pd.DataFrame) -> str:
        """Write ``frame`` only if it validates (nothing written otherwise); the sha256 of the bytes written."""
        ...

    def validate_submission(self, path: Path) -> pd.DataFrame:
        """Check a submission file against the sample in the resolved format; return it."""
        ...

    def score_submission(self, path: Path, solution: Path) -> dict[str, float]:
        """The metric (first) and secondary scores of a submission against a solution file."""
        ...

    def score_untuned(self, probs_path: Path, solution: Path) -> dict[str, float]:
        """The metric (first) and secondary scores of a predictions file decided the untuned way."""
        ...

    def record(self, evaluation: Evaluation, truth: T_contra, test: P) -> dict[str, Any]:
        """Task-specific fields of a submission's record (e.g. label rates)."""
        ...


class Presentation(Named, Protocol[P_contra, T_contra]):
    """What is printed and drawn: the training log, reports, figures, ``predict``'s lines
    and the results notebook.

    Attributes
    ----------
    task_reason : why this task: set by ``data.task``, or what ``auto`` inferred.
    """

    task_reason: str

    @property
    def task_line(self) -> str:
        """The task and why, for printing: "task: binary (inferred: ...)" (and a hint where the
        metric misleads)."""
        ...

    def untuned_text(self, scores: dict[str, float]) -> str:
        """One fold's untuned validation scores as the training log prints them."""
        ...

    def report(self, evaluation: Evaluation, oof: P_contra, truth: T_contra, out: Path, title: str) -> str:
        """Write the run's figures under ``out`` and return the table printed after training."""
        ...

    def plot(self, evaluation: Evaluation, path: Path, title: str) -> None:
        """The one figure of a submission (``submissions/<name>.per_class_f1.png``)."""
        ...

    def prediction_records(self, texts: list, preds: P_contra, decided: np.ndarray, top: int) -> list[dict]:
        """``foldwise predict``'s records: labels and top probabilities, or the answer."""
        ...

    def prediction_lines(self, record: dict) -> list[str]:
        """One record of :meth:`prediction_records` as printed."""
        ...

    def data_summary(self, data: CompetitionData, where: str) -> str:
        """One line on the competition's rows (and labels) read from ``where``, for the results notebook."""
        ...

    def data_figure(self, data: CompetitionData, text_columns: list[str]) -> Figure:
        """The notebook's figure of the competition's data (labels, text lengths)."""
        ...


class Task(Folds[P, T], PredictionFiles[P], Decisions[P, T], Submissions[P, T], Presentation[P, T], Protocol[P, T]):
    """Every role at once: what a competition's task tells the stages (see the module docstring)."""
