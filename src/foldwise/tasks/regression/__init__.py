"""Task kinds regression and ordinal: one or several numbers per text, scored by RMSE, MCRMSE, MAE,
Pearson or Spearman; ordinal scores (integer levels) decided by cut points fit on OOF for
quadratic weighted kappa."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ...config import DataConfig
from ...data.competition import CompetitionData
from .keys import problems as key_problems  # the checks of the kinds' own data keys

if TYPE_CHECKING:
    from .. import MetricGuess, SampleFacts
    from ..roles import Task

__all__ = ["build", "guess_metric", "key_problems"]


def build(
    data_cfg: DataConfig, label_names: list[str], sample: pd.DataFrame, data: CompetitionData | None = None
) -> Task[np.ndarray, np.ndarray]:
    """The ``TASKS`` builder of ``task: regression`` and ``task: ordinal``."""
    from .task import RegressionTask

    return RegressionTask(data_cfg, label_names, sample, data)


def guess_metric(kind: str, facts: SampleFacts) -> MetricGuess:
    """``foldwise init``'s metric for a competition scored on numbers."""
    from .guess import guess_metric as guess

    return guess(kind, facts)
