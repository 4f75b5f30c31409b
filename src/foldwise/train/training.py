"""The one training loop for every neural model kind (encoders, decoder LLMs with LoRA).

The loop knows a :class:`foldwise.train.backbone.Backbone` (a module over a padded batch,
its tokenizer and its parameter groups) and the task's :class:`foldwise.train.heads.Head`
(:class:`foldwise.tasks.classification.head.ClassificationHead` and the like: the output layer, its
loss, rows -> sequences -> predictions, validation scores); the module returns
``{"loss", "logits"}``, so the loop never asks which task it trains. Read top to bottom:
:func:`fit` prepares a fold (:func:`_prepare`: tokenised sequences, loss, optimiser,
schedule), restores an epoch checkpoint when resuming, runs epochs of length-bucketed,
dynamically padded batches (:func:`_train_epoch`) with mixed precision and gradient
accumulation (:func:`_optimizer_step`), evaluates, keeps the best weights
(:func:`_evaluate_and_select`) and writes epoch checkpoints for ``--resume``.
:func:`predict` runs length-sorted batches without gradients.
Data-parallel runs (torchrun / accelerate launch) shard the batches over processes.
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

import numpy as np
import torch
from torch import nn

from .. import progress
from ..config import fingerprint_change
from ..io import artifacts
from . import distributed, precision_probe
from .backbone import Backbone, NeuralConfig
from .batching import TokenizedRows, bucketed_batches
from .heads import Head
from .precision import autocast_dtype

#: the task's predictions, a head's gathered outputs and its sequences (see :class:`Head`)
P = TypeVar("P")
Out = TypeVar("Out")
S = TypeVar("S", bound=TokenizedRows)

# ---------------------------------------------------------------------------
# optimiser and precision


def build_optimizer(groups: list[dict], cfg: NeuralConfig, device: torch.device) -> torch.optim.Optimizer:
    """AdamW over ``groups`` (fused on CUDA, foreach elsewhere), or bitsandbytes' 8-bit
    AdamW when asked and available."""
    if cfg.optimizer == "adamw_8bit":
        try:
            import bitsandbytes as bnb

            if device.type != "cuda":
                raise ImportError("8-bit AdamW needs a CUDA device")
            return bnb.optim.AdamW8bit(groups, lr=cfg.lr)
        except ImportError as exc:
            warnings.warn(f"optimizer adamw_8bit unavailable ({exc}); falling back to torch AdamW")
    if device.type == "cuda":
        return torch.optim.AdamW(groups, lr=cfg.lr, fused=True)
    return torch.optim.AdamW(groups, lr=cfg.lr, foreach=True)


def _autocast(device: torch.device, dtype: torch.dtype | None) -> contextlib.AbstractContextManager[Any]:
    return torch.autocast(device.type, dtype=dtype) if dtype is not None else contextlib.nullcontext()


def trainable_state(module: nn.Module) -> dict[str, torch.Tensor]:
    """CPU copies of the parameters that train (all of an encoder; adapters + head of LoRA)."""
    return {name: p.detach().to("cpu", copy=True) for name, p in module.named_parameters() if p.requires_grad}


def load_trainable_state(module: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Put :func:`trainable_state` back; every saved tensor must find its parameter."""
    unexpected = module.load_state_dict(state, strict=False).unexpected_keys
    if unexpected:
        raise RuntimeError(f"checkpoint tensors without a parameter: {unexpected[:3]}")


# ---------------------------------------------------------------------------
# inference


def _inputs(
    ids: TokenizedRows,
    rows: np.ndarray,
    pad_id: int,
    padding_side: str,
    device: torch.device,
    with_targets: bool = False,
) -> dict[str, torch.Tensor]:
    batch = ids.batch(rows, pad_id, padding_side=padding_side, with_targets=with_targets)
    return {k: v.to(device) for k, v in batch.items()}


@torch.inference_mode()
def predict_outputs(
    backbone: Backbone, head: Head[Any, Out, S], module: nn.Module, ids: S, pad_id: int, device: torch.device
) -> Out:
    """The head's outputs of every sequence (classification: (n, L) logits; generation: token
    ids) in sequence order; sequences are run longest first for minimal padding."""
    cfg = backbone.config
    dtype = autocast_dtype(cfg, device)
    module.eval()
    pieces: list[tuple[np.ndarray, Out]] = []
    # quiet unless it runs for minutes: then a log gets interim lines with the time left
    bar = progress.bar(
        total=len(ids),
        desc="predict",
        unit="row",
        unit_scale=True,
        leave=False,
        line_when_done=False,
        disable=not distributed.is_main_process(),
    )
    with backbone.inference(module) as model, contextlib.closing(bar):
        for rows in bucketed_batches(ids.lengths(), cfg.eval_batch_size, seed=0, shuffle=False):
            batch = _inputs(ids, rows, pad_id, backbone.padding_side, device)
            with _autocast(device, dtype):
                raw = head.infer(model, batch)  # logits, or generated token ids
            pieces.append((rows, head.collect(raw, batch)))
            bar.update(len(rows))
    return head.outputs(pieces, len(ids))


def predict(backbone: Backbone, head: Head[P, Any, Any], module: nn.Module, tokenizer: Any, texts: np.ndarray) -> P:
    """The task's predictions of (n,) texts or (n, 2) pairs (classification: (n, L)
    probabilities): length-sorted batches, no gradients."""
    device = next(module.parameters()).device
    sequences = head.encode(backbone, tokenizer, texts)
    outputs = predict_outputs(backbone, head, module, sequences, backbone.pad_id(tokenizer), device)
    return head.predictions(outputs, sequences, texts)


# ---------------------------------------------------------------------------
# one fold


@dataclass
class FitResult(Generic[P]):
    """A fitted fold: the module holding the best weights, its tokenizer and the history."""

    model: nn.Module
    tokenizer: Any
    history: list[dict]
    best_step: int
    #: predictions of the validation rows from the kept weights (None without validation rows)
    valid_preds: P | None = None
    #: the precision it computed in and why (:func:`foldwise.train.precision_probe.resolve`)
    precision: dict[str, Any] | None = None


@dataclass
class LoopState(Generic[P]):
    """Where training stands; all of it goes into the epoch checkpoint."""

    epoch: int = 0
    step: int = 0
    history: list[dict] = field(default_factory=list)
    best_metric: float | None = None
    best_state: dict | None = None
    best_step: int = 0
    best_valid_preds: P | None = None
    stale: int = 0


@dataclass
class _Fold(Generic[P]):
    """Everything :func:`fit` prepared for one fold."""

    backbone: Backbone
    head: Head[P, Any, Any]
    module: nn.Module
    train_module: nn.Module  # compiled and/or DDP-wrapped view of ``module``
    tokenizer: Any
    train_ids: TokenizedRows  # the training sequences, each with its targets
    valid_texts: np.ndarray | None
    valid_ids: TokenizedRows | None
    valid_targets: Any
    optimizer: torch.optim.Optimizer
    scheduler: Any
    scaler: Any
    dtype: torch.dtype | None
    precision: dict[str, Any]  # the dtype and why (precision_probe.resolve)
    device: torch.device
    dist: Any
    pad_id: int
    steps_per_epoch: int
    total_steps: int


def fit(
    backbone: Backbone,
    head: Head[P, Any, Any],
    seed: int,
    texts: np.ndarray,
    targets: Any,
    valid_texts: np.ndarray | None = None,
    valid_targets: Any = None,
    workdir: Path | None = None,
    resume: bool = False,
    fingerprint: str | None = None,
) -> FitResult[P]:
    """Fine-tune ``backbone`` on one fold; keep the weights of the best evaluation.

    Parameters
    ----------
    backbone : the model kind (its ``config`` holds the loop's options).
    head : the task's head (:meth:`foldwise.tasks.Task.head`): output layer, loss, predictions.
    texts, targets : (n,) training texts, or (n, 2) sentence pairs, and their truth (the
        task's: (n, n_labels) 0/1 labels for classification).
    valid_texts, valid_targets : the fold's held-out rows, used for evaluation, best-state
        selection and early stopping only.
    workdir : where ``last.pt`` (end-of-epoch checkpoint) lives while the fold trains.
    resume : continue from ``workdir/last.pt`` when it exists and carries ``fingerprint``.
    fingerprint : the run's training fingerprint, stamped on every epoch checkpoint; a
        checkpoint saved under another one (the config changed since) is not continued:
        the fold starts afresh, saying so.
    """
    cfg = backbone.config
    if cfg.max_rows_per_fold is not None and len(texts) > cfg.max_rows_per_fold:
        keep = np.sort(np.random.default_rng(seed).choice(len(texts), cfg.max_rows_per_fold, replace=False))
        texts, targets = texts[keep], targets[keep]
    fold = _prepare(backbone, head, seed, texts, targets, valid_texts, valid_targets)
    checkpoint = workdir / "last.pt" if workdir is not None else None
    state: LoopState[P] = LoopState()
    if resume and checkpoint is not None and checkpoint.exists():
        state = _restore(fold, checkpoint, fingerprint) or state
    stop = state.step >= fold.total_steps
    for epoch in range(state.epoch, cfg.epochs):
        if stop:
            break
        stop = _train_epoch(fold, state, epoch, seed)
        state.epoch = epoch + 1
        if checkpoint is not None and fold.dist.is_main and not stop:
            _save_checkpoint(fold, state, checkpoint, fingerprint)
        distributed.barrier(fold.dist)
    if state.best_state is not None:
        load_trainable_state(fold.module, state.best_state)
    else:
        state.best_step = state.step
    if checkpoint is not None and checkpoint.exists() and fold.dist.is_main:
        checkpoint.unlink()  # the fold is done; its artifacts replace the checkpoint
    return FitResult(
        model=fold.module,
        tokenizer=fold.tokenizer,
        history=state.history,
        best_step=state.best_step,
        valid_preds=state.best_valid_preds,
        precision=fold.precision,
    )


def _prepare(
    backbone: Backbone,
    head: Head[P, Any, Any],
    seed: int,
    texts: np.ndarray,
    targets: Any,
    valid_texts: np.ndarray | None,
    valid_targets: Any,
) -> _Fold[P]:
    """Model (owning its loss), tokenised sequences, optimiser, schedule and precision of one fold."""
    from transformers import get_scheduler

    cfg = backbone.config
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    dist = distributed.context()
    precision = precision_probe.resolve(  # before seeding: a probe leaves the fold's random state alone
        cfg,
        dist.device,
        lambda: _precision_probe(backbone, head, texts, targets, dist.device),
        is_main=dist.is_main,
        world_size=dist.world_size,
    )
    torch.manual_seed(seed)
    module, tokenizer = backbone.build(head, dist.device)
    train_ids = head.encode(backbone, tokenizer, texts, targets)
    if valid_texts is not None and len(valid_texts) == 0:
        valid_texts = valid_targets = None  # no held-out rows: nothing to evaluate
    valid_ids = None if valid_texts is None else head.encode(backbone, tokenizer, valid_texts, valid_targets)
    module.loss_fn = head.loss(targets)  # the module owns its loss, bound to the fold's targets
    batches_per_epoch = math.ceil(len(train_ids) / cfg.batch_size) // dist.world_size
    steps_per_epoch = max(1, math.ceil(batches_per_epoch / cfg.grad_accum))
    total_steps = steps_per_epoch * cfg.epochs
    if cfg.max_steps is not None:
        total_steps = min(total_steps, cfg.max_steps)
    optimizer = build_optimizer(backbone.param_groups(module), cfg, dist.device)
    scheduler = get_scheduler(
        cfg.scheduler, optimizer, num_warmup_steps=int(cfg.warmup_ratio * total_steps), num_training_steps=total_steps
    )
    dtype = autocast_dtype(cfg, dist.device)
    # compiling a module gives a module (torch types what torch.compile returns as a callable)
    train_module = cast(nn.Module, torch.compile(module)) if cfg.compile else module
    if dist.world_size > 1:
        train_module = torch.nn.parallel.DistributedDataParallel(
            train_module, device_ids=[dist.device.index] if dist.device.type == "cuda" else None
        )
    return _Fold(
        backbone=backbone,
        head=head,
        module=module,
        train_module=train_module,
        tokenizer=tokenizer,
        train_ids=train_ids,
        valid_texts=valid_texts,
        valid_ids=valid_ids,
        valid_targets=valid_targets,
        optimizer=optimizer,
        scheduler=scheduler,
        scaler=torch.amp.GradScaler("cuda") if dtype == torch.float16 else None,
        dtype=dtype,
        precision=precision,
        device=dist.device,
        dist=dist,
        pad_id=backbone.pad_id(tokenizer),
        steps_per_epoch=steps_per_epoch,
        total_steps=total_steps,
    )


def _precision_probe(
    backbone: Backbone, head: Head[Any, Any, Any], texts: np.ndarray, targets: Any, device: torch.device
) -> precision_probe.Probe:
    """What ``precision: auto`` times on a CPU: a throwaway fp32 copy of the fold's model and one
    batch of the fold's rows of middling length (batches are bucketed by length)."""
    cfg = backbone.config
    fp32 = copy.copy(backbone)
    fp32.config = replace(cfg, precision="fp32")
    module, tokenizer = fp32.build(head, device)
    module.loss_fn = head.loss(targets)
    order = np.argsort([len(str(text)) for text in texts], kind="stable")
    size = min(cfg.batch_size, precision_probe.BATCH_ROWS)
    rows = np.sort(order[max(0, len(order) // 2 - size // 2) :][:size])
    sequences = head.encode(fp32, tokenizer, texts[rows], targets[rows])
    batch = _inputs(
        sequences,
        np.arange(min(len(sequences), size)),
        fp32.pad_id(tokenizer),
        fp32.padding_side,
        device,
        with_targets=True,
    )
    # weights that never train (LoRA's base) are stored in the compute dtype unless pinned (base_dtype)
    frozen = getattr(cfg, "base_dtype", "auto") == "auto" and any(not p.requires_grad for p in module.parameters())
    return precision_probe.Probe(module, batch, frozen_in_bf16=frozen)


def _train_epoch(fold: _Fold[P], state: LoopState[P], epoch: int, seed: int) -> bool:
    """One epoch of bucketed batches; evaluates on schedule. True when training should stop."""
    cfg, dist = fold.backbone.config, fold.dist
    fold.train_module.train()
    batches = bucketed_batches(
        fold.train_ids.lengths(), cfg.batch_size, seed=seed + epoch, bucket_batches=cfg.bucket_batches
    )
    batches = distributed.shard(batches, dist)
    bar = progress.bar(
        total=len(batches) * cfg.batch_size * dist.world_size,
        unit="sample",
        unit_scale=True,
        desc=f"epoch {epoch + 1}/{cfg.epochs}",
        disable=not dist.is_main,
        leave=False,
    )
    eval_every = cfg.eval_every_steps or fold.steps_per_epoch
    running, seen, tick = 0.0, 0, time.perf_counter()
    fold.optimizer.zero_grad(set_to_none=True)
    try:
        for i, rows in enumerate(batches):
            last_micro = (i + 1) % cfg.grad_accum == 0 or i + 1 == len(batches)
            running += _forward_backward(fold, rows, sync=last_micro)
            seen += 1
            bar.update(len(rows) * dist.world_size)
            if not last_micro:
                continue
            _optimizer_step(fold)
            state.step += 1
            bar.set_postfix(loss=f"{running / seen:.4f}", lr=f"{fold.scheduler.get_last_lr()[0]:.2e}")
            if state.step % eval_every == 0 or i + 1 == len(batches) or state.step >= fold.total_steps:
                elapsed = time.perf_counter() - tick
                record = {
                    "epoch": epoch + 1,
                    "step": state.step,
                    "train_loss": running / max(seen, 1),
                    "samples_per_s": seen * cfg.batch_size * dist.world_size / max(elapsed, 1e-9),
                }
                _evaluate_and_select(fold, state, record)
                running, seen, tick = 0.0, 0, time.perf_counter()
                if (cfg.patience is not None and state.stale >= cfg.patience) or state.step >= fold.total_steps:
                    return True
        return False
    finally:
        bar.close()


def _forward_backward(fold: _Fold[Any], rows: np.ndarray, sync: bool) -> float:
    """Loss and gradients of one micro-batch (DDP all-reduces only when ``sync``); its loss."""
    grad_accum = fold.backbone.config.grad_accum
    batch = _inputs(fold.train_ids, rows, fold.pad_id, fold.backbone.padding_side, fold.device, with_targets=True)
    skip_sync = not sync and fold.dist.world_size > 1
    # skip_sync: the module is DistributedDataParallel (torch types other modules' attributes as Tensor | Module)
    with fold.train_module.no_sync() if skip_sync else contextlib.nullcontext():  # type: ignore[operator]
        with _autocast(fold.device, fold.dtype):
            loss = fold.train_module(**batch)["loss"].float() / grad_accum
        (fold.scaler.scale(loss) if fold.scaler else loss).backward()
    return loss.item() * grad_accum


def _optimizer_step(fold: _Fold[Any]) -> None:
    """Clip, step (through the fp16 scaler when there is one), schedule, zero the gradients."""
    cfg = fold.backbone.config
    if fold.scaler:
        fold.scaler.unscale_(fold.optimizer)
    if cfg.max_grad_norm:
        torch.nn.utils.clip_grad_norm_([p for p in fold.module.parameters() if p.requires_grad], cfg.max_grad_norm)
    if fold.scaler:
        fold.scaler.step(fold.optimizer)
        fold.scaler.update()
    else:
        fold.optimizer.step()
    fold.scheduler.step()
    fold.optimizer.zero_grad(set_to_none=True)


def _evaluate_and_select(fold: _Fold[P], state: LoopState[P], record: dict) -> None:
    """Score the validation rows, keep the best trainable state and its validation predictions
    (the fold's OOF predictions: no second pass), log one history line."""
    if fold.valid_ids is not None:
        scores, preds = _evaluate(fold)
        record.update(scores)
        key, higher = fold.head.selection()
        metric = record[key]
        if _is_better(metric, state.best_metric, higher):
            state.best_metric, state.best_step, state.stale = metric, state.step, 0
            state.best_state = trainable_state(fold.module)
            state.best_valid_preds = preds
        else:
            state.stale += 1
        fold.train_module.train()
    state.history.append(record)
    if fold.dist.is_main:
        progress.write(_history_line(record, fold.head.score_title))


def _evaluate(fold: _Fold[P]) -> tuple[dict[str, float], P]:
    """The head's validation scores (loss first) and the validation rows' predictions."""
    sequences, texts = fold.valid_ids, fold.valid_texts
    if sequences is None or texts is None:
        raise ValueError("the fold has no validation rows to evaluate")
    outputs = predict_outputs(fold.backbone, fold.head, fold.module, sequences, fold.pad_id, fold.device)
    preds = fold.head.predictions(outputs, sequences, texts)
    return fold.head.valid_scores(fold.module.loss_fn, outputs, sequences, preds, fold.valid_targets), preds


def _is_better(value: float, best: float | None, higher: bool) -> bool:
    if best is None:
        return True
    return value > best if higher else value < best


def _history_line(r: dict, score_title: Callable[[str], str]) -> str:
    """One row of the HF-Trainer-like evaluation table: train loss, then every validation score
    (named by ``score_title``: the head's)."""
    parts = [f"epoch {r['epoch']:>2}", f"step {r['step']:>6}", f"train loss {r['train_loss']:.4f}"]
    for key, value in r.items():
        if key.startswith("valid_"):
            name = key.removeprefix("valid_")
            parts.append(f"{'valid loss' if name == 'loss' else score_title(name)} {value:.4f}")
    parts.append(f"{r['samples_per_s']:.1f} samples/s")
    return " | ".join(parts)


# ---------------------------------------------------------------------------
# epoch checkpoints for --resume


def _save_checkpoint(fold: _Fold[P], state: LoopState[P], path: Path, fingerprint: str | None) -> None:
    """What a resumed run needs: trainable weights, optimiser, schedule, scaler, loop state, RNG,
    and the training fingerprint they belong to."""
    payload = {
        "fingerprint": fingerprint,
        "model": trainable_state(fold.module),
        "optimizer": fold.optimizer.state_dict(),
        "scheduler": fold.scheduler.state_dict(),
        "scaler": fold.scaler.state_dict() if fold.scaler else None,
        "loop": vars(state),
        "torch_rng": torch.get_rng_state(),
    }
    artifacts.write_with(path, lambda tmp: torch.save(payload, tmp))


def _restore(fold: _Fold[P], path: Path, fingerprint: str | None) -> LoopState[P] | None:
    """Load the checkpoint at ``path`` into ``fold``; None (and a line) when it was saved
    under another training fingerprint, so the old run is never continued under the new one."""
    saved = torch.load(path, map_location=fold.device, weights_only=False)
    if saved.get("fingerprint") != fingerprint:
        if fold.dist.is_main:
            what = fingerprint_change(saved.get("fingerprint"), fingerprint) if fingerprint else "another config"
            progress.write(f"{path} was saved with {what}; not resuming it: this fold starts afresh")
        return None
    load_trainable_state(fold.module, saved["model"])
    fold.optimizer.load_state_dict(saved["optimizer"])
    fold.scheduler.load_state_dict(saved["scheduler"])
    if fold.scaler is not None and saved.get("scaler"):
        fold.scaler.load_state_dict(saved["scaler"])
    torch.set_rng_state(saved["torch_rng"].cpu())
    state: LoopState[P] = LoopState(**saved["loop"])
    if fold.dist.is_main:
        progress.write(f"resumed from {path} at epoch {state.epoch} (step {state.step})")
    return state
