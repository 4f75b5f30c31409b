"""Text generation (abstractive QA, summarization, rewrites): the target is free text.

Each row's input is its text columns (filled into ``data.text_template``, e.g.
``"question: {question} context: {context}"``); the truth is the ``data.target_column``
text (several references where a solution lists them as a JSON list). A model generates
one text per row (:class:`GenerationPredictions`); fold models' test texts are combined,
and runs blended, by minimum-Bayes-risk selection (:mod:`foldwise.tasks.mbr`) under the
competition's metric. Metrics: ``squad`` (token F1, exact match beside it; 0-100) and
``rouge`` (ROUGE-1, with ROUGE-2/L/Lsum beside it; 0-100). Every report shows the
baselines that need no model: the first one and three sentences of the document
(``lead1``, ``lead3``) with ROUGE, the document's sentence sharing most words with the
question (``overlap``) with SQuAD. Submissions are ``id,<target>``, every cell quoted;
an empty text is refused unless ``data.allow_empty_answers``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...config import DataConfig
from ...data.competition import CompetitionData
from ...errors import FoldwiseError
from ...io import artifacts
from ...io.tables import read_csv
from .. import MetricGuess, SampleFacts, mbr
from ..span.baselines import overlap_sentence, split_sentences
from ..text_answers import TextAnswerTask, training_frame
from ..text_metrics import pair_similarity
from .predictions import GenerationPredictions

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .head import GenerationHead


def guess_metric(kind: str, facts: SampleFacts) -> MetricGuess:
    """``foldwise init``'s metric for a generation competition: ROUGE-1."""
    return MetricGuess("rouge", "free-text target: ROUGE-1; squad for short answers")


@dataclass
class GenerationTruth:
    """The reference texts of some rows, and their input columns (for the baselines).

    Attributes
    ----------
    answers : per row, its reference texts (the first is the one training learns).
    columns : input column name -> (n,) object array of its raw text.
    """

    answers: list[list[str]]
    columns: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.answers)

    def __getitem__(self, rows: Any) -> GenerationTruth:
        rows = np.asarray(rows)
        return GenerationTruth([self.answers[r] for r in rows], {k: v[rows] for k, v in self.columns.items()})

    @property
    def first(self) -> list[str]:
        """The first reference of every row: what training learns."""
        return [golds[0] for golds in self.answers]


def lead(text: str, k: int) -> str:
    """The first ``k`` sentences of ``text`` (the lead-k summarization baseline)."""
    spans = split_sentences(str(text))[:k]
    return str(text)[spans[0][0] : spans[-1][1]].strip() if spans else str(text).strip()


class GenerationTask(TextAnswerTask[GenerationPredictions, GenerationTruth]):
    """A text-generation competition: input texts in, one generated text per row out.

    Parameters
    ----------
    data_cfg : the data config (``text_template`` or ``text_columns``, ``target_column``,
        ``metric``, ``id_column``, ``allow_empty_answers``).
    label_names : the sample submission's one target column.
    sample : the sample submission frame.
    data : the loaded competition (None where only predicting): its targets are checked here.
    """

    def __init__(
        self, data_cfg: DataConfig, label_names: list[str], sample: pd.DataFrame, data: CompetitionData | None = None
    ):
        if len(label_names) != 1:
            raise FoldwiseError(
                f"{data_cfg.path / data_cfg.sample_submission_file}: task generation submits one "
                f"text column besides '{data_cfg.submission_id_column}', the sample has "
                f"{len(label_names)}"
            )
        super().__init__("generation", data_cfg, label_names, sample, data)
        self.allow_empty_answers = data_cfg.allow_empty_answers
        self._similarity = pair_similarity(self.metric.name)
        self._agreement: tuple[tuple, np.ndarray] | None = None  # the last blend's pairwise similarities

    # --- truth, folds, predictions ---

    predictions_class = GenerationPredictions

    def read_truth(self, data: CompetitionData) -> GenerationTruth:
        return _read_truth(data, self.cfg)

    def head(self, model_cfg: Any) -> GenerationHead:
        """Teacher-forced training on the target text, generation for predictions."""
        from .head import GenerationHead

        return GenerationHead(model_cfg, self.untuned_scores, self.metric)

    def no_predictions(self) -> GenerationPredictions:
        return GenerationPredictions(np.array([], dtype=object))

    def save_fold(
        self, path: Path, valid_ids: np.ndarray, valid: GenerationPredictions, test: GenerationPredictions
    ) -> None:
        """``fold_<k>.npz``: the validation and test texts."""
        with artifacts.atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(
                fh,
                valid_ids=np.asarray(valid_ids, dtype=str),
                valid_texts=_strings(valid.texts),
                test_texts=_strings(test.texts),
            )

    def load_fold(self, path: Path) -> tuple[np.ndarray, GenerationPredictions, GenerationPredictions]:
        with np.load(path, allow_pickle=False) as saved:
            if "valid_texts" not in saved:
                raise FoldwiseError(f"{path}: not a generation fold file (no texts); retrain the run")
            return (
                saved["valid_ids"],
                GenerationPredictions(saved["valid_texts"].astype(object)),
                GenerationPredictions(saved["test_texts"].astype(object)),
            )

    def combine_test(self, folds: list[GenerationPredictions]) -> GenerationPredictions:
        """Per row the fold models' consensus text (minimum-Bayes-risk selection, equal weights)."""
        if len(folds) == 1:
            return folds[0]
        return self.blend(folds, np.full(len(folds), 1 / len(folds)))

    def blend(self, members: list[GenerationPredictions], weights: np.ndarray) -> GenerationPredictions:
        """Per row the member text agreeing most with the weighted members (:mod:`.mbr`);
        the pairwise similarities are computed once per set of members."""
        used = [i for i, w in enumerate(weights) if w > 0]
        if len(used) == 1:
            return members[used[0]]
        key = tuple(id(m) for m in members) + (len(members[0]),)
        if self._agreement is None or self._agreement[0] != key:
            self._agreement = (key, mbr.agreement([m.texts for m in members], self._similarity))
        return GenerationPredictions(mbr.select([m.texts for m in members], weights, self._agreement[1]))

    def write_predictions(self, path: Path, ids: np.ndarray, preds: GenerationPredictions) -> None:
        """``id,<target>`` CSV, every cell quoted."""
        frame = pd.DataFrame({self.id_column: ids, self.answer_column: preds.texts})
        artifacts.write_with(path, lambda tmp: frame.to_csv(tmp, index=False, quoting=csv.QUOTE_ALL))

    def read_predictions(self, path: Path) -> tuple[np.ndarray, GenerationPredictions]:
        frame = read_csv(path)
        for column in (self.id_column, self.answer_column):
            if column not in frame.columns:
                raise FoldwiseError(f"{path}: missing column '{column}'; retrain the run")
        texts = frame[self.answer_column].fillna("").to_numpy(dtype=object)
        return frame[self.id_column].to_numpy(dtype=str), GenerationPredictions(texts)

    # --- scores ---

    def gold_truth(self, answers: list[list[str]]) -> GenerationTruth:
        return GenerationTruth(answers, {})

    def baselines(self, truth: GenerationTruth) -> dict[str, float]:
        """``lead1`` and ``lead3`` of the document (ROUGE), or ``overlap`` (SQuAD): the
        document's sentence sharing most words with the question. The document is the
        input column with the longest texts, the question the one with the shortest."""
        if not truth.columns:
            return {}
        by_length = sorted(truth.columns, key=lambda c: np.mean([len(str(t)) for t in truth.columns[c]]))
        document = truth.columns[by_length[-1]]
        if self.metric.name == "squad" and len(by_length) > 1:
            question = truth.columns[by_length[0]]
            answers = {"overlap": [overlap_sentence(str(q), str(d)) for q, d in zip(question, document)]}
        else:
            answers = {f"lead{k}": [lead(d, k) for d in document] for k in (1, 3)}
        return {name: self.metric.score(truth, np.array(texts, dtype=object)) for name, texts in answers.items()}

    # --- reports ---

    def prediction_records(
        self, texts: list, preds: GenerationPredictions, decided: np.ndarray, top: int
    ) -> list[dict]:
        """``foldwise predict``: per input its generated text."""
        return [{"input": str(t), "output": str(o)} for t, o in zip(texts, decided)]

    def prediction_lines(self, record: dict) -> list[str]:
        shown = record["input"] if len(record["input"]) <= 100 else record["input"][:97] + "..."
        return [shown, f"  -> {record['output']}"]

    def data_summary(self, data: CompetitionData, where: str) -> str:
        """One line on the competition's rows, read from ``where`` (the results notebook)."""
        return f"{data.name} (generation, {where}): {len(data.train_ids)} train rows, {len(data.test_ids)} test rows"

    def data_figure(self, data: CompetitionData, text_columns: list[str]) -> Figure:
        """Words per input and per target text."""
        from ...io.plots import pyplot

        plt = pyplot()
        fig, axes = plt.subplots(1, 2, figsize=(12, 4))
        pd.Series([len(str(t).split()) for t in data.train_texts]).plot.hist(
            bins=40, ax=axes[0], title="words per input"
        )
        pd.Series([len(golds[0].split()) for golds in self.truth(data).answers]).plot.hist(
            bins=40, ax=axes[1], title="words per target"
        )
        fig.suptitle(data.name)
        fig.tight_layout()
        return fig


def _strings(texts: np.ndarray) -> np.ndarray:
    """Texts as a fixed-width str array (npz without pickles)."""
    return np.asarray([str(t) for t in texts], dtype=str) if len(texts) else np.zeros(0, dtype=str)


def _read_truth(data: CompetitionData, cfg: DataConfig) -> GenerationTruth:
    """The training rows' target texts; an empty target is refused with its row."""
    path = cfg.path / cfg.train_file
    frame = training_frame(data, path, "generation")
    if cfg.target_column not in frame.columns:
        raise FoldwiseError(f"{path}: missing column '{cfg.target_column}' (data.target_column)")
    targets = frame[cfg.target_column].fillna("").astype(str)
    empty = np.flatnonzero(targets.str.strip().to_numpy() == "")
    if empty.size:
        raise FoldwiseError(
            f"{path}: row {empty[0] + 2}: empty target text in column '{cfg.target_column}' "
            f"(id '{data.train_ids[empty[0]]}'; {empty.size} such rows): fix or drop them"
        )
    columns = {c: frame[c].fillna("").astype(str).to_numpy(dtype=object) for c in cfg.input_columns}
    return GenerationTruth([[t] for t in targets], columns)


def generation_task(
    data_cfg: DataConfig, label_names: list[str], sample: pd.DataFrame, data: CompetitionData | None = None
) -> GenerationTask:
    """The ``TASKS`` builder of ``task: generation``."""
    return GenerationTask(replace(data_cfg, task="generation"), label_names, sample, data)
