"""Output layers over a model's hidden states, and the head contract the loop trains through.

A *head* (built by the task: :meth:`foldwise.tasks.Task.head`) says what a neural model
outputs and learns: it builds the output module over an encoder, the loss (bound to the
fold's training targets), how rows become tokenised sequences with their targets, how
the sequences' outputs become the task's predictions, and the validation scores. The
module returns ``{"loss", "logits"}`` like a Hugging Face model, so the loop never asks
which task it trains; nor do the backbones: a head says whether it is the model's own
``language_model`` head (generation) or an output layer they build (``n_outputs``), and
``saved_kind``, what a saved model folder's ``head.json`` records as its kind (None: none).
Each task kind's head lives in its package
(:mod:`foldwise.tasks.classification.head`, :mod:`foldwise.tasks.span.head`,
:mod:`foldwise.tasks.generation.head`); the pieces they share live here.
"""

from __future__ import annotations

from typing import Any

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
