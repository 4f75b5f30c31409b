"""The classification head: L logits per row, a sigmoid per label or a softmax over classes."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from ...train.heads import PooledClassifier, PooledRows, selection_key
from ..metrics import score_title


class ClassificationHead(PooledRows):
    """L logits per row: a sigmoid per label (multi-label, binary) or a softmax (multiclass).

    Parameters
    ----------
    kind : "multilabel", "multiclass" or "binary".
    n_labels : L.
    model_cfg : the neural config (its loss keys).
    scores : ``(probs, labels) -> {metric: value, ...}`` of the untuned decision
        (:meth:`foldwise.tasks.Task.untuned_scores`), for ``select_by: metric``; None: not offered.
    metric : the competition metric (its name and direction), with ``scores``.
    """

    #: a scoring head: backbones build their own output layer for it (no language-model head)
    language_model = False
    #: what a saved model folder's ``head.json`` records as its kind: nothing (it records ``n_labels``)
    saved_kind = None

    def __init__(self, kind: str, n_labels: int, model_cfg: Any, scores: Any = None, metric: Any = None):
        self.kind = kind
        self.n_outputs = n_labels
        self.cfg = model_cfg
        self._scores = scores
        self.metric = metric

    @property
    def single_label(self) -> bool:
        """One label per row: a softmax over the classes (multiclass), else a sigmoid per label."""
        return self.kind == "multiclass"

    # -- the module and its loss --

    def module(self, base: nn.Module, pooling: str, dropout: float) -> nn.Module:
        """The pooled linear classifier over the encoder ``base``."""
        return PooledClassifier(base, self.n_outputs, pooling, dropout)

    def loss(self, targets: np.ndarray) -> Any:
        """The config's loss (``weighted_bce`` weighs positives from the fold's ``targets``)."""
        from ...train.losses import make_loss

        cfg = self.cfg
        return make_loss(
            cfg.loss,
            targets,
            single_label=self.single_label,
            focal_alpha=cfg.focal_alpha,
            focal_gamma=cfg.focal_gamma,
            asl_gamma_pos=cfg.asl_gamma_pos,
            asl_gamma_neg=cfg.asl_gamma_neg,
            asl_clip=cfg.asl_clip,
            pos_weight_cap=cfg.pos_weight_cap,
            label_smoothing=cfg.label_smoothing,
        )

    # -- rows <-> sequences --

    def predictions(self, outputs: np.ndarray, sequences: Any, texts: np.ndarray) -> np.ndarray:
        """Probabilities: sigmoid per label, or softmax over labels (multiclass)."""
        return logits_to_probs(outputs, self.single_label)

    # -- validation --

    def valid_scores(
        self, loss_fn: Any, outputs: np.ndarray, sequences: Any, preds: np.ndarray, targets: np.ndarray
    ) -> dict[str, float]:
        """Validation loss (``loss_fn``: the training loss), accuracy (multiclass) or micro-F1,
        macro-F1 at 0.5 / argmax, and the competition metric of the untuned decision when
        ``select_by: metric`` reads it."""
        from ..metrics import accuracy, macro_f1, micro_f1

        loss = float(loss_fn(torch.from_numpy(outputs), torch.from_numpy(np.asarray(targets, dtype=np.float32))))
        if self.single_label:
            decided = (preds == preds.max(axis=1, keepdims=True)).astype(np.uint8)
            first = {"valid_accuracy": accuracy(targets, decided)}
        else:
            decided = (preds >= 0.5).astype(np.uint8)
            first = {"valid_micro_f1": micro_f1(targets, decided)}
        scores = {"valid_loss": loss, **first, "valid_macro_f1": macro_f1(targets, decided)}
        if self.cfg.select_by == "metric" and self._scores is not None:
            scores[f"valid_{self.metric.name}"] = float(self._scores(preds, targets)[self.metric.name])
        return scores

    #: how the loop's evaluation line names a validation score (``macro_f1`` -> macro-F1)
    score_title = staticmethod(score_title)

    def selection(self) -> tuple[str, bool]:
        """The history key the best evaluation is chosen by, and whether higher is better."""
        return selection_key(self.cfg.select_by, self.metric)


def logits_to_probs(logits: np.ndarray, single_label: bool) -> np.ndarray:
    """Softmax over labels (``single_label``: multiclass) or a sigmoid per label (multi-label, binary)."""
    t = torch.from_numpy(logits)
    probs = torch.softmax(t, dim=1) if single_label else torch.sigmoid(t)
    return probs.numpy().astype(np.float32)
