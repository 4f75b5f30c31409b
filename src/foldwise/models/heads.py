"""Output layers over a model's hidden states, and the head contract the loop trains through.

A *head* (built by the task: :meth:`foldwise.tasks.Task.head`) says what a neural model
outputs and learns: it builds the output module over an encoder, the loss (bound to the
fold's training targets), how rows become tokenised sequences with their targets, how
the sequences' outputs become the task's predictions, and the validation scores. The
module returns ``{"loss", "logits"}`` like a Hugging Face model, so the loop never asks
which task it trains. :class:`ClassificationHead` is the classification head; other
tasks add their own next to their task module.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn


def pool(hidden: torch.Tensor, attention_mask: torch.Tensor, pooling: str) -> torch.Tensor:
    """One vector per row: ``cls`` (first position), ``mean`` (over real tokens) or
    ``last`` (the last real token, wherever the padding is)."""
    if pooling == "cls":
        return hidden[:, 0]
    if pooling == "last":
        positions = torch.arange(attention_mask.shape[1], device=attention_mask.device)
        last = (positions * attention_mask).argmax(dim=1)
        return hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)


def logits_of(module: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """A scoring head's inference on a batch: the module's logits (a generating head generates instead)."""
    return module(**batch)["logits"]


def config_int(cfg: Any, name: str, default: int) -> int:
    """A task's optional integer key of a neural config: its value, or ``default`` where unset (None)."""
    value = getattr(cfg, name, None)
    return default if value is None else int(value)


def with_loss(module: nn.Module, logits: torch.Tensor, labels: torch.Tensor | None) -> dict[str, Any]:
    """``{"loss", "logits"}``: the loss of ``module.loss_fn`` when labels come and it has one."""
    loss_fn = getattr(module, "loss_fn", None)
    loss = loss_fn(logits, labels) if labels is not None and loss_fn is not None else None
    return {"loss": loss, "logits": logits}


class PooledClassifier(nn.Module):
    """Base model -> pooling -> dropout -> linear head -> float32 logits (and the loss, with labels)."""

    def __init__(self, backbone: nn.Module, n_labels: int, pooling: str, dropout: float):
        super().__init__()
        if getattr(backbone, "pooler", None) is not None:
            # the head pools the hidden states itself; an unused pooler would waste compute
            # and leave DDP with parameters that never get gradients
            backbone.pooler = None
        self.backbone = backbone
        self.pooling = pooling
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(backbone.config.hidden_size, n_labels)
        self.loss_fn = None  # set by the loop from the head (bound to the fold's targets)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor | None = None, labels: torch.Tensor | None = None,
                **_: Any) -> dict[str, Any]:
        types = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
        hidden = self.backbone(input_ids=input_ids, attention_mask=attention_mask, **types).last_hidden_state
        pooled = pool(hidden, attention_mask, self.pooling)
        return with_loss(self, self.head(self.dropout(pooled.to(self.head.weight.dtype))).float(), labels)


class LogitsOf(nn.Module):
    """A Hugging Face (or peft-wrapped) classification model as ``module(**batch) -> {"loss", "logits"}``."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        self.loss_fn = None

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor | None = None,
                **_: Any) -> dict[str, Any]:
        out = self.model(input_ids=input_ids, attention_mask=attention_mask)
        logits = out["logits"] if isinstance(out, dict) else (out.logits if hasattr(out, "logits") else out)
        return with_loss(self, logits.float(), labels)


class ClassificationHead:
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

    def __init__(self, kind: str, n_labels: int, model_cfg: Any, scores: Any = None, metric: Any = None):
        self.kind = kind
        self.n_outputs = n_labels
        self.cfg = model_cfg
        self._scores = scores
        self.metric = metric

    # -- the module and its loss --

    def module(self, encoder: nn.Module, pooling: str, dropout: float) -> nn.Module:
        """The pooled linear classifier over ``encoder``."""
        return PooledClassifier(encoder, self.n_outputs, pooling, dropout)

    def loss(self, targets: np.ndarray) -> Any:
        """The config's loss (``weighted_bce`` weighs positives from the fold's ``targets``)."""
        from ..train.losses import make_loss

        cfg = self.cfg
        return make_loss(cfg.loss, self.kind, targets, focal_alpha=cfg.focal_alpha, focal_gamma=cfg.focal_gamma,
                         asl_gamma_pos=cfg.asl_gamma_pos, asl_gamma_neg=cfg.asl_gamma_neg, asl_clip=cfg.asl_clip,
                         pos_weight_cap=cfg.pos_weight_cap, label_smoothing=cfg.label_smoothing)

    # -- rows <-> sequences --

    infer = staticmethod(logits_of)

    def encode(self, backbone: Any, tokenizer: Any, texts: np.ndarray, targets: np.ndarray | None = None) -> Any:
        """One truncated sequence per row, its 0/1 labels as float targets."""
        rows = backbone.tokenize(tokenizer, texts)
        if targets is not None:
            rows.targets = np.asarray(targets, dtype=np.float32)
        return rows

    def collect(self, logits: torch.Tensor, batch: dict[str, torch.Tensor]) -> np.ndarray:
        """A batch's (b, L) logits as float32 numpy."""
        return logits.float().cpu().numpy()

    def outputs(self, pieces: list[tuple[np.ndarray, np.ndarray]], n: int) -> np.ndarray:
        """(n, L) logits in sequence order from ``(rows, logits)`` batches."""
        out = np.zeros((n, self.n_outputs), dtype=np.float32)
        for rows, logits in pieces:
            out[rows] = logits
        return out

    def predictions(self, outputs: np.ndarray, sequences: Any, texts: np.ndarray) -> np.ndarray:
        """Probabilities: sigmoid per label, or softmax over labels (multiclass)."""
        return logits_to_probs(outputs, self.kind)

    # -- validation --

    def valid_scores(self, loss_fn: Any, outputs: np.ndarray, sequences: Any, preds: np.ndarray,
                     targets: np.ndarray) -> dict[str, float]:
        """Validation loss (``loss_fn``: the training loss), accuracy (multiclass) or micro-F1,
        macro-F1 at 0.5 / argmax, and the competition metric of the untuned decision when
        ``select_by: metric`` reads it."""
        from ..tasks.metrics import accuracy, macro_f1, micro_f1

        loss = float(loss_fn(torch.from_numpy(outputs), torch.from_numpy(np.asarray(targets, dtype=np.float32))))
        if self.kind == "multiclass":
            decided = (preds == preds.max(axis=1, keepdims=True)).astype(np.uint8)
            first = {"valid_accuracy": accuracy(targets, decided)}
        else:
            decided = (preds >= 0.5).astype(np.uint8)
            first = {"valid_micro_f1": micro_f1(targets, decided)}
        scores = {"valid_loss": loss, **first, "valid_macro_f1": macro_f1(targets, decided)}
        if self.cfg.select_by == "metric" and self._scores is not None:
            scores[f"valid_{self.metric.name}"] = float(self._scores(preds, targets)[self.metric.name])
        return scores

    def selection(self) -> tuple[str, bool]:
        """The history key the best evaluation is chosen by, and whether higher is better."""
        return selection_key(self.cfg.select_by, self.metric)


def selection_key(select_by: str, metric: Any) -> tuple[str, bool]:
    """``select_by`` as (history key, higher is better): ``loss``, ``macro_f1`` or the
    competition ``metric`` (its own direction)."""
    if select_by == "loss":
        return "valid_loss", False
    if select_by == "metric":
        if metric is None:
            raise ValueError("select_by: metric needs the competition metric")
        return f"valid_{metric.name}", metric.greater_is_better
    return f"valid_{select_by}", True


def logits_to_probs(logits: np.ndarray, task: str) -> np.ndarray:
    """Sigmoid per label (multi-label, binary) or softmax over labels (multiclass)."""
    t = torch.from_numpy(logits)
    probs = torch.softmax(t, dim=1) if task == "multiclass" else torch.sigmoid(t)
    return probs.numpy().astype(np.float32)
