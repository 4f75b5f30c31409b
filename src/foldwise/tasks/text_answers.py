"""What every task whose prediction is a text shares: span extraction and generation.

A text-answer task predicts one text per row (an answer span, a generated summary) and
submits ``id,<answer column>`` with every cell quoted. Its truth has ``answers`` (each
row's gold texts; the first is the one training learns) and its predictions have
``texts``; the metric is a function of the two (:data:`foldwise.tasks.text_metrics.SCORES`).
Nothing is tuned on OOF: the decision is the text itself. :class:`TextAnswerTask` holds
the decisions, scores, the evaluation with its per-fold figure and baselines, the
submission writing, validation and scoring; :mod:`.span` and :mod:`.generation` add how
their predictions are made, stored, combined and blended.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import numpy as np
import pandas as pd

from ..config import DataConfig, ThresholdConfig
from ..data.competition import CompetitionData, task_line
from ..data.folds import Strata
from ..errors import FoldwiseError
from ..io import artifacts
from ..io.tables import read_csv
from .evaluation import Evaluation, FoldScore
from .metrics import short_title, shown_score
from .roles import R, Rule
from .text_metrics import SCORES

if TYPE_CHECKING:
    from typing_extensions import Self


class TextPredictions(Protocol):
    """What a text task's predictions hold: one answer text per row (``texts``), and rows
    that can be taken and concatenated."""

    texts: np.ndarray

    def __len__(self) -> int: ...

    def __getitem__(self, rows: Any) -> Self: ...

    @classmethod
    def concat(cls, parts: list[Self]) -> Self:
        """Several row sets one after the other."""
        ...


class TextTruth(Protocol):
    """What a text task's truth holds: per row its gold texts (``answers``), rows that can be taken."""

    answers: list[list[str]]

    def __len__(self) -> int: ...

    def __getitem__(self, rows: Any) -> Self: ...


#: a text task's predictions and truth
TP = TypeVar("TP", bound=TextPredictions)
TT = TypeVar("TT", bound=TextTruth)


class TextDecider:
    """A text task's decision: the predicted text as it is (nothing to fit on OOF)."""

    learns = False
    thresholds_ = None

    def __init__(self, kind: str):
        self.kind = kind

    def fit(self, preds: TextPredictions, truth: Any) -> TextDecider:
        return self

    def predict(self, preds: TextPredictions) -> np.ndarray:
        """The answer texts."""
        return preds.texts


class TextAnswerTask(Generic[TP, TT]):
    """The shared half of a text-answer task (see the module docstring).

    Generic over the predictions ``TP`` and the truth ``TT`` of the subclass. Subclasses call
    ``__init__`` with their kind (the data config, labels and sample become ``cfg``, ``metric``,
    ``answer_column``, ``id_column``, ``sample``, ...), and implement :meth:`read_truth`,
    :meth:`gold_truth` (a truth object from gold answer lists, for scoring files),
    :meth:`baselines` and :meth:`decision_record`.
    """

    kind: str
    task_reason: str
    #: answers, not label rows: no argmax, nothing a teacher's probabilities could stand in for
    single_label = False
    soft_targets = False
    numeric = False
    #: texts blend by selection (weights fit on the metric, or equal), not by ranks or a stack
    blend_methods = ("fit", "mean")

    def stacker(self) -> None:
        """No level-2 model: texts are not stacked."""
        return None

    def __init__(
        self,
        kind: str,
        data_cfg: DataConfig,
        label_names: list[str],
        sample: pd.DataFrame,
        data: CompetitionData | None = None,
    ):
        """The settings every text task reads from its data config and sample submission; the
        truth is read once here when ``data`` (the loaded competition) comes with it."""
        from . import metrics

        self.kind = kind
        self.task_reason = "set by data.task"
        self.cfg = data_cfg
        self.metric = metrics.get_metric(data_cfg.metric, kind)
        self.label_names = list(label_names)
        self.answer_column = self.label_names[0]
        self.id_column = data_cfg.submission_id_column
        self.sample = sample
        self.sample_path = data_cfg.path / data_cfg.sample_submission_file
        self.submission_format = "text"
        self.format_reason = f"one text column '{self.answer_column}' (task {kind})"
        self._truth = self.read_truth(data) if data is not None and data.train_frame is not None else None

    @property
    def task_line(self) -> str:
        """ "task: span (set by data.task)" for printing."""
        return task_line(self.kind, self.task_reason)

    @property
    def format_line(self) -> str:
        return f"submission format: text ({self.format_reason})"

    # --- rows ---

    #: the task's predictions type (with ``concat``), and the training truth read at construction
    predictions_class: type[TP]
    _truth: TT | None = None

    def truth(self, data: CompetitionData) -> TT:
        """The training rows' truth (read once when the task was built with the data)."""
        return self._truth if self._truth is not None else self.read_truth(data)

    def read_truth(self, data: CompetitionData) -> TT:
        """The truth of a loaded competition's training rows."""
        raise NotImplementedError

    def as_stored(self, preds: TP) -> TP:
        """Unchanged: texts, and span scores (``.scores.npz``), are stored exactly."""
        return preds

    def concat(self, parts: list[TP]) -> TP:
        return self.predictions_class.concat(parts)

    def take(self, values: R, rows: np.ndarray) -> R:
        return values[rows]

    def stratify_on(self, data: CompetitionData) -> Strata:
        """Nothing to balance: shuffled folds (grouped by ``folds.group_column``, e.g. the article)."""
        return Strata(None, None, [])

    # --- decisions and scores ---

    def decider(self, cfg: ThresholdConfig) -> TextDecider:
        return TextDecider(self.kind)

    def baseline(self) -> TextDecider:
        return TextDecider(self.kind)

    def load_decider(self, record: dict, source: str) -> TextDecider:
        if record.get("kind") != self.kind:
            raise FoldwiseError(f"{source}: kind {record.get('kind')!r} is not a {self.kind} decision")
        return TextDecider(self.kind)

    shown_decider = load_decider

    def pseudo_label_rows(
        self, per_fold: Sequence[TP], k: int, oof: TP, right: np.ndarray, min_agreement: float
    ) -> tuple[np.ndarray, str]:
        """Refused: answers are not label rows a teacher's predictions could stand in for."""
        raise FoldwiseError(f"pseudo_labels: task {self.kind} has no label probabilities or numbers to learn from")

    def scores(self, truth: TT, texts: np.ndarray) -> dict[str, float]:
        """The metric first, then its secondary scores."""
        names = (self.metric.name, *self.metric.secondary_for(self.kind))
        return {name: float(SCORES[name](truth, texts)) for name in names}

    def untuned_scores(self, preds: TP, truth: TT) -> dict[str, float]:
        return self.scores(truth, preds.texts)

    def objective(self, cfg: ThresholdConfig, truth: TT) -> Callable[[TP], float]:
        return lambda preds: self.metric.objective(truth, preds.texts)

    def evaluate(self, preds: TP, truth: TT, fold: np.ndarray, cfg: ThresholdConfig) -> Evaluation:
        """The metric on every OOF row and per fold, its secondary scores, and the baselines."""
        scores = self.scores(truth, preds.texts)
        per_fold = []
        for k in np.unique(fold):
            rows = np.flatnonzero(fold == k)
            value = self.metric.score(truth[rows], preds.texts[rows])
            per_fold.append(FoldScore(fold=int(k), rows=int(len(rows)), untuned=value, tuned=value))
        secondary = {name: value for name, value in scores.items() if name != self.metric.name}
        return Evaluation(
            metric=self.metric.name,
            greater_is_better=True,
            task=self.kind,
            rows=len(truth),
            decision={"kind": self.kind, "metric": self.metric.name, **self.decision_record()},
            score=scores[self.metric.name],
            score_untuned=scores[self.metric.name],
            score_crossfit=None,
            tuned=secondary,
            untuned=dict(secondary),
            per_fold=per_fold,
            per_class={},
            decider=TextDecider(self.kind),
            baselines=self.baselines(truth),
        )

    def decision_record(self) -> dict[str, Any]:
        """What the saved decision records beside its kind and metric."""
        return {}

    def baselines(self, truth: TT) -> dict[str, float]:
        """The metric of answers that need no model, by name."""
        return {}

    # --- reports ---

    def untuned_text(self, scores: dict[str, float]) -> str:
        first, *rest = scores.items()
        others = ", ".join(f"{short_title(k)} {shown_score(k, v)}" for k, v in rest)
        return f"{short_title(first[0])} {shown_score(*first)}" + (f" ({others})" if others else "")

    def report(self, evaluation: Evaluation, oof: TP, truth: TT, out: Path, title: str) -> str:
        """``per_fold.png`` (the metric per fold beside the baselines) and the score table."""
        self.plot(evaluation, out / "per_fold.png", title)
        return score_table(evaluation)

    def plot(self, evaluation: Evaluation, path: Path, title: str) -> None:
        """The metric per fold as bars, the baselines as lines."""
        from ..io.plots import pyplot, save_figure

        plt = pyplot()
        fig, ax = plt.subplots(figsize=(6, 3.2))
        ax.bar(
            [f"fold {s.fold}" for s in evaluation.per_fold],
            [s.tuned for s in evaluation.per_fold],
            color="#4C72B0",
            label=f"model ({evaluation.score:.2f} overall)",
        )
        styles = ("--", ":", "-.")
        for i, (name, value) in enumerate(evaluation.baselines.items()):
            ax.axhline(
                value, color="#C44E52", linestyle=styles[i % len(styles)], label=f"{name} baseline ({value:.2f})"
            )
        ax.set_ylabel(short_title(evaluation.metric))
        ax.set_title(f"{title}: OOF {short_title(evaluation.metric)} per fold")
        ax.legend(fontsize=7, loc="lower right")
        save_figure(fig, path)

    def record(self, evaluation: Evaluation, truth: TT, test: TP) -> dict:
        """How many test answers came out empty."""
        return {"test_empty_answers": int(sum(1 for t in test.texts if not str(t).strip()))}

    def threshold_notes(self, cfg: ThresholdConfig) -> list[str]:
        return []

    # --- submissions ---

    def submission_frame(self, ids: np.ndarray, preds: TP, decider: Rule[TP]) -> pd.DataFrame:
        """``id,<answer column>`` in the sample's row order."""
        frame = pd.DataFrame({self.id_column: ids, self.answer_column: decider.predict(preds)})
        order = pd.Index(frame[self.id_column]).get_indexer(self.sample[self.id_column])
        return frame.iloc[order].reset_index(drop=True)

    def write_submission(self, path: Path, frame: pd.DataFrame) -> str:
        """Write ``frame`` (every cell quoted, as Kaggle's text competitions take it) if it validates."""
        self._check_frame(frame, str(path))
        return artifacts.write_hashed(path, lambda tmp: frame.to_csv(tmp, index=False, quoting=csv.QUOTE_ALL))

    def validate_submission(self, path: Path) -> pd.DataFrame:
        frame = read_csv(Path(path))
        self._check_frame(frame, str(path))
        return frame

    #: whether a submission may hold an empty answer (span: yes, an answer may be empty)
    allow_empty_answers = True

    def _check_frame(self, frame: pd.DataFrame, source: str) -> None:
        columns = [self.id_column, self.answer_column]
        if list(frame.columns) != columns:
            raise FoldwiseError(f"{source}: columns {list(frame.columns)}, the sample has {columns}")
        ids, expected = frame[self.id_column].astype(str).tolist(), self.sample[self.id_column].astype(str).tolist()
        if ids != expected:
            at = next((i for i, (a, b) in enumerate(zip(ids, expected)) if a != b), min(len(ids), len(expected)))
            raise FoldwiseError(
                f"{source}: row {at + 2}: ids differ from the sample submission "
                f"({len(ids)} rows, the sample has {len(expected)})"
            )
        if not self.allow_empty_answers:
            empty = np.flatnonzero(frame[self.answer_column].fillna("").astype(str).str.strip() == "")
            if empty.size:
                raise FoldwiseError(
                    f"{source}: row {empty[0] + 2}: empty '{self.answer_column}' for id "
                    f"'{frame[self.id_column].iloc[empty[0]]}' ({empty.size} empty in all; "
                    "set data.allow_empty_answers: true if the competition takes them)"
                )

    def score_submission(self, path: Path, solution: Path) -> dict[str, float]:
        """The metric (first) and secondary scores of a submission against a solution file
        (``id,<answer column>``, a cell a JSON list where a row has several gold answers)."""
        frame = self.validate_submission(path)
        return self._score_answers(frame, path, solution)

    def score_untuned(self, probs_path: Path, solution: Path) -> dict[str, float]:
        """The scores of a predictions file (``<name>.probs.csv``: id, answer, ...)."""
        frame = read_csv(Path(probs_path))
        return self._score_answers(frame, probs_path, solution)

    def _score_answers(self, frame: pd.DataFrame, path: Path, solution: Path) -> dict[str, float]:
        solution_frame = read_csv(Path(solution))
        for source, table in ((path, frame), (solution, solution_frame)):
            for column in (self.id_column, self.answer_column):
                if column not in table.columns:
                    raise FoldwiseError(f"{source}: missing column '{column}'")
        golds = dict(zip(solution_frame[self.id_column], solution_frame[self.answer_column].fillna("")))
        ids = frame[self.id_column].tolist()
        missing = [i for i in ids if i not in golds]
        if missing or len(golds) != len(ids):
            detail = f"id '{missing[0]}' is not in the solution" if missing else "the ids differ"
            raise FoldwiseError(f"{solution}: ids differ from {path} ({detail}); nothing scored")
        truth = self.gold_truth([gold_list(golds[i]) for i in ids])
        return self.scores(truth, frame[self.answer_column].fillna("").to_numpy(dtype=object))

    def gold_truth(self, answers: list[list[str]]) -> TT:
        """A truth object holding only gold answers (what scoring a file needs)."""
        raise NotImplementedError


def training_frame(data: CompetitionData, path: Path, kind: str) -> pd.DataFrame:
    """The training rows as read (``path``), where a text task reads its truth."""
    if data.train_frame is None:
        raise FoldwiseError(f"{path}: task {kind} reads its truth from the training rows, which were not loaded")
    return data.train_frame


def score_table(evaluation: Evaluation) -> str:
    """The OOF metric, its secondary scores, per fold, and the baselines, as printed after training."""
    metric = evaluation.metric
    lines = [f"OOF {short_title(metric)} {shown_score(metric, evaluation.score)} on {evaluation.rows} rows"]
    lines += [f"  {short_title(name)} {shown_score(name, value)}" for name, value in evaluation.tuned.items()]
    lines += [f"  fold {s.fold}: {shown_score(metric, s.tuned)} ({s.rows} rows)" for s in evaluation.per_fold]
    lines += [f"  baseline {name}: {shown_score(metric, value)}" for name, value in evaluation.baselines.items()]
    return "\n".join(lines)


def gold_list(cell: str) -> list[str]:
    """A solution cell: a JSON list of gold answers, or one answer as it is."""
    text = str(cell)
    if text.startswith("["):
        try:
            values = json.loads(text)
        except json.JSONDecodeError:
            return [text]
        if isinstance(values, list) and values:
            return [str(v) for v in values]
    return [text]
