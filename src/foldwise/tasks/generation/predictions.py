"""The predictions of a generation task: one generated text per row (see :mod:`.generation`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class GenerationPredictions:
    """One generated text per row."""

    texts: np.ndarray

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, rows: Any) -> GenerationPredictions:
        return GenerationPredictions(self.texts[np.asarray(rows)])

    @classmethod
    def concat(cls, parts: list[GenerationPredictions]) -> GenerationPredictions:
        texts = [p.texts for p in parts if len(p)]
        return cls(np.concatenate(texts).astype(object) if texts else np.array([], dtype=object))
