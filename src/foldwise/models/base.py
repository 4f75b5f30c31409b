"""The interface every model kind implements: fit on a fold, predict probabilities."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np


class TextModel(ABC):
    """A text classifier trained on one fold.

    Parameters
    ----------
    config : the kind's config dataclass (``model:`` section of the experiment).
    task : "multilabel" (independent sigmoid-like scores) or "multiclass" (rows sum to 1).
    n_labels : number of label columns.
    seed : seed for every random choice the model makes.
    """

    def __init__(self, config: Any, task: str, n_labels: int, seed: int):
        self.config = config
        self.task = task
        self.n_labels = n_labels
        self.seed = seed

    @abstractmethod
    def fit(self, texts: np.ndarray, labels: np.ndarray,
            valid_texts: np.ndarray | None = None, valid_labels: np.ndarray | None = None) -> None:
        """Train on (n,) texts and (n, n_labels) 0/1 labels; validation rows are optional
        (models that early-stop use them; they never train on them)."""

    @abstractmethod
    def predict_proba(self, texts: np.ndarray) -> np.ndarray:
        """(n, n_labels) float32 probabilities for (n,) texts."""
