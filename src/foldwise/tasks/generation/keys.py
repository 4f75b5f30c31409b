"""Task generation's data keys: the train column of target texts it needs."""

from __future__ import annotations

from ...config import DataConfig


def problems(cfg: DataConfig) -> list[tuple[str, str]]:
    """(key, problem): ``target_column`` unset for task generation."""
    if cfg.task == "generation" and cfg.target_column is None:
        return [("target_column", "must be set for task generation (the train column of target texts)")]
    return []
