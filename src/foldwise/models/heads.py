"""Classification heads over a model's hidden states: pooled vector -> dropout -> linear."""

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


class PooledClassifier(nn.Module):
    """Base model -> pooling -> dropout -> linear head -> float32 logits."""

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

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor | None = None, **_: Any) -> torch.Tensor:
        types = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
        hidden = self.backbone(input_ids=input_ids, attention_mask=attention_mask, **types).last_hidden_state
        pooled = pool(hidden, attention_mask, self.pooling)
        return self.head(self.dropout(pooled.to(self.head.weight.dtype))).float()


class LogitsOf(nn.Module):
    """A Hugging Face (or peft-wrapped) classification model as ``module(**batch) -> float32 logits``."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **_: Any) -> torch.Tensor:
        out = self.model(input_ids=input_ids, attention_mask=attention_mask)
        return (out.logits if hasattr(out, "logits") else out).float()
