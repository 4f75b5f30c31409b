"""Task kinds multilabel, multiclass and binary: a label (or labels) per row, predicted as
probabilities, decided by cuts, argmax or calibration fit on OOF."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ...config import DataConfig
from ...data.competition import CompetitionData

if TYPE_CHECKING:
    from .. import MetricGuess, SampleFacts
    from ..roles import Task


def build(
    data_cfg: DataConfig, label_names: list[str], sample: pd.DataFrame, data: CompetitionData | None = None
) -> Task[np.ndarray, np.ndarray]:
    """The ``TASKS`` builder of the classification kinds (multilabel, multiclass, binary)."""
    from .task import ClassificationTask

    return ClassificationTask(data_cfg, label_names, sample)


def guess_metric(kind: str, facts: SampleFacts) -> MetricGuess:
    """``foldwise init``'s metric (and submission format) for a ``kind`` competition."""
    from .guess import guess_metric as guess

    return guess(kind, facts)
