"""The data keys of tasks regression and ordinal: their targets are ``label_columns`` or
``target_column`` (or the sample's columns); the classification label keys mean nothing to them."""

from __future__ import annotations

from ...config import DataConfig

#: the kinds this package builds
KINDS = ("regression", "ordinal")
#: classification keys a numeric task refuses (its targets are numbers, not label names)
LABEL_KEYS = ("label_column", "label_names", "positive_label")


def problems(cfg: DataConfig) -> list[tuple[str, str]]:
    """(key, problem): a label key, or a classification submission format, under a numeric task."""
    if cfg.task not in KINDS:
        return []
    found = [
        (key, f"is for classification (data.task is {cfg.task}): the targets are label_columns or target_column")
        for key in LABEL_KEYS
        if getattr(cfg, key) is not None
    ]
    if cfg.label_columns and cfg.target_column:
        found.append(("target_column", "and label_columns both set: one target column, or several, not both"))
    if cfg.submission_format != "auto":
        found.append(
            (
                "submission_format",
                f"is {cfg.submission_format}, a classification format; task {cfg.task} submits numbers (leave it auto)",
            )
        )
    return found
