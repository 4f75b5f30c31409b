"""The regression head: one linear output per target, trained on scaled targets.

Targets are standardised per column on the fold's training rows (``mse``, ``smooth_l1``), or
mapped to [0, 1] by their training range for ``bce`` (bounded scores); predictions are mapped
back. The scale is fit when the loop binds the loss to the fold's targets (:meth:`loss`) and is
saved beside a saved model (:meth:`state`), so ``predict`` maps a reloaded model's outputs the same way.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...errors import FoldwiseError
from ...train.heads import PooledClassifier, PooledRows, selection_key
from ..metrics import score_title

#: the losses a regression head trains with (``auto``: mse)
LOSSES = ("mse", "smooth_l1", "bce")


@dataclass
class TargetScale:
    """How one fold's targets map to what the head outputs: ``(y - shift) / scale``; ``bounded``:
    the outputs are logits of ``(y - shift) / scale`` in [0, 1] (``bce``)."""

    shift: list[float]
    scale: list[float]
    bounded: bool = False

    @classmethod
    def fit(cls, targets: np.ndarray, bounded: bool) -> TargetScale:
        """Standardisation (or, ``bounded``, the min-max range) of (n, K) training targets; a
        column without spread keeps the scale 1."""
        targets = np.asarray(targets, dtype=np.float64)
        if bounded:
            shift, spread = targets.min(axis=0), targets.max(axis=0) - targets.min(axis=0)
        else:
            shift, spread = targets.mean(axis=0), targets.std(axis=0)
        return cls(shift.tolist(), np.where(spread > 0, spread, 1.0).tolist(), bounded)

    def encode(self, targets: torch.Tensor) -> torch.Tensor:
        """Targets as the loss compares them to the outputs."""
        shift, scale = (torch.tensor(v, dtype=targets.dtype, device=targets.device) for v in (self.shift, self.scale))
        return (targets - shift) / scale

    def decode(self, outputs: np.ndarray) -> np.ndarray:
        """(n, K) outputs back on the targets' scale."""
        values = 1.0 / (1.0 + np.exp(-outputs.astype(np.float64))) if self.bounded else outputs.astype(np.float64)
        return (values * np.array(self.scale) + np.array(self.shift)).astype(np.float32)


class RegressionHead(PooledRows):
    """K outputs per row, one per target, over the pooled encoder.

    Parameters
    ----------
    n_targets : K.
    model_cfg : the neural config (``loss``: auto/mse, smooth_l1 or bce; ``select_by``).
    scores : ``(preds, truth) -> {metric: value, ...}`` of the untuned decision, for ``select_by: metric``.
    metric : the competition metric (its name and direction).

    Raises
    ------
    FoldwiseError
        A classification loss, or ``select_by: macro_f1``.
    """

    language_model = False
    saved_kind = None

    def __init__(self, n_targets: int, model_cfg: Any, scores: Any = None, metric: Any = None):
        self.n_outputs = n_targets
        self.cfg = model_cfg
        self._scores = scores
        self.metric = metric
        loss = getattr(model_cfg, "loss", "auto")
        self.loss_name = "mse" if loss == "auto" else loss
        if self.loss_name not in LOSSES:
            raise FoldwiseError(
                f"model.loss {loss} is a classification loss; regression and ordinal tasks train with "
                f"{', '.join(LOSSES)} (auto: mse)"
            )
        if getattr(model_cfg, "select_by", "loss") == "macro_f1":
            raise FoldwiseError("model.select_by macro_f1 scores labels; use loss or metric for this task")
        self.scale: TargetScale | None = None

    # -- the module and its loss --

    def module(self, base: nn.Module, pooling: str, dropout: float) -> nn.Module:
        """The pooled linear layer of K outputs over the encoder ``base``."""
        return PooledClassifier(base, self.n_outputs, pooling, dropout)

    def loss(self, targets: np.ndarray) -> Any:
        """The config's loss on targets scaled by the fold's training ``targets`` (the scale is kept)."""
        self.scale = TargetScale.fit(targets, bounded=self.loss_name == "bce")
        scale, name = self.scale, self.loss_name

        def loss_fn(outputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
            scaled = scale.encode(labels.float())
            if name == "bce":
                return F.binary_cross_entropy_with_logits(outputs, scaled.clamp(0.0, 1.0))
            if name == "smooth_l1":
                return F.smooth_l1_loss(outputs, scaled)
            return F.mse_loss(outputs, scaled)

        return loss_fn

    def state(self) -> dict:
        """What a saved model needs besides its weights: the fold's target scale."""
        return {} if self.scale is None else {"target_scale": asdict(self.scale)}

    def restore(self, state: dict) -> None:
        """Take back what :meth:`state` gave (a reloaded model's target scale)."""
        if "target_scale" in state:
            self.scale = TargetScale(**state["target_scale"])

    # -- rows <-> sequences (one per row: :class:`~foldwise.train.heads.PooledRows`) --

    def predictions(self, outputs: np.ndarray, sequences: Any, texts: np.ndarray) -> np.ndarray:
        """(n, K) predictions on the targets' scale."""
        if self.scale is None:
            raise FoldwiseError("the regression head has no target scale: a saved model without target_scale")
        return self.scale.decode(outputs)

    # -- validation --

    def valid_scores(
        self, loss_fn: Any, outputs: np.ndarray, sequences: Any, preds: np.ndarray, targets: np.ndarray
    ) -> dict[str, float]:
        """Validation loss, RMSE and, for ``select_by: metric``, the metric of the untuned decision."""
        from ..metrics import rmse

        loss = float(loss_fn(torch.from_numpy(outputs), torch.from_numpy(np.asarray(targets, dtype=np.float32))))
        scores = {"valid_loss": loss, "valid_rmse": rmse(targets, preds)}
        if self.cfg.select_by == "metric" and self._scores is not None:
            scores[f"valid_{self.metric.name}"] = float(self._scores(preds, targets)[self.metric.name])
        return scores

    score_title = staticmethod(score_title)

    def selection(self) -> tuple[str, bool]:
        """The history key the best evaluation is chosen by, and whether higher is better."""
        return selection_key(self.cfg.select_by, self.metric)
