"""Text classification (multi-label or single-label): predictions are (n, L) probabilities.

Truth is the (n, L) 0/1 matrix of :class:`foldwise.data.competition.CompetitionData`; decisions
come from :mod:`foldwise.tasks.classification.decisions` fit for the competition metric; submissions follow
:mod:`foldwise.io.submission`'s formats.
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
from ..ensemble import BLEND_METHODS, Stacker, after_decisions, blend
from ..evaluation import ClassScore, Evaluation, FoldScore, crossfit_score
from ..roles import R, Rule
from . import report
from .decisions import Decider, decider_from_record, decider_record, make_decider
from .probabilities import PROBABILITY_FORMAT, read_probabilities, save_probabilities
from .pseudo import confident_rows
from .submission import (
    FORMAT_WORDS,
    build_submission,
    check_format,
    infer_format,
    read_values,
    solution_truth,
    target_columns,
    validate_submission,
    write_submission,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .head import ClassificationHead


class ClassificationTask:
    """A classification competition: its labels, metric, decisions and submission format.

    Parameters
    ----------
    data_cfg : the data config (``task``, ``metric``, ``submission_format``, ``id_column``).
    label_names : the L labels, in the order of the probability columns.
    sample : the sample submission frame.

    Raises
    ------
    FoldwiseError
        A metric that does not fit the task, or a submission format that does not fit
        the sample, the task or the metric (roc_auc with a label-name submission, ...).
    """

    #: label probabilities blend every way (:mod:`foldwise.tasks.ensemble`)
    blend_methods = BLEND_METHODS
    #: the truth is label rows, which a teacher's probabilities can stand in for (distillation, pseudo-labels)
    soft_targets = True
    #: the predictions are label probabilities, not numbers
    numeric = False

    def __init__(self, data_cfg: DataConfig, label_names: list[str], sample: pd.DataFrame):
        self.kind: str = data_cfg.task
        self.task_reason = "set by data.task"
        self.metric = metrics.get_metric(data_cfg.metric, data_cfg.task)
        self.label_names = list(label_names)
        if self.kind == "binary" and len(self.label_names) != 1:
            raise FoldwiseError(
                f"task binary needs one 0/1 label column, got {len(self.label_names)} "
                f"({', '.join(self.label_names[:4])}{', ...' if len(self.label_names) > 4 else ''}); "
                "use task multilabel or multiclass"
            )
        self.id_column = data_cfg.submission_id_column
        self.sample = sample
        self.sample_path = data_cfg.path / data_cfg.sample_submission_file
        if data_cfg.submission_format == "auto":
            self.submission_format, why = infer_format(sample, self.id_column, self.label_names, self.kind, self.metric)
            self.format_reason = f"inferred from {self.sample_path}: {why}"
        else:
            self.submission_format = data_cfg.submission_format
            self.format_reason = "set by data.submission_format"
        check_format(
            self.submission_format,
            sample,
            self.id_column,
            self.label_names,
            self.kind,
            self.metric,
            str(self.sample_path),
        )

    @property
    def single_label(self) -> bool:
        """One label per row, probabilities summing to 1 (multiclass): argmax decisions, a
        multinomial stack, the top class as a teacher's confidence."""
        return self.kind == "multiclass"

    @property
    def task_line(self) -> str:
        """ "task: binary (inferred: ...)", and a hint when a 2-class multiclass task is scored
        by a class-averaged metric (Kaggle's 0/1 competitions score F1 of the positive class)."""
        line = task_line(self.kind, self.task_reason)
        hint = metrics.two_class_hint(self.metric.name, self.kind, len(self.label_names))
        return line if hint is None else f"{line}\n{hint}"

    @property
    def format_line(self) -> str:
        """ "submission format: binary (one 0/1 column per label; inferred from ...)" for printing."""
        return (
            f"submission format: {self.submission_format} ({FORMAT_WORDS[self.submission_format]}; "
            f"{self.format_reason})"
        )

    # --- truth, folds, predictions ---

    def truth(self, data: CompetitionData) -> np.ndarray:
        """The (n, L) 0/1 label matrix."""
        return data.labels

    def take(self, values: R, rows: np.ndarray) -> R:
        """Rows of a probability or label matrix."""
        return values[rows]

    def concat(self, parts: list[np.ndarray]) -> np.ndarray:
        """Probability matrices one after the other, as float32 (what fold files hold)."""
        return np.concatenate(parts).astype(np.float32)

    def stratify_on(self, data: CompetitionData) -> Strata:
        """The label matrix, balanced by iterative stratification (multi-label) or by class
        (single-label and binary)."""
        return Strata(data.labels, "iterative" if self.kind == "multilabel" else "classes", data.label_names)

    def head(self, model_cfg: Any) -> ClassificationHead:
        """A linear layer of L logits: sigmoid per label or softmax, with the config's loss."""
        from .head import ClassificationHead

        return ClassificationHead(self.kind, len(self.label_names), model_cfg, self.untuned_scores, self.metric)

    def no_predictions(self) -> np.ndarray:
        """(0, L) probabilities."""
        return np.zeros((0, len(self.label_names)), dtype=np.float32)

    def save_fold(self, path: Path, valid_ids: np.ndarray, valid: np.ndarray, test: np.ndarray) -> None:
        """``fold_<k>.npz``: ``valid_ids``, ``valid_probs``, ``test_probs``."""
        with artifacts.atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, valid_ids=valid_ids, valid_probs=valid, test_probs=test)

    def load_fold(self, path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What :meth:`save_fold` wrote."""
        with np.load(path, allow_pickle=False) as saved:
            return saved["valid_ids"], saved["valid_probs"], saved["test_probs"]

    def combine_test(self, folds: list[np.ndarray]) -> np.ndarray:
        """The mean of the fold models' test probabilities."""
        test = np.zeros(np.shape(folds[0]), dtype=np.float64)
        for probs in folds:
            test += probs / len(folds)
        return test.astype(np.float32)

    def as_stored(self, preds: np.ndarray) -> np.ndarray:
        """The probabilities at the 6 significant digits ``test.csv`` keeps (:func:`save_probabilities`)."""
        return np.char.mod(PROBABILITY_FORMAT, np.asarray(preds, dtype=np.float64)).astype(np.float64)

    def write_predictions(self, path: Path, ids: np.ndarray, preds: np.ndarray) -> None:
        """``id`` + one probability column per label."""
        save_probabilities(path, ids, preds, self.label_names)

    def read_predictions(self, path: Path) -> tuple[np.ndarray, np.ndarray]:
        """A probability file of this task's labels; other columns or bad cells are refused."""
        ids, probs, names = read_probabilities(path)
        if names != self.label_names:
            raise FoldwiseError(f"{path}: label columns {names[:4]} differ from the task's {self.label_names[:4]}")
        return ids, probs

    def untuned_text(self, scores: dict[str, float]) -> str:
        """ "macro-F1 0.4120 (accuracy 0.5000, ...)" at 0.5 / argmax."""
        return report.untuned_score_text(scores, self)

    def report(self, evaluation: Evaluation, oof: np.ndarray, truth: np.ndarray, out: Path, title: str) -> str:
        """``per_class_f1.png`` (per-label F1, or per-label ROC AUC / log loss for a metric scored on
        probabilities) and, with cuts, ``threshold_curves.png``; the per-class table."""
        report.plot_per_class_f1(evaluation, out / "per_class_f1.png", title)
        if not evaluation.single_label and not evaluation.on_probabilities:  # no cut to plot
            report.plot_threshold_curves(
                oof, truth, self.label_names, evaluation.decider.thresholds_, out / "threshold_curves.png"
            )
        return report.per_class_table(evaluation)

    def plot(self, evaluation: Evaluation, path: Path, title: str) -> None:
        """Per-class F1, untuned and tuned."""
        report.plot_per_class_f1(evaluation, path, title)

    def record(self, evaluation: Evaluation, truth: np.ndarray, test: np.ndarray) -> dict:
        """The share of test cells decided positive, beside the OOF label rate."""
        decided = np.asarray(evaluation.decider.predict(test)) if self.metric.needs_decision else None
        return {
            "test_label_rate": None if decided is None else float(decided.mean()),
            "oof_label_rate": float(truth.mean()),
        }

    def prediction_records(self, texts: list, preds: np.ndarray, decided: np.ndarray, top: int) -> list[dict]:
        """``foldwise predict``: per text its predicted labels and top-k probabilities."""
        out = []
        for text, p, d in zip(texts, preds, decided):
            order = np.argsort(-p)[:top]
            out.append(
                {
                    "text": text,
                    "labels": [self.label_names[j] for j in np.flatnonzero(d)],
                    "top": [{"label": self.label_names[j], "probability": round(float(p[j]), 4)} for j in order],
                }
            )
        return out

    def prediction_lines(self, record: dict) -> list[str]:
        """A record of :meth:`prediction_records` as printed."""
        text = record["text"]
        lines = [text if isinstance(text, str) else " || ".join(text)]
        if len(self.label_names) == 1:  # a binary run: its 0/1 target
            lines.append(f"  predicted: {self.label_names[0]} = {int(bool(record['labels']))}")
        else:
            lines.append(f"  predicted: {', '.join(record['labels']) or '(none above threshold)'}")
        lines += [f"    {item['label']:<16} {item['probability']:.4f}" for item in record["top"]]
        return lines

    def threshold_notes(self, cfg: ThresholdConfig) -> list[str]:
        """Lines on threshold settings this task does not use."""
        if self.kind == "binary" and cfg.at_least_one:
            return ["thresholds.at_least_one: not used on binary data (it would make every row positive)"]
        return []

    def data_summary(self, data: CompetitionData, where: str) -> str:
        """One line on the competition's rows and labels, read from ``where`` (the results notebook)."""
        kind = {"multiclass": "single-label", "multilabel": "multi-label", "binary": "binary"}[self.kind]
        return (
            f"{data.name} ({kind}, {where}): {len(data.train_ids)} train rows, {len(data.test_ids)} test rows, "
            f"{data.n_labels} labels"
        )

    def data_figure(self, data: CompetitionData, text_columns: list[str]) -> Figure:
        """Rows per class (or positives per label), words per text and, multi-label, labels per row."""
        import pandas as pd

        from ...io.plots import pyplot

        plt = pyplot()
        single = self.kind != "multilabel"  # one label per row: multiclass, or binary's 0/1
        counts = pd.Series(data.labels.sum(axis=0), index=data.label_names).sort_values()
        fig, axes = plt.subplots(1, 2 if single else 3, figsize=(15, max(4, 0.2 * data.n_labels + 1)))
        counts.plot.barh(ax=axes[0], fontsize=7, title="rows per class" if single else "positives per label")
        pd.Series([len(str(t).split()) for t in data.train_texts]).plot.hist(
            bins=40, ax=axes[1], title=f"words per text ({' + '.join(text_columns)})"
        )
        if not single:
            pd.Series(data.labels.sum(axis=1)).value_counts().sort_index().plot.bar(ax=axes[2], title="labels per row")
        fig.suptitle(data.name)
        fig.tight_layout()
        return fig

    # --- decisions ---

    def decider(self, cfg: ThresholdConfig) -> Decider:
        """The unfitted rule maximising the metric; ``at_least_one: None`` is searched on OOF
        except for a per-label metric (macro-F1), whose per-class cuts are exact on their own."""
        at_least_one = cfg.at_least_one
        if at_least_one is None and self.metric.per_label:
            at_least_one = False
        return make_decider(self.metric, self.kind, cfg.mode, cfg.value, at_least_one, cfg.class_bias)

    def baseline(self) -> Decider:
        """The untuned rule: a 0.5 cut (multi-label) or argmax (single-label); probabilities as
        they are for metrics scored on probabilities."""
        return make_decider(self.metric, self.kind, "fixed", 0.5, False, False)

    def _untuned_decisions(self, probs: np.ndarray, truth: np.ndarray) -> np.ndarray:
        """0/1 decisions of the untuned 0.5 cut or argmax, whatever the metric: the secondary
        scores of metrics on probabilities, and of probability submissions, are read from them."""
        rule = make_decider(metrics.get_metric("macro_f1", self.kind), self.kind, "fixed", 0.5, False)
        return rule.fit(probs, truth).predict(probs)

    def load_decider(self, record: dict, source: str) -> Decider:
        """The fitted decider a ``thresholds.json`` record describes."""
        return decider_from_record(record, self.metric, self.label_names, source)

    def shown_decider(self, record: dict, source: str) -> Decider:
        """The saved decider; for a metric scored on probabilities (which decides nothing), the
        untuned rule (a 0.5 cut, or argmax) so that labels can be shown."""
        decider = self.load_decider(record, source)
        if decider.kind not in ("probabilities", "calibrated"):
            return decider
        untuned = (
            {"kind": "argmax"}
            if self.single_label
            else {"kind": "cuts", "mode": "fixed", "thresholds": dict.fromkeys(self.label_names, 0.5)}
        )
        return decider_from_record(untuned, self.metric, self.label_names, source)

    def pseudo_label_rows(
        self, per_fold: Sequence[np.ndarray], k: int, oof: np.ndarray, right: np.ndarray, min_agreement: float
    ) -> tuple[np.ndarray, str]:
        """The test rows fold k's teacher models are confident of, at a cut chosen on the teacher's
        OOF rows outside fold k (:func:`foldwise.tasks.classification.pseudo.confident_rows`)."""
        return confident_rows(per_fold, k, oof, right, min_agreement, self.single_label)

    def secondary(self, truth: np.ndarray, decided: np.ndarray) -> dict[str, float]:
        """The secondary scores of 0/1 decisions: accuracy and macro-F1 (single-label, where
        micro-F1 is the accuracy), macro-F1, micro-F1 and exact-match accuracy (multi-label),
        or F1 of the positive class, accuracy and MCC (binary)."""
        names = self.metric.secondary_for(self.kind)
        if self.kind == "binary":
            return {name: metrics.get_metric(name, "binary").score(truth, decided) for name in names}
        scores = metrics.scores(truth, decided)
        return {name: scores[name] for name in names}

    def untuned_scores(self, preds: np.ndarray, truth: np.ndarray) -> dict[str, float]:
        """The metric of the untuned rule first, then the secondary scores of its decisions."""
        value = self.metric.score(truth, self.baseline().fit(preds, truth).predict(preds))
        return {self.metric.name: value, **self.secondary(truth, self._untuned_decisions(preds, truth))}

    def blend(self, members: list[np.ndarray], weights: np.ndarray) -> np.ndarray:
        """The weighted mean of the members' (n, L) probabilities."""
        return blend(members, weights)

    def stacker(self) -> Stacker:
        """A level-2 logistic regression on the members' logits (multinomial for one label per row)."""
        return Stacker(self.single_label)

    def objective(self, cfg: ThresholdConfig, truth: np.ndarray) -> Callable[[np.ndarray], float]:
        """probs -> the metric after fitting ``decider(cfg)`` on them (negated for losses)."""
        return after_decisions(self.metric, lambda: self.decider(cfg), truth)

    # --- evaluation ---

    def evaluate(self, preds: np.ndarray, truth: np.ndarray, fold: np.ndarray, cfg: ThresholdConfig) -> Evaluation:
        """Fit the decider on OOF probabilities and score them: the metric tuned, untuned and
        cross-fitted, secondary scores, per fold and per class.

        A calibration is kept only if its cross-fitted score beats the raw probabilities';
        otherwise the raw ones are used and ``decision["calibration_not_kept"]`` says why."""
        decider = self.decider(cfg).fit(preds, truth)
        baseline = self.baseline().fit(preds, truth)
        crossfit = (
            crossfit_score(self.metric, preds, truth, fold, lambda: self.decider(cfg)) if decider.learns else None
        )
        not_kept = None
        if decider.kind == "calibrated":
            raw = self.metric.score(truth, preds)
            if crossfit is None or not self.metric.improves(crossfit, raw):
                not_kept = {"raw": raw, "crossfit": crossfit}
                decider, crossfit = baseline, None
        tuned_pred, base_pred = decider.predict(preds), baseline.predict(preds)
        untuned_decided = self._untuned_decisions(preds, truth)
        tuned_decided = tuned_pred if self.metric.needs_decision else untuned_decided
        per_fold = [
            FoldScore(
                fold=int(k),
                rows=int((fold == k).sum()),
                untuned=self.metric.score(truth[fold == k], base_pred[fold == k]),
                tuned=self.metric.score(truth[fold == k], tuned_pred[fold == k]),
            )
            for k in np.unique(fold)
        ]
        f1_untuned = metrics.f1_per_class(truth, untuned_decided)
        f1_tuned = metrics.f1_per_class(truth, tuned_decided)
        cuts = decider.thresholds_
        label_metric_untuned, label_metric_tuned = self._per_label_metric(truth, base_pred, tuned_pred)
        per_class = {
            name: ClassScore(
                support=int(truth[:, j].sum()),
                f1_untuned=float(f1_untuned[j]),
                f1_tuned=float(f1_tuned[j]),
                threshold=None if cuts is None else float(cuts[j]),
                metric_untuned=label_metric_untuned[j],
                metric_tuned=label_metric_tuned[j],
            )
            for j, name in enumerate(self.label_names)
        }
        decision = decider_record(decider, self.label_names)
        if not_kept is not None:
            decision["calibration_not_kept"] = not_kept
        return Evaluation(
            metric=self.metric.name,
            greater_is_better=self.metric.greater_is_better,
            task=self.kind,
            rows=int(len(truth)),
            decision=decision,
            score=self.metric.score(truth, tuned_pred),
            score_untuned=self.metric.score(truth, base_pred),
            score_crossfit=crossfit,
            tuned=self.secondary(truth, tuned_decided),
            untuned=self.secondary(truth, untuned_decided),
            per_fold=per_fold,
            per_class=per_class,
            decider=decider,
        )

    def _per_label_metric(
        self, truth: np.ndarray, raw: np.ndarray, fitted: np.ndarray
    ) -> tuple[list[float | None], list[float | None]]:
        """Each label's value of a metric scored on probabilities, of the raw and of the fitted
        (calibrated) probabilities; None per label for metrics scored on decisions (they report
        F1 and cuts) and where a label has no value (one class only)."""
        if self.metric.needs_decision:
            return [None] * len(self.label_names), [None] * len(self.label_names)
        untuned, tuned = (
            [
                None if np.isnan(v) else float(v)
                for v in metrics.per_label_scores(self.metric.name, self.kind, truth, probs)
            ]
            for probs in (raw, fitted)
        )
        return untuned, tuned

    # --- submissions ---

    def submission_frame(self, ids: np.ndarray, preds: np.ndarray, decider: Rule[np.ndarray]) -> pd.DataFrame:
        """The sample's ids and columns, filled in the resolved format: decisions of the fitted
        ``decider``, or the probabilities (as the decider calibrated them, for log loss)."""
        values = decider.predict(preds)  # decisions, or the probabilities (calibrated for log loss)
        return build_submission(
            self.sample,
            self.id_column,
            ids,
            values,
            self.label_names,
            self.submission_format,
            rows_sum_to_one=self.single_label,
        )

    def write_submission(self, path: Path, frame: pd.DataFrame) -> str:
        """Write ``frame`` to ``path`` only if it validates in the resolved format; return the
        SHA-256 of the bytes written."""
        return write_submission(path, frame, self.sample, self.id_column, self.label_names, self.submission_format)

    def validate_submission(self, path: Path) -> pd.DataFrame:
        """Check ``path`` against the sample: columns, ids and order, cells in the resolved format."""
        return validate_submission(path, self.sample, self.id_column, self.label_names, self.submission_format)

    def _solution_truth(self, solution: pd.DataFrame, path: Path) -> np.ndarray:
        """(n, L) bool truth of a solution file: one target column (class or label list),
        or one 0/1 column per label."""
        if self.id_column not in solution.columns:
            raise FoldwiseError(f"{path}: missing column '{self.id_column}' (columns: {', '.join(solution.columns)})")
        single = len(target_columns(solution, self.id_column)) == 1 and list(solution.columns) != [
            self.id_column,
            *self.label_names,
        ]
        fmt = ("label" if self.single_label else "label_list") if single else "binary"
        values = read_values(solution, self.id_column, self.label_names, fmt, path)
        return solution_truth(values, path, self.label_names, single_label=self.single_label)

    def score_submission(self, path: Path, solution: Path) -> dict[str, float]:
        """The metric (first) and secondary scores of a valid submission against a solution file
        holding the truth of the same ids (rows may come in any order)."""
        path, solution = Path(path), Path(solution)
        sub = self.validate_submission(path)
        truth = self._truth_of(sub[self.id_column].to_numpy(), solution, path)
        preds = read_values(sub, self.id_column, self.label_names, self.submission_format, path)
        decided = (
            preds
            if self.submission_format != "probabilities"
            else self._untuned_decisions(preds, truth).astype(np.float64)
        )
        value = self.metric.score(truth, preds if not self.metric.needs_decision else decided)
        return {self.metric.name: value, **self.secondary(truth, decided.astype(bool))}

    def score_untuned(self, probs_path: Path, solution: Path) -> dict[str, float]:
        """The metric (first) and secondary scores of a probabilities file (``<name>.probs.csv``:
        id + one column per label) decided the untuned way (0.5 per label / argmax), against a
        solution file: what a model scores without fitted decisions."""
        probs_path, solution = Path(probs_path), Path(solution)
        frame = read_csv(probs_path)
        if self.id_column not in frame.columns:
            raise FoldwiseError(f"{probs_path}: missing column '{self.id_column}'")
        truth = self._truth_of(frame[self.id_column].to_numpy(), solution, probs_path)
        probs = read_values(frame, self.id_column, self.label_names, "probabilities", probs_path)
        return self.untuned_scores(probs, truth)

    def _truth_of(self, ids: np.ndarray, solution: Path, path: Path) -> np.ndarray:
        """(n, L) bool truth of ``ids`` (the rows of ``path``) from a solution file holding the same ids."""
        truth_frame = read_csv(solution)
        truth = self._solution_truth(truth_frame, solution)
        truth_ids = truth_frame[self.id_column].to_numpy()
        missing, extra = set(ids) - set(truth_ids), set(truth_ids) - set(ids)
        if missing or extra or len(truth_ids) != len(ids):
            detail = (
                f"submission id '{sorted(missing)[0]}' is not in the solution"
                if missing
                else f"solution id '{sorted(extra)[0]}' is not in the submission"
                if extra
                else "repeated ids"
            )
            raise FoldwiseError(f"{solution}: ids differ from {path} ({detail}); nothing scored")
        return truth[pd.Index(truth_ids).get_indexer(ids)]
