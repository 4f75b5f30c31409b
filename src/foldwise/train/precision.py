"""Which dtype a run computes in, and which dtype its frozen weights are stored in.

On a CUDA GPU ``precision: auto`` autocasts to bf16 where the GPU has it, else fp16. On a
CPU it autocasts to bf16 where bf16 measured faster for the model on this machine
(:mod:`foldwise.train.precision_probe`: a few timed steps of each, cached per CPU, torch and
model): CPUs differ too much for a rule (with AMX a bf16 matmul ran 6.9x faster than fp32,
on a Xeon with AVX512-BF16 alone at 0.43-0.59x, on an AMD EPYC with AVX512-BF16 1.5-1.9x
faster; DESIGN.md). Unmeasured (probing off, data-parallel runs, or a model loaded to
predict on a machine that never trained it) it autocasts to bf16 only with AMX. Weights
that never train (the frozen base of LoRA) are stored in the compute dtype itself
(:func:`frozen_weight_dtype`): autocast then has no fp32 -> bf16 cast of them to do in every
forward and again in backward, and they take half the memory; what trains (adapters, head,
optimizer state) stays fp32.
"""

from __future__ import annotations

import functools
import platform
import warnings
from pathlib import Path
from typing import Any

import torch


def cpu_has_amx() -> bool:
    """True when this CPU has AMX bf16 tiles (Linux ``/proc/cpuinfo`` flag ``amx_bf16``)."""
    return cpu_flags_have("amx_bf16")


@functools.cache
def cpu_flags_have(flag: str, cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether the ``flags`` lines of ``cpuinfo`` list ``flag`` (False where it cannot be read)."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return False
    return any(flag in line.split() for line in text.splitlines() if line.startswith("flags"))


@functools.cache
def cpu_model_name(cpuinfo: str = "/proc/cpuinfo") -> str:
    """The CPU's marketing name (``model name`` in ``cpuinfo``), or what ``platform`` knows."""
    try:
        for line in Path(cpuinfo).read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def capability_line() -> str:
    """One line naming the hardware a speed figure comes from and what decides its precision:
    the GPU (and whether it has bf16), or the CPU, its threads, AMX and AVX512-BF16."""
    if torch.cuda.is_available():
        return (
            f"GPU: {torch.cuda.get_device_name()}, bf16: {'yes' if torch.cuda.is_bf16_supported() else 'no'}"
            f", torch {torch.__version__}"
        )
    amx = "yes" if cpu_has_amx() else "no"
    avx = "yes" if cpu_flags_have("avx512_bf16") else "no"
    return (
        f"CPU: {cpu_model_name()}, {torch.get_num_threads()} threads, AMX bf16: {amx}, AVX512-BF16: {avx}, "
        f"torch {torch.__version__}"
    )


def autocast_dtype(cfg: Any, device: torch.device) -> torch.dtype | None:
    """The autocast dtype of ``cfg.precision`` on ``device`` (None: full fp32).

    On a CPU, ``bf16`` always autocasts and ``auto`` autocasts to bf16 where the probe found
    bf16 faster for this model here (:func:`auto_picks_bf16`), else stays fp32; fp16 has no
    CPU kernels worth having.
    """
    if cfg.precision == "fp32":
        return None
    if device.type != "cuda":
        if cfg.precision == "bf16" and not cpu_has_amx():
            _warn_once(
                "precision: bf16 on a CPU without AMX: bf16 ran at 0.43-0.64x of fp32 on a Xeon with "
                "AVX512-BF16 alone but 1.5-1.9x on an AMD EPYC with it (bench/speed.py measures this "
                "CPU); precision: auto measures which is faster"
            )
        wants_bf16 = cfg.precision == "bf16" or (cfg.precision == "auto" and auto_picks_bf16(cfg))
        return torch.bfloat16 if wants_bf16 else None
    if cfg.precision == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if cfg.precision == "bf16" else torch.float16


def auto_picks_bf16(cfg: Any) -> bool:
    """Whether ``precision: auto`` computes in bf16 on this CPU: what the probe measured for
    ``cfg``'s model here (:func:`foldwise.train.precision_probe.known_choice`), else whether
    the CPU has AMX."""
    from .precision_probe import known_choice

    choice = known_choice(cfg)
    return cpu_has_amx() if choice is None else choice == "bf16"


def frozen_weight_dtype(cfg: Any, device: torch.device) -> torch.dtype:
    """The dtype weights that never train are stored in: the run's compute dtype (bf16 on a
    CPU where bf16 measured faster or a GPU with bf16, fp16 on older GPUs), fp32 when the
    run computes in fp32."""
    return autocast_dtype(cfg, device) or torch.float32


@functools.cache
def _warn_once(message: str) -> None:
    warnings.warn(message, stacklevel=3)
