"""The one training loop for every transformer classifier: encoder + pooled linear head.

Read top to bottom: the model (returns loss and logits), tokenisation, the optimiser
(layer-wise lr decay, no decay on biases/norms, fused or 8-bit AdamW), then
``fit_classifier`` (epochs of length-bucketed, dynamically padded batches with mixed
precision and gradient accumulation; evaluation; best-state selection; epoch
checkpoints for ``--resume``) and ``predict_probabilities`` (length-sorted, no grad).
Data-parallel runs (torchrun / accelerate launch) shard the batches over processes.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from . import distributed, progress
from .batching import TokenizedRows, bucketed_batches
from .losses import make_loss
from .metrics import accuracy, macro_f1, micro_f1
from .models.transformer import TransformerConfig, resolve_model_path


class TextClassifier(nn.Module):
    """Encoder -> pooling (CLS or masked mean) -> dropout -> linear head -> logits (and loss)."""

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
                labels: torch.Tensor | None = None, loss_fn: Any = None,
                token_type_ids: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        types = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
        hidden = self.backbone(input_ids=input_ids, attention_mask=attention_mask, **types).last_hidden_state
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        logits = self.head(self.dropout(pooled)).float()
        out = {"logits": logits}
        if labels is not None and loss_fn is not None:
            out["loss"] = loss_fn(logits, labels)
        return out


# ---------------------------------------------------------------------------
# building

def build_classifier(cfg: TransformerConfig, n_labels: int) -> tuple[TextClassifier, Any]:
    """The classifier and its tokenizer, from a hub id, a local folder or ``pkg:<dist>``."""
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    progress.quiet_library_bars()
    path = resolve_model_path(cfg.name_or_path)
    overrides = {} if cfg.num_hidden_layers is None else {"num_hidden_layers": cfg.num_hidden_layers}
    backbone_config = AutoConfig.from_pretrained(path, **overrides)
    kwargs = {"attn_implementation": cfg.attn_implementation} if cfg.attn_implementation else {}
    try:
        backbone = AutoModel.from_pretrained(path, config=backbone_config, **kwargs)
    except (ValueError, ImportError) as exc:  # a model without SDPA support
        warnings.warn(f"{cfg.attn_implementation} attention unavailable ({exc}); using the default")
        backbone = AutoModel.from_pretrained(path, config=backbone_config)
    tokenizer = AutoTokenizer.from_pretrained(path)
    return TextClassifier(backbone, n_labels, cfg.pooling, cfg.dropout), tokenizer


def tokenize(tokenizer: Any, texts: np.ndarray, max_length: int) -> TokenizedRows:
    """Token ids per text, truncated, unpadded (padding happens per batch).

    Sentence pairs ((n, 2) texts) are encoded the model's own way: ``tokenizer(first,
    second)`` puts its separator between the sides (``[CLS] a [SEP] b [SEP]`` for BERT)
    and marks them with token types 0 and 1; the longer side is truncated first.
    """
    if np.ndim(texts) == 2:
        texts = np.asarray(texts, dtype=object)
        encoded = tokenizer([str(t) for t in texts[:, 0]], [str(t) for t in texts[:, 1]],
                            truncation="longest_first", max_length=max_length, padding=False)
    else:
        encoded = tokenizer(list(texts), truncation=True, max_length=max_length, padding=False)
    return TokenizedRows(encoded["input_ids"], encoded.get("token_type_ids"))


def parameter_groups(model: TextClassifier, cfg: TransformerConfig) -> list[dict]:
    """AdamW groups: layer-wise lr decay over encoder depth, no decay on biases and norms."""
    n_layers = int(getattr(model.backbone.config, "num_hidden_layers", 0) or 0)
    layer_re = re.compile(r"\.(?:layer|layers|block|h)\.(\d+)\.")
    groups: dict[tuple[float, float], list[nn.Parameter]] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if name.startswith("head."):
            lr = cfg.head_lr if cfg.head_lr is not None else cfg.lr
        else:
            match = layer_re.search(name)
            if match:
                depth = int(match.group(1)) + 1  # embeddings are depth 0
            elif "embed" in name:
                depth = 0
            else:  # pooler / final norm sit above the last layer
                depth = n_layers + 1
            lr = cfg.lr * cfg.llrd ** max(0, n_layers - min(depth, n_layers))
        no_decay = param.ndim < 2 or "norm" in name.lower()
        key = (lr, 0.0 if no_decay else cfg.weight_decay)
        groups.setdefault(key, []).append(param)
    return [{"params": params, "lr": lr, "weight_decay": wd} for (lr, wd), params in groups.items()]


def build_optimizer(model: TextClassifier, cfg: TransformerConfig, device: torch.device) -> torch.optim.Optimizer:
    """AdamW (fused on CUDA, foreach elsewhere), or bitsandbytes' 8-bit AdamW when asked and available."""
    groups = parameter_groups(model, cfg)
    if cfg.optimizer == "adamw_8bit":
        try:
            import bitsandbytes as bnb

            if device.type != "cuda":
                raise ImportError("8-bit AdamW needs a CUDA device")
            return bnb.optim.AdamW8bit(groups, lr=cfg.lr)
        except ImportError as exc:
            warnings.warn(f"optimizer adamw_8bit unavailable ({exc}); falling back to torch AdamW")
    fast = {"fused": True} if device.type == "cuda" else {"foreach": True}
    return torch.optim.AdamW(groups, lr=cfg.lr, **fast)


def autocast_dtype(cfg: TransformerConfig, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for this device and config (None: full fp32).

    On a CPU only an explicit ``bf16`` autocasts (fast on CPUs with AMX / AVX512-BF16;
    fp16 has no CPU kernels worth having), and ``auto`` stays fp32.
    """
    if cfg.precision == "fp32":
        return None
    if device.type != "cuda":
        return torch.bfloat16 if cfg.precision == "bf16" else None
    if cfg.precision == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if cfg.precision == "bf16" else torch.float16


def _autocast(device: torch.device, dtype: torch.dtype | None):
    return torch.autocast(device.type, dtype=dtype) if dtype is not None else contextlib.nullcontext()


# ---------------------------------------------------------------------------
# inference

@torch.inference_mode()
def _predict_logits(model: nn.Module, ids: TokenizedRows, pad_id: int, batch_size: int,
                    device: torch.device, dtype: torch.dtype | None) -> np.ndarray:
    """Logits in the original row order; rows are run longest first for minimal padding."""
    model.eval()
    out = np.zeros((len(ids), model.head.out_features), dtype=np.float32)
    for rows in bucketed_batches(ids.lengths(), batch_size, seed=0, shuffle=False):
        batch = {k: v.to(device) for k, v in ids.batch(rows, pad_id).items()}
        with _autocast(device, dtype):
            logits = model(**batch)["logits"]
        out[rows] = logits.float().cpu().numpy()
    return out


def logits_to_probs(logits: np.ndarray, task: str) -> np.ndarray:
    """Sigmoid per label (multi-label) or softmax over labels (multiclass)."""
    t = torch.from_numpy(logits)
    probs = torch.softmax(t, dim=1) if task == "multiclass" else torch.sigmoid(t)
    return probs.numpy().astype(np.float32)


def predict_probabilities(model: TextClassifier, tokenizer: Any, texts: np.ndarray,
                          cfg: TransformerConfig, task: str) -> np.ndarray:
    """(n, n_labels) probabilities for texts, large length-sorted batches, no grad."""
    device = next(model.parameters()).device
    ids = tokenize(tokenizer, texts, cfg.max_length)
    logits = _predict_logits(model, ids, tokenizer.pad_token_id or 0, cfg.eval_batch_size,
                             device, autocast_dtype(cfg, device))
    return logits_to_probs(logits, task)


# ---------------------------------------------------------------------------
# training

@dataclass
class FitResult:
    """A fitted fold: the model holding the best weights, its tokenizer and the history."""

    model: TextClassifier
    tokenizer: Any
    history: list[dict]
    best_step: int


def _evaluate(model: nn.Module, ids: TokenizedRows, labels: np.ndarray, pad_id: int,
              cfg: TransformerConfig, task: str, loss_fn: Any, device: torch.device,
              dtype: torch.dtype | None) -> dict[str, float]:
    logits = _predict_logits(model, ids, pad_id, cfg.eval_batch_size, device, dtype)
    loss = float(loss_fn(torch.from_numpy(logits), torch.from_numpy(labels.astype(np.float32))))
    probs = logits_to_probs(logits, task)
    if task == "multiclass":
        decided = (probs == probs.max(axis=1, keepdims=True)).astype(np.uint8)
    else:
        decided = (probs >= 0.5).astype(np.uint8)
    return {"valid_loss": loss, **_valid_scores(labels, decided, task)}


def _valid_scores(labels: np.ndarray, decided: np.ndarray, task: str) -> dict[str, float]:
    """Validation scores of 0/1 decisions: accuracy (multiclass) or micro-F1 (multi-label), and macro-F1."""
    first = ({"valid_accuracy": accuracy(labels, decided)} if task == "multiclass"
             else {"valid_micro_f1": micro_f1(labels, decided)})
    return {**first, "valid_macro_f1": macro_f1(labels, decided)}


def _is_better(metrics: dict, best: float | None, select_by: str) -> bool:
    if best is None:
        return True
    if select_by == "loss":
        return metrics["valid_loss"] < best
    return metrics["valid_macro_f1"] > best


def _save_checkpoint(path: Path, state: dict) -> None:
    from . import artifacts

    artifacts.write_with(path, lambda tmp: torch.save(state, tmp))


def fit_classifier(cfg: TransformerConfig, task: str, n_labels: int, seed: int,
                   texts: np.ndarray, labels: np.ndarray,
                   valid_texts: np.ndarray | None = None, valid_labels: np.ndarray | None = None,
                   workdir: Path | None = None, resume: bool = False) -> FitResult:
    """Fine-tune on one fold; keep the weights of the best evaluation.

    Parameters
    ----------
    cfg : the transformer config; task : "multilabel" or "multiclass".
    texts, labels : (n,) training texts, or (n, 2) sentence pairs, and (n, n_labels) 0/1 labels.
    valid_texts, valid_labels : the fold's held-out rows, used for evaluation, best-state
        selection and early stopping only.
    workdir : where ``last.pt`` (end-of-epoch checkpoint) lives while the fold trains.
    resume : continue from ``workdir/last.pt`` when it exists.
    """
    torch.manual_seed(seed)
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    dist = distributed.context()
    device = dist.device
    model, tokenizer = build_classifier(cfg, n_labels)
    if cfg.gradient_checkpointing:
        model.backbone.gradient_checkpointing_enable()
    model.to(device)
    pad_id = tokenizer.pad_token_id or 0
    train_ids = tokenize(tokenizer, texts, cfg.max_length)
    lengths = train_ids.lengths()
    has_valid = valid_texts is not None and len(valid_texts) > 0
    valid_ids = tokenize(tokenizer, valid_texts, cfg.max_length) if has_valid else None
    loss_fn = make_loss(cfg.loss, task, labels, focal_alpha=cfg.focal_alpha, focal_gamma=cfg.focal_gamma,
                        asl_gamma_pos=cfg.asl_gamma_pos, asl_gamma_neg=cfg.asl_gamma_neg,
                        asl_clip=cfg.asl_clip, pos_weight_cap=cfg.pos_weight_cap,
                        label_smoothing=cfg.label_smoothing)

    batches_per_epoch = math.ceil(len(train_ids) / cfg.batch_size) // dist.world_size
    steps_per_epoch = max(1, math.ceil(batches_per_epoch / cfg.grad_accum))
    total_steps = steps_per_epoch * cfg.epochs
    if cfg.max_steps is not None:
        total_steps = min(total_steps, cfg.max_steps)
    optimizer = build_optimizer(model, cfg, device)
    from transformers import get_scheduler

    scheduler = get_scheduler(cfg.scheduler, optimizer, num_warmup_steps=int(cfg.warmup_ratio * total_steps),
                              num_training_steps=total_steps)
    dtype = autocast_dtype(cfg, device)
    scaler = torch.amp.GradScaler("cuda") if dtype == torch.float16 else None
    train_model = torch.compile(model) if cfg.compile else model
    if dist.world_size > 1:
        train_model = torch.nn.parallel.DistributedDataParallel(
            train_model, device_ids=[device.index] if device.type == "cuda" else None)

    history: list[dict] = []
    best_metric, best_state, best_step, stale = None, None, 0, 0
    start_epoch, step = 0, 0
    checkpoint = workdir / "last.pt" if workdir is not None else None
    if resume and checkpoint is not None and checkpoint.exists():
        saved = torch.load(checkpoint, map_location=device, weights_only=False)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        if scaler is not None and saved.get("scaler"):
            scaler.load_state_dict(saved["scaler"])
        start_epoch, step, history = saved["epoch"], saved["step"], saved["history"]
        best_metric, best_state, best_step, stale = (saved["best_metric"], saved["best_state"],
                                                     saved["best_step"], saved["stale"])
        torch.set_rng_state(saved["torch_rng"])
        if dist.is_main:
            progress.write(f"resumed from {checkpoint} at epoch {start_epoch} (step {step})")

    eval_every = cfg.eval_every_steps or steps_per_epoch
    stop = step >= total_steps
    for epoch in range(start_epoch, cfg.epochs):
        if stop:
            break
        train_model.train()
        batches = bucketed_batches(lengths, cfg.batch_size, seed=seed + epoch, bucket_batches=cfg.bucket_batches)
        batches = distributed.shard(batches, dist)
        bar = progress.bar(total=len(batches) * cfg.batch_size * dist.world_size, unit="sample", unit_scale=True,
                           desc=f"epoch {epoch + 1}/{cfg.epochs}", disable=not dist.is_main, leave=False)
        running, seen, tick = 0.0, 0, time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        for i, rows in enumerate(batches):
            batch = {k: v.to(device) for k, v in train_ids.batch(rows, pad_id, labels[rows]).items()}
            last_micro = (i + 1) % cfg.grad_accum == 0 or i + 1 == len(batches)
            sync = contextlib.nullcontext() if last_micro or dist.world_size == 1 else train_model.no_sync()
            with sync:  # skip the gradient all-reduce until the last micro-batch
                with _autocast(device, dtype):
                    loss = train_model(**batch, loss_fn=loss_fn)["loss"] / cfg.grad_accum
                (scaler.scale(loss) if scaler else loss).backward()
            running += loss.item() * cfg.grad_accum
            seen += 1
            bar.update(len(rows) * dist.world_size)
            if not last_micro:
                continue
            if scaler:
                scaler.unscale_(optimizer)
            if cfg.max_grad_norm:
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
            if scaler:
                scaler.step(optimizer)
                scaler.update()
            else:
                optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            bar.set_postfix(loss=f"{running / seen:.4f}", lr=f"{scheduler.get_last_lr()[0]:.2e}")
            end_of_epoch = i + 1 == len(batches)
            if step % eval_every == 0 or end_of_epoch or step >= total_steps:
                elapsed = time.perf_counter() - tick
                record = {"epoch": epoch + 1, "step": step, "train_loss": running / max(seen, 1),
                          "samples_per_s": seen * cfg.batch_size * dist.world_size / max(elapsed, 1e-9)}
                if has_valid:
                    record.update(_evaluate(model, valid_ids, valid_labels, pad_id, cfg, task,
                                            loss_fn, device, dtype))
                    metric = record["valid_loss"] if cfg.select_by == "loss" else record["valid_macro_f1"]
                    if _is_better(record, best_metric, cfg.select_by):
                        best_metric, best_step, stale = metric, step, 0
                        best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
                    else:
                        stale += 1
                    train_model.train()
                history.append(record)
                if dist.is_main:
                    progress.write(_history_line(record))
                running, seen, tick = 0.0, 0, time.perf_counter()
                if (cfg.patience is not None and stale >= cfg.patience) or step >= total_steps:
                    stop = True
                    break
        bar.close()
        if checkpoint is not None and dist.is_main and not stop:
            _save_checkpoint(checkpoint, {
                "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "scaler": scaler.state_dict() if scaler else None,
                "epoch": epoch + 1, "step": step, "history": history, "best_metric": best_metric,
                "best_state": best_state, "best_step": best_step, "stale": stale,
                "torch_rng": torch.get_rng_state()})
        distributed.barrier(dist)

    if best_state is not None:
        model.load_state_dict(best_state)
    else:
        best_step = step
    if checkpoint is not None and checkpoint.exists() and dist.is_main:
        checkpoint.unlink()  # the fold is done; its artifacts replace the checkpoint
    return FitResult(model=model, tokenizer=tokenizer, history=history, best_step=best_step)


def _history_line(r: dict) -> str:
    """One row of the HF-Trainer-like evaluation table (accuracy instead of micro-F1 for multiclass)."""
    parts = [f"epoch {r['epoch']:>2}", f"step {r['step']:>6}", f"train loss {r['train_loss']:.4f}"]
    if "valid_loss" in r:
        first = (f"accuracy {r['valid_accuracy']:.4f}" if "valid_accuracy" in r
                 else f"micro-F1 {r['valid_micro_f1']:.4f}")
        parts += [f"valid loss {r['valid_loss']:.4f}", first, f"macro-F1 {r['valid_macro_f1']:.4f}"]
    parts.append(f"{r['samples_per_s']:.1f} samples/s")
    return " | ".join(parts)


# ---------------------------------------------------------------------------
# saving for `foldwise predict`

def save_classifier(model: TextClassifier, tokenizer: Any, folder: Path) -> None:
    """Weights, backbone config, head settings and tokenizer: enough to predict offline."""
    from . import artifacts

    folder.mkdir(parents=True, exist_ok=True)
    artifacts.write_with(folder / "model.pt", lambda tmp: torch.save(model.state_dict(), tmp))
    model.backbone.config.save_pretrained(folder / "backbone")
    tokenizer.save_pretrained(folder / "tokenizer")
    artifacts.write_json(folder / "head.json", {"n_labels": model.head.out_features, "pooling": model.pooling})


def load_classifier(folder: Path) -> FitResult:
    """A classifier saved by :func:`save_classifier` (no hub access needed)."""
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    head = json.loads((folder / "head.json").read_text())
    backbone = AutoModel.from_config(AutoConfig.from_pretrained(folder / "backbone"))
    model = TextClassifier(backbone, head["n_labels"], head["pooling"], dropout=0.0)
    model.load_state_dict(torch.load(folder / "model.pt", map_location="cpu", weights_only=True))
    model.eval()
    return FitResult(model=model, tokenizer=AutoTokenizer.from_pretrained(folder / "tokenizer"),
                     history=[], best_step=0)
