"""Span extraction (extractive QA, Tweet Sentiment Extraction): the answer is a piece of the input.

Each row has a question (or a sentiment, or any prompt) and a context; the truth is the
answer text (several gold answers where the solution lists them) and, optionally, where it
starts. A model scores every context character as the start and the end of the answer
(:class:`SpanPredictions`: the decoded answer plus those character scores as
log-probabilities); fold models are combined, and runs blended, by averaging the
character scores before decoding again, so models with different tokenizers blend too.
Metrics: ``squad`` (token F1, exact match beside it; 0-100 as published, max over gold
answers) and ``word_jaccard`` (Tweet Sentiment Extraction's). Submissions are
``id,<answer column>``, every cell quoted.
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
from .. import MetricGuess, SampleFacts
from ..text_answers import TextAnswerTask, training_frame
from .baselines import overlap_sentence, whole_text
from .predictions import SpanPredictions, decode, log_probabilities
from .windows import average_char_scores

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .head import SpanHead

#: the character span limit when the training answers do not give one
DEFAULT_MAX_ANSWER_CHARS = 200


def guess_metric(kind: str, facts: SampleFacts) -> MetricGuess:
    """``foldwise init``'s metric for a span competition: word Jaccard where the question is a
    short category (a sentiment: Tweet Sentiment Extraction), else SQuAD's token F1."""
    if facts.short_question:
        return MetricGuess(
            "word_jaccard",
            "short categorical question (a sentiment): Tweet Sentiment "
            "Extraction's word Jaccard; squad if the questions are questions",
        )
    return MetricGuess("squad", "extractive QA: SQuAD token F1; word_jaccard for sentiment-span competitions")


@dataclass
class SpanTruth:
    """The gold answers of some rows.

    Attributes
    ----------
    questions, contexts : (n,) object arrays of str.
    answers : per row, its gold answer texts (the first is the one training learns).
    starts : (n,) int, the first answer's first character in the context.
    """

    questions: np.ndarray
    contexts: np.ndarray
    answers: list[list[str]]
    starts: np.ndarray

    def __len__(self) -> int:
        return len(self.contexts)

    def __getitem__(self, rows: Any) -> SpanTruth:
        rows = np.asarray(rows)
        return SpanTruth(self.questions[rows], self.contexts[rows], [self.answers[r] for r in rows], self.starts[rows])

    @property
    def first(self) -> list[str]:
        """The first gold answer of every row."""
        return [golds[0] for golds in self.answers]


class SpanTask(TextAnswerTask[SpanPredictions, SpanTruth]):
    """A span-extraction competition: questions and contexts in, answer spans out.

    Parameters
    ----------
    data_cfg : the data config (``question_column``, ``context_column``, ``answer_column``,
        optional ``answer_start_column``, ``metric``, ``id_column``).
    label_names : ``[answer_column]``: the submission's one target column.
    sample : the sample submission frame.
    data : the loaded competition (None where only predicting): its training answers are
        checked here, and its contexts restore saved predictions.
    """

    def __init__(
        self, data_cfg: DataConfig, label_names: list[str], sample: pd.DataFrame, data: CompetitionData | None = None
    ):
        super().__init__("span", data_cfg, label_names, sample, data)
        self._contexts = (
            {}
            if data is None
            else {
                **dict(zip(data.train_ids, _side(data.train_texts, 1))),
                **dict(zip(data.test_ids, _side(data.test_texts, 1))),
            }
        )
        self._test_ids = None if data is None else data.test_ids
        longest = max((len(a) for golds in self._truth.answers for a in golds), default=0) if self._truth else 0
        self.max_answer_chars = max(longest, 1) if longest else DEFAULT_MAX_ANSWER_CHARS

    # --- truth, folds, predictions ---

    predictions_class = SpanPredictions

    def read_truth(self, data: CompetitionData) -> SpanTruth:
        return _read_truth(data, self.cfg)

    def head(self, model_cfg: Any) -> SpanHead:
        """Start and end logits per token over question + context windows."""
        from .head import SpanHead

        return SpanHead(model_cfg, self.untuned_scores, self.metric)

    def no_predictions(self) -> SpanPredictions:
        empty = np.array([], dtype=object)
        return SpanPredictions(empty, np.zeros(0, dtype=np.float32), [], [], empty)

    def save_fold(self, path: Path, valid_ids: np.ndarray, valid: SpanPredictions, test: SpanPredictions) -> None:
        """``fold_<k>.npz``: the validation answers and both sides' character scores (float16)."""
        _save_arrays(
            path, {"valid_ids": np.asarray(valid_ids, dtype=str), **_packed("valid", valid), **_packed("test", test)}
        )

    def load_fold(self, path: Path) -> tuple[np.ndarray, SpanPredictions, SpanPredictions]:
        with np.load(path, allow_pickle=False) as saved:
            ids = saved["valid_ids"]
            valid = _unpacked(saved, "valid", self._contexts_of(ids, path))
            test = _unpacked(saved, "test", self._contexts_of(self._test_ids, path))
        return ids, valid, test

    def combine_test(self, folds: list[SpanPredictions]) -> SpanPredictions:
        """The fold models' character scores averaged (their start/end logits per token, as
        log-probabilities), decoded again."""
        if len(folds) == 1:
            return folds[0]
        return self.blend(folds, np.full(len(folds), 1 / len(folds)))

    def write_predictions(self, path: Path, ids: np.ndarray, preds: SpanPredictions) -> None:
        """``id,<answer>,score`` CSV and the character scores beside it (``.scores.npz``)."""
        frame = pd.DataFrame({self.id_column: ids, self.answer_column: preds.texts, "score": preds.scores})
        _save_arrays(path.with_suffix(".scores.npz"), {"ids": np.asarray(ids, dtype=str), **_packed("rows", preds)})
        artifacts.write_with(path, lambda tmp: frame.to_csv(tmp, index=False, quoting=csv.QUOTE_NONNUMERIC))

    def read_predictions(self, path: Path) -> tuple[np.ndarray, SpanPredictions]:
        frame = read_csv(path)
        for column in (self.id_column, self.answer_column):
            if column not in frame.columns:
                raise FoldwiseError(f"{path}: missing column '{column}'; retrain the run")
        ids = frame[self.id_column].to_numpy(dtype=str)
        scores_path = path.with_suffix(".scores.npz")
        if not scores_path.is_file():
            raise FoldwiseError(f"{scores_path}: not found (the character scores of {path}); retrain the run")
        with np.load(scores_path, allow_pickle=False) as saved:
            if not np.array_equal(saved["ids"], ids):
                raise FoldwiseError(f"{scores_path}: its ids differ from {path}; retrain the run")
            preds = _unpacked(saved, "rows", self._contexts_of(ids, path))
        preds.texts = frame[self.answer_column].fillna("").to_numpy(dtype=object)
        return ids, preds

    def _contexts_of(self, ids: np.ndarray | None, path: Path) -> np.ndarray:
        if ids is None:
            raise FoldwiseError(f"{path}: span predictions need the competition's contexts (load its data)")
        missing = [i for i in ids if i not in self._contexts]
        if missing:
            raise FoldwiseError(f"{path}: id '{missing[0]}' is not in the current data; retrain the run")
        return np.array([self._contexts[i] for i in ids], dtype=object)

    # --- decisions and scores ---

    def blend(self, members: list[SpanPredictions], weights: np.ndarray) -> SpanPredictions:
        """Members' character log-probabilities averaged with ``weights``, decoded again."""
        used = [(m, w) for m, w in zip(members, weights) if w > 0]
        if len(used) == 1:
            return used[0][0]
        mixed = average_char_scores([list(zip(m.starts, m.ends)) for m, _ in used], [w for _, w in used])
        # the longest training answer bounds a span, but never cuts an answer a member gave itself
        limit = max([self.max_answer_chars, *(len(text) for m, _ in used for text in m.texts)])
        return decode(
            [log_probabilities(s) for s, _ in mixed],
            [log_probabilities(e) for _, e in mixed],
            members[0].contexts,
            limit,
        )

    def decision_record(self) -> dict[str, Any]:
        """The longest answer (characters) a blend may decode."""
        return {"max_answer_chars": self.max_answer_chars}

    def gold_truth(self, answers: list[list[str]]) -> SpanTruth:
        n = len(answers)
        return SpanTruth(
            np.array([""] * n, dtype=object), np.array([""] * n, dtype=object), answers, np.zeros(n, dtype=np.int64)
        )

    def baselines(self, truth: SpanTruth) -> dict[str, float]:
        """The metric of the overlap-sentence (QA) and whole-text (span extraction) answers."""
        overlap = np.array([overlap_sentence(q, c) for q, c in zip(truth.questions, truth.contexts)], dtype=object)
        whole = np.array([whole_text(c) for c in truth.contexts], dtype=object)
        return {"overlap": self.metric.score(truth, overlap), "whole_text": self.metric.score(truth, whole)}

    # --- reports ---

    def prediction_records(self, texts: list, preds: SpanPredictions, decided: np.ndarray, top: int) -> list[dict]:
        """``foldwise predict``: per question its answer and the answer's score."""
        return [
            {"question": str(q), "context": str(c), "answer": str(a), "score": round(float(s), 4)}
            for (q, c), a, s in zip(texts, decided, preds.scores)
        ]

    def prediction_lines(self, record: dict) -> list[str]:
        return [f"Q: {record['question']}", f"  answer: {record['answer']!r} (score {record['score']:.3f})"]

    def data_summary(self, data: CompetitionData, where: str) -> str:
        """One line on the competition's rows, read from ``where`` (the results notebook)."""
        return f"{data.name} (span, {where}): {len(data.train_ids)} train rows, {len(data.test_ids)} test rows"

    def data_figure(self, data: CompetitionData, text_columns: list[str]) -> Figure:
        """Words per context and per answer."""
        import pandas as pd

        from ...io.plots import pyplot

        plt = pyplot()
        fig, axes = plt.subplots(1, 2, figsize=(12, 4))
        pd.Series([len(str(c).split()) for c in _side(data.train_texts, 1)]).plot.hist(
            bins=40, ax=axes[0], title="words per context"
        )
        pd.Series([len(golds[0].split()) for golds in self.truth(data).answers]).plot.hist(
            bins=40, ax=axes[1], title="words per answer"
        )
        fig.suptitle(data.name)
        fig.tight_layout()
        return fig


def _side(texts: np.ndarray, j: int) -> np.ndarray:
    return np.asarray(texts, dtype=object)[:, j] if len(texts) else np.array([], dtype=object)


def _save_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``arrays`` as an ``.npz`` file (no pickles), written atomically."""
    with artifacts.atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)  # type: ignore[arg-type]  # numpy's stub reads a ** dict as maybe allow_pickle=


def _packed(prefix: str, preds: SpanPredictions) -> dict[str, np.ndarray]:
    """Ragged character scores as flat float16 arrays with row lengths (npz, no pickles)."""
    lengths = np.array([len(s) for s in preds.starts], dtype=np.int64)

    def flat(arrays: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(arrays).astype(np.float16) if arrays else np.zeros(0, np.float16)

    return {
        f"{prefix}_texts": np.asarray(preds.texts, dtype=str),
        f"{prefix}_scores": preds.scores,
        f"{prefix}_lengths": lengths,
        f"{prefix}_start": flat(preds.starts),
        f"{prefix}_end": flat(preds.ends),
    }


def _unpacked(saved: Any, prefix: str, contexts: np.ndarray) -> SpanPredictions:
    lengths = saved[f"{prefix}_lengths"]
    if len(lengths) != len(contexts):
        raise FoldwiseError(f"{prefix} predictions: {len(lengths)} rows, the data has {len(contexts)}; retrain")
    cuts = np.cumsum(lengths)[:-1]
    starts = [a.astype(np.float32) for a in np.split(saved[f"{prefix}_start"], cuts)] if len(lengths) else []
    ends = [a.astype(np.float32) for a in np.split(saved[f"{prefix}_end"], cuts)] if len(lengths) else []
    return SpanPredictions(
        saved[f"{prefix}_texts"].astype(object),
        saved[f"{prefix}_scores"],
        starts,
        ends,
        np.asarray(contexts, dtype=object),
    )


def _read_truth(data: CompetitionData, cfg: DataConfig) -> SpanTruth:
    """The training rows' answers, each found in its context; rows whose answer is not there
    are refused with their count and the first row."""
    path = cfg.path / cfg.train_file
    frame = training_frame(data, path, "span")
    questions, contexts = _side(data.train_texts, 0), _side(data.train_texts, 1)
    if cfg.answer_column not in frame.columns:
        raise FoldwiseError(f"{path}: missing column '{cfg.answer_column}' (data.answer_column)")
    answers = frame[cfg.answer_column].fillna("").astype(str).tolist()
    if cfg.answer_start_column is not None:
        if cfg.answer_start_column not in frame.columns:
            raise FoldwiseError(f"{path}: missing column '{cfg.answer_start_column}' (data.answer_start_column)")
        starts = pd.to_numeric(frame[cfg.answer_start_column], errors="coerce").fillna(-1).astype(np.int64).to_numpy()
    else:
        starts = np.array([c.find(a) if a else 0 for a, c in zip(answers, contexts)], dtype=np.int64)
    bad = [i for i, (a, s, c) in enumerate(zip(answers, starts, contexts)) if a and (s < 0 or c[s : s + len(a)] != a)]
    if bad:
        where = "at its answer_start" if cfg.answer_start_column else "in its context"
        first = answers[bad[0]]
        shown = repr(first if len(first) <= 40 else first[:37] + "...")
        raise FoldwiseError(
            f"{path}: {len(bad)} of {len(answers)} training rows have an answer not found {where} "
            f"(exact, case-sensitive; first: row {bad[0] + 2}, id '{data.train_ids[bad[0]]}', "
            f"answer {shown}); fix or drop them"
        )
    return SpanTruth(questions, contexts, [[a] for a in answers], starts)


def span_task(
    data_cfg: DataConfig, label_names: list[str], sample: pd.DataFrame, data: CompetitionData | None = None
) -> SpanTask:
    """The ``TASKS`` builder of ``task: span``."""
    return SpanTask(replace(data_cfg, task="span"), label_names, sample, data)
