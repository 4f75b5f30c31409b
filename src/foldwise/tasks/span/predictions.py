"""What a span model predicts: the decoded answers, and every context character's score as the
answer's start and end (log-probabilities), so that folds and runs combine before decoding."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .windows import decode_char_spans


@dataclass
class SpanPredictions:
    """Decoded answers with their scores, and per row the log-probability of every context
    character starting and ending the answer (``-inf``: no token boundary there)."""

    texts: np.ndarray
    scores: np.ndarray
    starts: list[np.ndarray]
    ends: list[np.ndarray]
    contexts: np.ndarray

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, rows: Any) -> SpanPredictions:
        rows = np.asarray(rows)
        return SpanPredictions(
            self.texts[rows],
            self.scores[rows],
            [self.starts[r] for r in rows],
            [self.ends[r] for r in rows],
            self.contexts[rows],
        )

    @classmethod
    def concat(cls, parts: list[SpanPredictions]) -> SpanPredictions:
        """Several row sets one after the other."""
        return cls(
            np.concatenate([p.texts for p in parts]),
            np.concatenate([p.scores for p in parts]),
            [a for p in parts for a in p.starts],
            [a for p in parts for a in p.ends],
            np.concatenate([p.contexts for p in parts]),
        )


def log_probabilities(scores: np.ndarray) -> np.ndarray:
    """Finite scores of one row as log-probabilities (a log-softmax over them); ``-inf`` stays."""
    scores = np.asarray(scores, dtype=np.float64)
    finite = np.isfinite(scores)
    out = np.full(len(scores), -np.inf, dtype=np.float32)
    if finite.any():
        top = scores[finite].max()
        out[finite] = scores[finite] - top - np.log(np.exp(scores[finite] - top).sum())
    return out


def decode(
    starts: list[np.ndarray], ends: list[np.ndarray], contexts: np.ndarray, max_answer_chars: int
) -> SpanPredictions:
    """The best span of every row from its character scores (start + end log-probability)."""
    spans = decode_char_spans(list(zip(starts, ends)), list(contexts), max_answer_chars)
    return SpanPredictions(
        np.array([s.text for s in spans], dtype=object),
        np.array([s.score for s in spans], dtype=np.float32),
        list(starts),
        list(ends),
        np.asarray(contexts, dtype=object),
    )
