"""Training losses for multi-label (sigmoid) and multiclass (softmax) heads.

Every loss takes ``(logits, targets)`` of shape (batch, n_labels) and returns a scalar:
the mean over rows of the sum over labels for multi-label losses (so the scale does
not depend on the batch size), the mean over rows for cross-entropy.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def bce(logits: torch.Tensor, targets: torch.Tensor, pos_weight: torch.Tensor | None = None) -> torch.Tensor:
    """Binary cross-entropy on logits, optionally up-weighting positives per label."""
    per_element = F.binary_cross_entropy_with_logits(logits, targets, pos_weight=pos_weight, reduction="none")
    return per_element.sum(dim=1).mean()


def pos_weight_from_labels(labels: np.ndarray, cap: float) -> torch.Tensor:
    """(n_labels,) negatives/positives per label, clipped to [1, cap] (rare labels count more)."""
    positives = labels.sum(axis=0).astype(np.float64)
    ratio = (len(labels) - positives) / np.maximum(positives, 1.0)
    return torch.tensor(np.clip(ratio, 1.0, cap), dtype=torch.float32)


def focal(logits: torch.Tensor, targets: torch.Tensor, alpha: float = 0.25, gamma: float = 2.0) -> torch.Tensor:
    """Focal loss (Lin et al. 2017): BCE scaled by (1 - p_t)^gamma, alpha for positives."""
    ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    p = torch.sigmoid(logits)
    p_t = p * targets + (1 - p) * (1 - targets)
    alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
    return (alpha_t * (1 - p_t) ** gamma * ce).sum(dim=1).mean()


def asymmetric(
    logits: torch.Tensor,
    targets: torch.Tensor,
    gamma_pos: float = 0.0,
    gamma_neg: float = 4.0,
    clip: float = 0.05,
    eps: float = 1e-8,
) -> torch.Tensor:
    """Asymmetric loss (Ridnik et al. 2021): focusing on negatives plus probability shifting.

    Positives: -(1-p)^gamma_pos log p. Negatives: -p_m^gamma_neg log(1-p_m) with
    p_m = max(p - clip, 0), which discards very easy negatives entirely.
    """
    p = torch.sigmoid(logits)
    p_m = (p - clip).clamp(min=0) if clip > 0 else p
    loss_pos = targets * (1 - p) ** gamma_pos * torch.log(p.clamp(min=eps))
    loss_neg = (1 - targets) * p_m**gamma_neg * torch.log((1 - p_m).clamp(min=eps))
    return -(loss_pos + loss_neg).sum(dim=1).mean()


def cross_entropy(logits: torch.Tensor, targets: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
    """Softmax cross-entropy against one-hot targets, or against soft ones (a teacher's
    probabilities: distillation, soft pseudo-labels), with optional label smoothing."""
    if bool(((targets == 0) | (targets == 1)).all()):
        return F.cross_entropy(logits, targets.argmax(dim=1), label_smoothing=label_smoothing)
    return F.cross_entropy(logits, targets.float(), label_smoothing=label_smoothing)


def make_loss(
    name: str,
    labels: np.ndarray,
    *,
    single_label: bool,
    focal_alpha: float = 0.25,
    focal_gamma: float = 2.0,
    asl_gamma_pos: float = 0.0,
    asl_gamma_neg: float = 4.0,
    asl_clip: float = 0.05,
    pos_weight_cap: float = 10.0,
    label_smoothing: float = 0.0,
) -> LossFn:
    """The loss function named in the config, bound to its parameters.

    ``single_label``: one label per row (a softmax head, what the head says), which accepts
    only ``ce``; else a sigmoid per label. ``weighted_bce`` computes its positive weights
    from ``labels`` (the fold's training rows).
    """
    if single_label:
        if name not in ("ce", "auto"):
            raise ValueError(f"loss '{name}' is for multi-label tasks; multiclass uses 'ce'")
        return lambda logits, targets: cross_entropy(logits, targets, label_smoothing)
    if name in ("bce", "auto"):
        return bce
    if name == "weighted_bce":
        weight = pos_weight_from_labels(labels, pos_weight_cap)
        return lambda logits, targets: bce(logits, targets, weight.to(logits.device))
    if name == "focal":
        return lambda logits, targets: focal(logits, targets, focal_alpha, focal_gamma)
    if name == "asl":
        return lambda logits, targets: asymmetric(logits, targets, asl_gamma_pos, asl_gamma_neg, asl_clip)
    if name == "ce":
        raise ValueError("loss 'ce' is for multiclass tasks; multi-label uses bce, weighted_bce, focal or asl")
    raise ValueError(f"unknown loss '{name}'")
