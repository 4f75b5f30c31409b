"""Data-parallel context: one process per device under ``torchrun`` / ``accelerate launch``.

Without those launchers (WORLD_SIZE unset or 1) everything is a single process and
these helpers are no-ops. Under them, every process trains on its own share of each
epoch's batches, gradients are averaged by DDP, and only rank 0 writes files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch


@dataclass
class DistContext:
    """This process's place in a (possibly single-process) job."""

    rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """Whether this process writes artifacts and prints progress."""
        return self.rank == 0


def context() -> DistContext:
    """Join the process group when launched data-parallel; pick this process's device."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = torch.cuda.is_available()
    device = torch.device("cuda", local_rank) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
    if world_size > 1 and not torch.distributed.is_initialized():
        torch.distributed.init_process_group(backend="nccl" if cuda else "gloo")
    return DistContext(rank=rank, world_size=world_size, device=device)


def shard(batches: list, ctx: DistContext) -> list:
    """This process's batches: every world_size-th, after trimming to an equal count."""
    if ctx.world_size == 1:
        return batches
    usable = len(batches) - len(batches) % ctx.world_size
    return batches[ctx.rank : usable : ctx.world_size]


def barrier(ctx: DistContext) -> None:
    """Wait for every process (no-op when single-process)."""
    if ctx.world_size > 1:
        torch.distributed.barrier()


def is_main_process() -> bool:
    """Rank 0, or a plain single-process run."""
    return int(os.environ.get("RANK", "0")) == 0
