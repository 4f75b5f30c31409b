"""``precision: auto`` on a CPU, decided by measurement.

Whether bf16 autocast pays on a CPU depends on the CPU and the model: with AMX tiles bf16
matmuls ran 6.9x fp32, with AVX512-BF16 alone 0.43-0.59x on one Xeon but 1.5x on an AMD
EPYC, and without either bf16 is slower. So the first fold of a neural kind trained with
``precision: auto`` on a CPU measures it (:func:`resolve`). A throwaway fp32 copy of the
fold's model runs one batch of the fold's own rows (at most :data:`BATCH_ROWS`, of middling
length) without dropout in fp32 and in bf16 (autocast, with the weights that never train
stored in bf16 where the run stores them so: LoRA's frozen base), then times training steps
(forward and backward): one untimed step of each, then :data:`STEPS` of each, alternating,
fp32 first. Steps run on one thread and are timed in the process's CPU seconds
(:data:`clock`): what differs between CPUs is each core's bf16 arithmetic, and one
thread's CPU time is what other processes on a shared machine barely move (two threads
there spent 3x the CPU time of one in barrier waits, from step to step). bf16 is chosen
when its fastest step beat fp32's fastest by :data:`MIN_SPEEDUP` (a margin over noise)
and its logits agree with fp32's within :data:`TOLERANCE`; else fp32.

The verdict is one printed line, goes into the fold's record, and is cached in
``precision.json`` under :func:`foldwise.io.paths.cache_root` (``~/.cache/foldwise``),
keyed by the CPU, the torch version and the model (kind, name, layers, ``max_length``
rounded up to a power of two): later folds and runs read it without measuring. Deleting
the file measures again. ``FOLDWISE_PRECISION_PROBE=off`` keeps the CPU-flag rule (bf16
only with AMX) without measuring or reading the cache; so do data-parallel runs. GPUs are
never probed: bf16 where supported, else fp16.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .. import progress
from ..io import artifacts, paths
from .precision import autocast_dtype, cpu_has_amx, cpu_model_name

#: the environment switch: ``off`` keeps the CPU-flag rule (bf16 only with AMX), no probe, no cache
PROBE_ENV = "FOLDWISE_PRECISION_PROBE"
#: the cache file under :func:`foldwise.io.paths.cache_root`
CACHE_FILE = "precision.json"
#: timed training steps per precision, after one untimed warm-up step of each
STEPS = 3
#: the probe's batch: at most this many of the fold's rows
BATCH_ROWS = 16
#: bf16 must train at least this many times as fast as fp32: a margin over timing noise
MIN_SPEEDUP = 1.1
#: the largest |bf16 - fp32| logit allowed, relative to max(1, fp32's largest |logit|)
TOLERANCE = 0.05
#: the clock the steps are timed with: the process's CPU seconds, read before and after each
#: timed step, fp32's and bf16's alternating, fp32 first (tests replace it)
clock: Callable[[], float] = time.process_time

#: the verdicts this process resolved or read, by (cache file, key): one line each per process
_known: dict[tuple[str, str], dict[str, Any]] = {}


@dataclass
class Probe:
    """A throwaway fp32 copy of the fold's model (its loss set) and one batch of the fold's rows."""

    module: nn.Module
    batch: dict[str, torch.Tensor]
    #: store the weights that never train in bf16 before running bf16 (where the run would)
    frozen_in_bf16: bool = False


def enabled() -> bool:
    """Whether ``precision: auto`` measures on a CPU (``FOLDWISE_PRECISION_PROBE`` is not ``off``)."""
    return os.environ.get(PROBE_ENV, "").strip().lower() not in ("off", "0", "false", "no")


def cache_path() -> Path:
    """``precision.json`` in the per-user cache: delete it to measure again."""
    return paths.cache_root() / CACHE_FILE


def probe_key(cfg: Any) -> str:
    """What a verdict holds for: this CPU, torch, and the model of ``cfg``."""
    layers = cfg.num_hidden_layers or "all"
    bucket = 2 ** math.ceil(math.log2(cfg.max_length))
    return (
        f"{cpu_model_name()} | torch {torch.__version__} | "
        f"{cfg.kind} {cfg.name_or_path}, layers {layers}, max_length <= {bucket}"
    )


def known_choice(cfg: Any) -> str | None:
    """``bf16`` or ``fp32``: what the probe chose for ``cfg``'s model on this machine (this
    process's verdict, else the cache's); None when never measured or when probing is off."""
    if not enabled():
        return None
    path, key = cache_path(), probe_key(cfg)
    verdict = _known.get((str(path), key)) or _read_cache(path).get(key)
    return None if verdict is None else verdict["choice"]


def resolve(
    cfg: Any, device: torch.device, make_probe: Callable[[], Probe], is_main: bool = True, world_size: int = 1
) -> dict[str, Any]:
    """The precision a fold computes in, and why: the record its ``fold_<k>.json`` keeps.

    ``precision: auto`` on a CPU (one process, probing on) takes the cached verdict for this
    machine and model, or measures one with the probe ``make_probe`` builds and caches it;
    the first time in a process it prints one line (``is_main``). Anything else is as asked,
    or the GPU's rule, or the CPU-flag rule.
    """
    record: dict[str, Any] = {"asked": cfg.precision}
    if cfg.precision != "auto":
        record["by"] = "asked"
    elif device.type == "cuda":
        record["by"] = "gpu: bf16 where supported, else fp16"
    elif not enabled() or world_size > 1:
        record["by"] = f"cpu flags: AMX bf16 {'yes' if cpu_has_amx() else 'no'}"
    else:
        path, key = cache_path(), probe_key(cfg)
        memo = (str(path), key)
        verdict = _known.get(memo)
        if verdict is None:
            verdict = _read_cache(path).get(key)
            if verdict is None:
                verdict = measure(make_probe())
                _store(path, key, verdict)
                line = measured_line(verdict)
            else:
                line = cached_line(verdict)
            _known[memo] = verdict
            if is_main:
                progress.write(line)
        record.update(by=f"measured, cached in {path}", key=key, measurement=verdict)
    record["computed_in"] = dtype_name(autocast_dtype(cfg, device))
    return record


def dtype_name(dtype: torch.dtype | None) -> str:
    """``fp32`` for None (no autocast), else ``bf16`` or ``fp16``."""
    return {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[dtype]


def measure(probe: Probe) -> dict[str, Any]:
    """Compare ``probe``'s logits in fp32 and bf16, time :data:`STEPS` training steps of each
    on one thread (alternating, fp32 first, after one untimed step of each), and choose: bf16
    when it agrees and its fastest step is at least :data:`MIN_SPEEDUP` times as fast."""
    started, threads = time.perf_counter(), torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _measure(probe, started)
    finally:
        torch.set_num_threads(threads)


def _measure(probe: Probe, started: float) -> dict[str, Any]:
    module, batch = probe.module, probe.batch
    rows = int(batch["input_ids"].shape[0])
    use = _frozen_weights_swap(module) if probe.frozen_in_bf16 else (lambda dtype: None)
    reference = _logits(module, batch, None)
    seconds: dict[str, list[float]] = {"fp32": [], "bf16": []}
    error = diff = None
    try:
        use(torch.bfloat16)
        diff = _relative_diff(reference, _logits(module, batch, torch.bfloat16))
        for step in range(STEPS + 1):
            for name, dtype in (("fp32", None), ("bf16", torch.bfloat16)):
                use(dtype)
                took = _step_seconds(module, batch, dtype, timed=step > 0)
                if step:
                    seconds[name].append(took)
    except RuntimeError as exc:  # an operation without a bf16 kernel on this CPU
        error, diff = str(exc).splitlines()[0][:200], None
        use(None)
        seconds = {"fp32": [_step_seconds(module, batch, None, timed=True)], "bf16": [math.inf]}
    fp32, bf16 = min(seconds["fp32"]), min(seconds["bf16"])
    agree = diff is not None and diff <= TOLERANCE
    return {
        "choice": "bf16" if agree and fp32 / bf16 >= MIN_SPEEDUP else "fp32",
        "speedup": round(fp32 / bf16, 3),
        "fp32_samples_per_cpu_s": round(rows / fp32, 2),
        "bf16_samples_per_cpu_s": round(rows / bf16, 2),
        "max_diff": None if diff is None else round(diff, 5),
        "agree": agree,
        **({"error": error} if error else {}),
        "step_seconds": {name: [round(s, 4) for s in times if math.isfinite(s)] for name, times in seconds.items()},
        "batch": list(batch["input_ids"].shape),
        "cpu": cpu_model_name(),
        "torch": torch.__version__,
        "probe_seconds": round(time.perf_counter() - started, 2),
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _frozen_weights_swap(module: nn.Module) -> Callable[[torch.dtype | None], None]:
    """A switch storing the weights of ``module`` that never train in bf16 (``torch.bfloat16``)
    or back in fp32 (None): both copies are kept, so switching costs nothing."""
    frozen = [param for param in module.parameters() if not param.requires_grad]
    copies = {None: [p.data for p in frozen], torch.bfloat16: [p.data.to(torch.bfloat16) for p in frozen]}

    def use(dtype: torch.dtype | None) -> None:
        for param, data in zip(frozen, copies[dtype]):
            param.data = data

    return use


def measured_line(verdict: dict[str, Any]) -> str:
    """The one line a new measurement prints: both rates, the agreement, the choice."""
    if "error" in verdict:
        agreement = f"bf16 failed ({verdict['error']})"
    else:
        agreement = f"outputs {'agree' if verdict['agree'] else 'differ'} (max diff {verdict['max_diff']:.3f})"
    return (
        f"precision auto: bf16 trains at {verdict['speedup']:.2f}x fp32's speed on {verdict['cpu']} "
        f"({verdict['bf16_samples_per_cpu_s']:.1f} vs {verdict['fp32_samples_per_cpu_s']:.1f} samples per "
        f"CPU-second), {agreement}: {verdict['choice']} (measured in {verdict['probe_seconds']:.1f} s; "
        f"cached in {cache_path()})"
    )


def cached_line(verdict: dict[str, Any]) -> str:
    """The one line a cached verdict prints, saying how to measure again."""
    return (
        f"precision auto: {verdict['choice']}, measured on this machine on {verdict['measured_at'][:10]} "
        f"(bf16 at {verdict['speedup']:.2f}x fp32's speed); delete {cache_path()} to measure again"
    )


def _logits(module: nn.Module, batch: dict[str, torch.Tensor], dtype: torch.dtype | None) -> torch.Tensor:
    """The batch's logits in float32, without dropout."""
    module.eval()
    with torch.inference_mode(), torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None):
        return module(**batch)["logits"].float()


def _step_seconds(module: nn.Module, batch: dict[str, torch.Tensor], dtype: torch.dtype | None, timed: bool) -> float:
    """The seconds of one training step (forward and backward; no weight changes) in ``dtype``
    (None: fp32), read on :data:`clock` when ``timed``."""
    module.train()
    module.zero_grad(set_to_none=True)
    begin = clock() if timed else 0.0
    with torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None):
        loss = module(**batch)["loss"].float()
    loss.backward()
    took = clock() - begin if timed else 0.0
    module.zero_grad(set_to_none=True)
    return max(took, 1e-9)


def _relative_diff(reference: torch.Tensor, outputs: torch.Tensor) -> float | None:
    """max |outputs - reference| / max(1, max |reference|); None where bf16 gave inf or NaN."""
    if not torch.isfinite(outputs).all():
        return None
    scale = max(1.0, float(reference.abs().max()))
    return float((outputs - reference).abs().max()) / scale


def _read_cache(path: Path) -> dict[str, dict[str, Any]]:
    """The cached verdicts by key ({} when there are none or the file is unreadable)."""
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return cached if isinstance(cached, dict) else {}


def _store(path: Path, key: str, verdict: dict[str, Any]) -> None:
    """Add ``verdict`` to the cache file atomically, under a lock (other processes may add theirs);
    a cache that cannot be written only costs a measurement next time."""
    try:
        with artifacts.lock_file(path.with_name(path.name + ".lock")):
            artifacts.write_json(path, {**_read_cache(path), key: verdict})
    except OSError as exc:
        progress.write(f"precision auto: could not cache the verdict in {path} ({exc})")
