"""The lead-k summarization baseline as a model kind: the input's first sentences, no training.

``model: {kind: lead, sentences: 3}`` answers every row with the first three sentences of
its input text (the data config's ``text_template`` filled, e.g. ``"{document}"``), so the
baseline trains, predicts, submits and blends like any generation model; every generation
report also shows it beside the model (:meth:`foldwise.tasks.generation.task.GenerationTask.baselines`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..config import option
from .base import TextModel


@dataclass
class LeadConfig:
    """The lead-k baseline (task generation only)."""

    kind: str = field(default="lead", init=False)
    sentences: int = option("how many leading sentences make the answer (lead-1, lead-3)", 3, ge=1)


class LeadModel(TextModel):
    """Answers each row with its input's first ``sentences`` sentences; fitting learns nothing."""

    tasks = ("generation",)

    def fit(
        self, texts: np.ndarray, targets: Any, valid_texts: np.ndarray | None = None, valid_targets: Any = None
    ) -> None:
        """Nothing to learn."""

    def predict(self, texts: np.ndarray) -> Any:
        """The first ``sentences`` sentences of every text."""
        from ..tasks.generation.task import GenerationPredictions, lead

        return GenerationPredictions(np.array([lead(str(t), self.config.sentences) for t in texts], dtype=object))
