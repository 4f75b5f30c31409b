"""Task kind span: each row's answer is a piece of its context (extractive QA, tweet sentiment
extraction), predicted from start/end scores over windows of the context."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ...config import DataConfig
from ...data.competition import CompetitionData
from .keys import problems as key_problems  # the checks of the kind's own data keys

if TYPE_CHECKING:
    from .. import MetricGuess, SampleFacts
    from ..roles import Task
    from .predictions import SpanPredictions
    from .task import SpanTruth

__all__ = ["build", "guess_metric", "key_problems"]


def build(
    data_cfg: DataConfig, label_names: list[str], sample: pd.DataFrame, data: CompetitionData | None = None
) -> Task[SpanPredictions, SpanTruth]:
    """The ``TASKS`` builder of ``task: span``."""
    from .task import span_task

    return span_task(data_cfg, label_names, sample, data)


def guess_metric(kind: str, facts: SampleFacts) -> MetricGuess:
    """``foldwise init``'s metric for a span competition."""
    from .task import guess_metric as guess

    return guess(kind, facts)
