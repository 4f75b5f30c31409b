"""The interface every model kind implements: fit on a fold, predict the task's predictions."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np

from ..tasks import CLASSIFICATION_KINDS, NUMBER_KINDS


class TextModel(ABC):
    """A text model trained on one fold (a classifier, unless its ``tasks`` say more).

    Parameters
    ----------
    config : the kind's config dataclass (``model:`` section of the experiment).
    task : the task's name (``data.task``), as the run records it.
    n_labels : number of label columns.
    seed : seed for every random choice the model makes.
    workdir : a folder the model may use for checkpoints (None: keep nothing on disk).
    resume : continue from the last checkpoint in ``workdir`` when there is one.
    fingerprint : the run's training fingerprint; checkpoints carry it, and one saved
        under another fingerprint is never resumed.
    head : the task's head (:meth:`foldwise.tasks.Task.head`) for kinds that train one.
    single_label : one label per row (the task's ``single_label``): a classifier's rows of
        probabilities sum to 1; else one independent probability per label.
    numeric : the task's predictions are numbers (its ``numeric``): the kind fits a regressor.
    """

    #: the tasks (``data.task``) this kind can train: label probabilities, and numbers
    tasks: tuple[str, ...] = (*CLASSIFICATION_KINDS, *NUMBER_KINDS)
    #: whether it trains the task's head (:meth:`foldwise.tasks.Task.head`): neural kinds do
    uses_head: bool = False

    #: per-evaluation training history (list of dicts) for models that train in epochs
    history_: list[dict] | None = None
    #: predictions of the validation rows given to ``fit``, from the weights it kept, when
    #: fitting already computed them (the fold's OOF predictions without a second pass)
    valid_preds_: Any = None
    #: the precision a neural model computed in and why (recorded in the fold's record)
    precision_: dict | None = None

    def __init__(
        self,
        config: Any,
        task: str,
        n_labels: int,
        seed: int,
        workdir: Path | None = None,
        resume: bool = False,
        fingerprint: str | None = None,
        head: Any = None,
        single_label: bool = False,
        numeric: bool = False,
    ):
        self.config = config
        self.task = task
        self.n_labels = n_labels
        self.seed = seed
        self.workdir = workdir
        self.resume = resume
        self.fingerprint = fingerprint
        self.head = head
        self.single_label = single_label
        self.numeric = numeric

    @classmethod
    def check_can_run(cls, config: Any) -> None:
        """Refuse, before any fold trains, a config this machine cannot run (FoldwiseError)."""

    @abstractmethod
    def fit(
        self, texts: np.ndarray, targets: Any, valid_texts: np.ndarray | None = None, valid_targets: Any = None
    ) -> None:
        """Train on (n,) texts and their truth ((n, n_labels) 0/1 labels for classification);
        validation rows are optional (models that early-stop use them; they never train on them)."""

    def predict(self, texts: np.ndarray) -> Any:
        """The task's predictions of (n,) texts: (n, n_labels) float32 probabilities for a classifier."""
        return self.predict_proba(texts)

    def predict_proba(self, texts: np.ndarray) -> np.ndarray:
        """(n, n_labels) float32 probabilities for (n,) texts (classifiers)."""
        return self.predict(texts)

    def save(self, folder: Path) -> None:
        """Save the fitted model so :meth:`load_predictor` can predict without retraining."""
        import joblib

        folder.mkdir(parents=True, exist_ok=True)
        joblib.dump(self, folder / "model.joblib")

    @classmethod
    def load_predictor(cls, folder: Path, config: Any, task: str, n_labels: int, head: Any = None) -> TextModel:
        """A fitted model saved by :meth:`save`."""
        import joblib

        return joblib.load(folder / "model.joblib")
