"""The span baselines as a model kind: answers that need no training.

``answer: sentence`` answers with the context sentence sharing the most words with the
question (extractive QA's classic baseline); ``answer: whole_text`` with the whole context
(Tweet Sentiment Extraction's: most neutral tweets are their own answer). Their
predictions carry character scores (the chosen span's edges at 0, everything else
``-inf``), so they score, submit and blend like any span model's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ..config import option
from .base import TextModel


@dataclass
class OverlapConfig:
    """A span baseline (task span only)."""

    kind: str = field(default="overlap", init=False)
    answer: Literal["sentence", "whole_text"] = option(
        "sentence: the context sentence sharing most words with the question; whole_text: the context", "sentence"
    )


class OverlapModel(TextModel):
    """Answers each (question, context) row by the configured baseline; fitting learns nothing."""

    tasks = ("span",)

    def fit(
        self, texts: np.ndarray, targets: Any, valid_texts: np.ndarray | None = None, valid_targets: Any = None
    ) -> None:
        """Nothing to learn."""

    def predict(self, texts: np.ndarray) -> Any:
        """The baseline's answer of every row, as span predictions."""
        from ..tasks.span.baselines import overlap_sentence, whole_text
        from ..tasks.span.predictions import SpanPredictions

        rows = np.asarray(texts, dtype=object).reshape(-1, 2)
        answers, starts, ends = [], [], []
        for question, context in rows:
            context = str(context)
            answer = (
                overlap_sentence(str(question), context) if self.config.answer == "sentence" else whole_text(context)
            )
            begin = context.find(answer) if answer else -1
            start, end = np.full(len(context), -np.inf, np.float32), np.full(len(context), -np.inf, np.float32)
            if begin >= 0 and answer:
                start[begin], end[begin + len(answer) - 1] = 0.0, 0.0
            answers.append(answer)
            starts.append(start)
            ends.append(end)
        return SpanPredictions(
            np.array(answers, dtype=object),
            np.zeros(len(rows), dtype=np.float32),
            starts,
            ends,
            rows[:, 1].astype(object) if len(rows) else np.array([], dtype=object),
        )
