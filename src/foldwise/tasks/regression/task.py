"""Regression and ordinal scores: predictions are (n, K) numbers, one column per target.

Truth is the (n, K) targets read from the training rows (``label_columns``, ``target_column``
or the sample's columns). Folds balance quantile bins of each target. Decisions, fit on OOF
(:mod:`foldwise.tasks.regression.decisions`): regression clips to the training range; an ordinal
task (``task: ordinal``, or a metric on integer levels such as ``qwk``) cuts the numbers into
levels at points fit for the metric, rounding being the untuned decision. Submissions are
``id,<targets>`` in the sample's layout.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...config import DataConfig, ThresholdConfig
from ...data.competition import CompetitionData, task_line
from ...data.folds import Strata
from ...errors import FoldwiseError
from ...io import artifacts
from ...io.tables import read_csv
from .. import metrics
from ..ensemble import BLEND_METHODS, RidgeStacker, after_decisions, blend
from ..evaluation import Evaluation, FoldScore, crossfit_score
from ..metrics import score_title, shown_score
from ..roles import R, Rule
from . import report
from .decisions import Clip, Cuts, Raw, Rounding, rule_from_record, rule_record
from .files import (
    as_written,
    check_sample_cells,
    check_submission,
    read_prediction_file,
    save_numbers,
    submission_frame,
    write_submission,
)
from .pseudo import agreed_rows
from .targets import check_levels, check_varies, read_numbers, target_columns

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .head import RegressionHead

#: quantile bins per target that the folds balance (fewer where a target has fewer values)
FOLD_BINS = 10
#: the fewest rows a bin keeps; a smaller one joins a neighbour
MIN_BIN_ROWS = 5
#: metrics that rank: rank averaging suits them (errors such as RMSE need the numbers' own scale)
RANK_METRICS = ("pearson", "spearman", "qwk")

Rules = Raw | Clip | Rounding | Cuts


class RegressionTask:
    """A competition scored on numbers: one or several targets per text.

    Parameters
    ----------
    data_cfg : the data config (``task``, ``metric``, target columns, ``id_column``).
    label_names : the submission's target columns (the sample's, or ``label_columns``).
    sample : the sample submission frame.
    data : the loaded competition (None where only predicting): its targets are read and checked here.

    Raises
    ------
    FoldwiseError
        Target columns that do not match the sample's, a sample of labels, a target cell that is
        no number (or, ordinal, no whole number), a constant target.
    """

    soft_targets = True  # a teacher's predictions stand in for the targets (distillation)
    single_label = False
    numeric = True  # TF-IDF fits ridge regression

    def __init__(
        self, data_cfg: DataConfig, label_names: list[str], sample: pd.DataFrame, data: CompetitionData | None = None
    ):
        self.kind: str = data_cfg.task
        self.task_reason = "set by data.task"
        self.metric = metrics.get_metric(data_cfg.metric, self.kind)
        self.label_names = list(label_names)
        self.columns = target_columns(data_cfg, self.label_names)
        self.ordinal = self.kind == "ordinal" or self.metric.levels
        self.id_column = data_cfg.submission_id_column
        self.sample = sample
        self.sample_path = data_cfg.path / data_cfg.sample_submission_file
        self.train_path = data_cfg.path / data_cfg.train_file
        if len(self.columns) != len(self.label_names):
            raise FoldwiseError(
                f"{self.sample_path}: {len(self.label_names)} target column(s) ({', '.join(self.label_names)}), "
                f"but the data config names {len(self.columns)} ({', '.join(self.columns)})"
            )
        check_sample_cells(sample, [c for c in self.label_names if c in sample.columns], self.sample_path)
        self.submission_format = "levels" if self.ordinal else "numbers"
        self.format_reason = (
            f"one {'whole number' if self.ordinal else 'number'} per target column "
            f"({', '.join(self.label_names)}; task {self.kind})"
        )
        self._data: CompetitionData | None = None
        self._truth: np.ndarray | None = None
        if data is not None and data.train_frame is not None:
            self.truth(data)

    @property
    def task_line(self) -> str:
        """ "task: regression (set by data.task)"; an ordinal decision of a regression task is said."""
        line = task_line(self.kind, self.task_reason)
        if self.ordinal and self.kind != "ordinal":
            line += f"; metric {self.metric.name} scores integer levels: cut points are fit on OOF"
        return line

    @property
    def format_line(self) -> str:
        return f"submission format: {self.submission_format} ({self.format_reason})"

    @property
    def blend_methods(self) -> tuple[str, ...]:
        """Every method for a metric that ranks; no rank averaging for errors (RMSE, MAE)."""
        return BLEND_METHODS if self.metric.name in RANK_METRICS else tuple(m for m in BLEND_METHODS if m != "rank")

    # --- truth, folds, predictions ---

    def truth(self, data: CompetitionData) -> np.ndarray:
        """The (n, K) targets of the training rows (read and checked once per loaded data)."""
        if self._data is not data or self._truth is None:
            if data.train_frame is None:
                raise FoldwiseError(f"{self.train_path}: task {self.kind} reads its targets from the training rows")
            values = read_numbers(data.train_frame, self.columns, self.train_path)
            if self.ordinal:
                check_levels(values, self.columns, self.train_path, f"task {self.kind} with metric {self.metric.name}")
            check_varies(values, self.columns, self.train_path, self.metric.name)
            self._data, self._truth = data, values
        return self._truth

    def stratify_on(self, data: CompetitionData) -> Strata:
        """Quantile bins of each target (its levels, where it has few), one-hot: stratified on the
        one target's bin, or iterative stratification over every target's bins."""
        truth = self.truth(data)
        blocks, names = [], []
        for j, column in enumerate(self.columns):
            bins = quantile_bins(truth[:, j], FOLD_BINS)
            blocks.append(np.eye(bins.max() + 1, dtype=np.uint8)[bins])
            names += [f"{column} bin {b + 1}" for b in range(bins.max() + 1)]
        return Strata(np.hstack(blocks), "iterative" if len(self.columns) > 1 else "classes", names)

    def take(self, values: R, rows: np.ndarray) -> R:
        return values[rows]

    def concat(self, parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts).astype(np.float32)

    def head(self, model_cfg: Any) -> RegressionHead:
        """A linear output per target over the pooled encoder, trained on scaled targets."""
        from .head import RegressionHead

        return RegressionHead(len(self.label_names), model_cfg, self.untuned_scores, self.metric)

    def no_predictions(self) -> np.ndarray:
        return np.zeros((0, len(self.label_names)), dtype=np.float32)

    def combine_test(self, folds: list[np.ndarray]) -> np.ndarray:
        """The mean of the fold models' test predictions."""
        return np.mean(np.stack([np.asarray(f, dtype=np.float64) for f in folds]), axis=0).astype(np.float32)

    def blend(self, members: list[np.ndarray], weights: np.ndarray) -> np.ndarray:
        """The weighted mean of the members' predictions."""
        return blend(members, weights)

    def stacker(self) -> RidgeStacker:
        """A level-2 ridge regression per target on the members' predictions."""
        return RidgeStacker()

    # --- files ---

    def save_fold(self, path: Path, valid_ids: np.ndarray, valid: np.ndarray, test: np.ndarray) -> None:
        """``fold_<k>.npz``: ``valid_ids``, ``valid_preds``, ``test_preds``."""
        with artifacts.atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, valid_ids=valid_ids, valid_preds=valid, test_preds=test)

    def load_fold(self, path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        with np.load(path, allow_pickle=False) as saved:
            return saved["valid_ids"], saved["valid_preds"], saved["test_preds"]

    def write_predictions(self, path: Path, ids: np.ndarray, preds: np.ndarray) -> None:
        """``id`` + one column per target."""
        save_numbers(path, ids, preds, self.label_names)

    def read_predictions(self, path: Path) -> tuple[np.ndarray, np.ndarray]:
        return read_prediction_file(path, self.label_names)

    def as_stored(self, preds: np.ndarray) -> np.ndarray:
        """The predictions at the 8 significant digits ``test.csv`` keeps."""
        return as_written(preds)

    # --- decisions ---

    def _column_score(self, truth: np.ndarray, decided: np.ndarray) -> float:
        return self.metric.objective(truth, decided)

    def decider(self, cfg: ThresholdConfig) -> Rules:
        """Ordinal: cut points fit for the metric; regression: the clip to the training range
        (``thresholds.clip``), or the predictions as they are."""
        if self.ordinal:
            return Cuts(self._column_score)
        return Clip() if cfg.clip else Raw()

    def baseline(self) -> Rules:
        """The untuned decision: rounding (ordinal), or the raw prediction."""
        return Rounding() if self.ordinal else Raw()

    def load_decider(self, record: dict, source: str) -> Rules:
        return rule_from_record(record, self.label_names, source)

    shown_decider = load_decider

    def objective(self, cfg: ThresholdConfig, truth: np.ndarray) -> Callable[[np.ndarray], float]:
        return after_decisions(self.metric, lambda: self.decider(cfg), truth)

    def secondary(self, truth: np.ndarray, decided: np.ndarray) -> dict[str, float]:
        """The secondary scores of decided values (RMSE beside a correlation, Pearson beside QWK, ...)."""
        return {
            name: metrics.get_metric(name, self.kind).score(truth, decided)
            for name in self.metric.secondary_for(self.kind)
        }

    def untuned_scores(self, preds: np.ndarray, truth: np.ndarray) -> dict[str, float]:
        decided = self.baseline().fit(preds, truth).predict(preds)
        return {self.metric.name: self.metric.score(truth, decided), **self.secondary(truth, decided)}

    def threshold_notes(self, cfg: ThresholdConfig) -> list[str]:
        notes = []
        if cfg.mode != "auto" or cfg.at_least_one is not None or cfg.class_bias:
            notes.append(
                "thresholds.mode, at_least_one and class_bias: not used on numbers (clip and the ordinal cuts are)"
            )
        if self.ordinal and not cfg.clip:
            notes.append("thresholds.clip: false has no effect on ordinal levels (they are within the training range)")
        return notes

    def pseudo_label_rows(
        self, per_fold: Sequence[np.ndarray], k: int, oof: np.ndarray, right: np.ndarray, min_agreement: float
    ) -> tuple[np.ndarray, str]:
        """The ``min_agreement`` share of test rows that the teacher's fold models agree on most (the
        least spread of their predictions, :func:`foldwise.tasks.regression.pseudo.agreed_rows`).
        Every fold model votes on the spread, the labels are still fold k's; numbers are never
        exactly right, so the OOF agreement that labels use gives no cut here."""
        return agreed_rows(per_fold, oof, min_agreement)

    def evaluate(self, preds: np.ndarray, truth: np.ndarray, fold: np.ndarray, cfg: ThresholdConfig) -> Evaluation:
        """Fit the decision on OOF predictions and score them: tuned, untuned, cross-fitted (cuts), per fold."""
        decider = self.decider(cfg).fit(preds, truth)
        baseline = self.baseline().fit(preds, truth)
        crossfit = (
            crossfit_score(self.metric, preds, truth, fold, lambda: self.decider(cfg)) if decider.learns else None
        )
        tuned, untuned = decider.predict(preds), baseline.predict(preds)
        per_fold = [
            FoldScore(
                fold=int(k),
                rows=int((fold == k).sum()),
                untuned=self.metric.score(truth[fold == k], untuned[fold == k]),
                tuned=self.metric.score(truth[fold == k], tuned[fold == k]),
            )
            for k in np.unique(fold)
        ]
        decision = rule_record(decider, self.label_names)
        decision["words"] = ["rounded", "cut"] if self.ordinal else ["raw", decider.kind]
        return Evaluation(
            metric=self.metric.name,
            greater_is_better=self.metric.greater_is_better,
            task=self.kind,
            rows=int(len(truth)),
            decision=decision,
            score=self.metric.score(truth, tuned),
            score_untuned=self.metric.score(truth, untuned),
            score_crossfit=crossfit,
            tuned=self.secondary(truth, tuned),
            untuned=self.secondary(truth, untuned),
            per_fold=per_fold,
            per_class={},
            decider=decider,
        )

    # --- submissions ---

    def submission_frame(self, ids: np.ndarray, preds: np.ndarray, decider: Rule[np.ndarray]) -> pd.DataFrame:
        """The sample's ids and target columns, filled with the decided numbers (levels)."""
        return submission_frame(
            self.sample, self.id_column, ids, decider.predict(preds), self.label_names, self.ordinal
        )

    def write_submission(self, path: Path, frame: pd.DataFrame) -> str:
        return write_submission(path, frame, self.sample, self.id_column, self.label_names, self.ordinal)

    def validate_submission(self, path: Path) -> pd.DataFrame:
        """Check ``path`` against the sample: columns, ids and order, a number (level) in every cell."""
        frame = read_csv(Path(path))
        check_submission(Path(path), frame, self.sample, self.id_column, self.label_names, self.ordinal)
        return frame

    def _truth_of(self, frame: pd.DataFrame, path: Path, solution: Path) -> np.ndarray:
        """(n, K) targets of the rows of ``frame`` (read from ``path``) in a solution file of the same ids."""
        truth_frame = read_csv(Path(solution))
        if self.id_column not in truth_frame.columns:
            raise FoldwiseError(f"{solution}: missing column '{self.id_column}'")
        values = read_numbers(truth_frame, self.label_names, Path(solution))
        ids, truth_ids = frame[self.id_column].to_numpy(), truth_frame[self.id_column].to_numpy()
        if set(ids) != set(truth_ids) or len(ids) != len(truth_ids):
            raise FoldwiseError(f"{solution}: ids differ from {path}; nothing scored")
        return values[pd.Index(truth_ids).get_indexer(ids)]

    def score_submission(self, path: Path, solution: Path) -> dict[str, float]:
        """The metric (first) and secondary scores of a valid submission against a solution file."""
        frame = self.validate_submission(path)
        truth = self._truth_of(frame, Path(path), Path(solution))
        values = read_numbers(frame, self.label_names, Path(path))
        return {self.metric.name: self.metric.score(truth, values), **self.secondary(truth, values)}

    def score_untuned(self, probs_path: Path, solution: Path) -> dict[str, float]:
        """The scores of a predictions file decided the untuned way (raw, or rounded levels)."""
        frame = read_csv(Path(probs_path))
        if self.id_column not in frame.columns:
            raise FoldwiseError(f"{probs_path}: missing column '{self.id_column}'")
        truth = self._truth_of(frame, Path(probs_path), Path(solution))
        return self.untuned_scores(read_numbers(frame, self.label_names, Path(probs_path)), truth)

    def record(self, evaluation: Evaluation, truth: np.ndarray, test: np.ndarray) -> dict:
        """The mean of the decided test values beside the OOF targets' mean, per target."""
        decided = np.asarray(evaluation.decider.predict(test), dtype=np.float64) if len(test) else None
        return {
            "test_mean": None if decided is None else dict(zip(self.label_names, map(float, decided.mean(axis=0)))),
            "oof_mean": dict(zip(self.label_names, map(float, np.asarray(truth).mean(axis=0)))),
        }

    # --- presentation ---

    def untuned_text(self, scores: dict[str, float]) -> str:
        first, *rest = scores.items()
        others = ", ".join(f"{score_title(k)} {shown_score(k, v)}" for k, v in rest)
        return f"{score_title(first[0])} {shown_score(*first)}" + (f" ({others})" if others else "")

    def report(self, evaluation: Evaluation, oof: np.ndarray, truth: np.ndarray, out: Path, title: str) -> str:
        """``predictions.png`` (per target: OOF prediction against truth, with the cuts, and the
        residuals by target bin) and the per-target table."""
        report.plot_predictions(evaluation, oof, truth, self.label_names, out / "predictions.png", title)
        return report.target_table(evaluation, oof, truth, self.label_names, self.metric)

    def plot(self, evaluation: Evaluation, path: Path, title: str) -> None:
        """The metric per fold, untuned and tuned."""
        report.plot_per_fold(evaluation, path, title)

    def prediction_records(self, texts: list, preds: np.ndarray, decided: np.ndarray, top: int) -> list[dict]:
        """``foldwise predict``: per text its predicted number(s) and the decision."""
        return [
            {
                "text": text,
                "predicted": dict(zip(self.label_names, map(float, p))),
                "decided": dict(zip(self.label_names, map(float, d))),
            }
            for text, p, d in zip(texts, np.asarray(preds), np.asarray(decided))
        ]

    def prediction_lines(self, record: dict) -> list[str]:
        text = record["text"]
        lines = [text if isinstance(text, str) else " || ".join(text)]
        for name, value in record["predicted"].items():
            decided = record["decided"][name]
            shown = f"{decided:g}" if self.ordinal else f"{decided:.4f}"
            lines.append(f"  {name}: {shown}" + (f" (predicted {value:.4f})" if decided != value else ""))
        return lines

    def data_summary(self, data: CompetitionData, where: str) -> str:
        kind = "ordinal scores" if self.ordinal else "regression"
        return (
            f"{data.name} ({kind}, {where}): {len(data.train_ids)} train rows, {len(data.test_ids)} test rows, "
            f"{len(self.label_names)} target(s)"
        )

    def data_figure(self, data: CompetitionData, text_columns: list[str]) -> Figure:
        """Each target's distribution and words per text."""
        from ...io.plots import pyplot

        plt = pyplot()
        truth = self.truth(data)
        fig, axes = plt.subplots(1, len(self.columns) + 1, figsize=(4 * (len(self.columns) + 1), 3.5))
        for j, column in enumerate(self.columns):
            axes[j].hist(truth[:, j], bins=min(40, max(5, len(np.unique(truth[:, j])))), color="#4C72B0")
            axes[j].set_title(column)
        axes[-1].hist(
            [len(str(t).split()) for t in np.asarray(data.train_texts).reshape(len(data.train_ids), -1)[:, 0]]
        )
        axes[-1].set_title(f"words per text ({' + '.join(text_columns)})")
        fig.suptitle(data.name)
        fig.tight_layout()
        return fig


def quantile_bins(values: np.ndarray, n_bins: int, min_rows: int = MIN_BIN_ROWS) -> np.ndarray:
    """(n,) bin index 0..B-1 of each value: its level where there are at most ``n_bins`` distinct
    values, else its quantile bin (equal-count edges; tied values share a bin). A bin of fewer
    than ``min_rows`` rows joins its smaller neighbour (a rare extreme score cannot be split)."""
    distinct = np.unique(values)
    if len(distinct) <= n_bins:
        bins = np.searchsorted(distinct, values)
    else:
        edges = np.unique(np.quantile(values, np.linspace(0, 1, n_bins + 1)[1:-1]))
        bins = np.searchsorted(edges, values, side="right")
    while True:
        _, bins, counts = np.unique(bins, return_inverse=True, return_counts=True)
        small = int(counts.argmin())
        if len(counts) < 2 or counts[small] >= min_rows:
            return bins
        neighbours = [b for b in (small - 1, small + 1) if 0 <= b < len(counts)]
        into = min(neighbours, key=lambda b: counts[b])
        bins = np.where(bins == small, into, bins)
