"""Task span's data keys: the question, context and answer columns it needs, and that no other
task reads them (a question and a context column make the pair a span model reads)."""

from __future__ import annotations

from ...config import DataConfig

#: the keys task span must have
REQUIRED = ("question_column", "context_column", "answer_column")
#: the keys only task span reads
OWN = (*REQUIRED, "answer_start_column")


def problems(cfg: DataConfig) -> list[tuple[str, str]]:
    """(key, problem): a required key unset for task span; one of its keys set for another task."""
    if cfg.task == "span":
        return [(key, "must be set for task span") for key in REQUIRED if getattr(cfg, key) is None]
    return [
        (key, f"is for task span (data.task is {cfg.task}): set data.task: span, or remove it")
        for key in OWN
        if getattr(cfg, key) is not None
    ][:1]
