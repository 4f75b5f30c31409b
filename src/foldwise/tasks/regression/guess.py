"""``foldwise init``'s guesses for a competition scored on numbers: whether its targets are numbers
(a regression, or ordinal scores) and its metric, the one line init cannot read from the files, so
the guess names the common alternatives."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import MetricGuess, SampleFacts

#: whole-number targets with at most this many distinct values (and at least three) are ordinal
#: scores (essay scores 1..6); with more, a regression
MAX_ORDINAL_LEVELS = 15


@dataclass(frozen=True)
class KindGuess:
    """The task kind of number targets, why, and whether the files settle it."""

    kind: str
    why: str
    sure: bool


def guess_kind(train: pd.DataFrame, sample: pd.DataFrame, columns: list[str]) -> KindGuess | None:
    """``regression`` when train's target ``columns`` hold numbers, one not a whole number (or whole
    numbers of many values); ``ordinal`` (unsure: classes named by numbers look alike) when they
    hold whole numbers of 3 to :data:`MAX_ORDINAL_LEVELS` values. None where a cell is no number,
    the columns are 0/1 labels, one column holds two values (classes), or the sample's cells of
    those columns are not numbers (class names)."""
    values = {c: pd.to_numeric(train[c].dropna(), errors="coerce") for c in columns}
    if any(v.isna().any() or v.empty for v in values.values()):
        return None
    if any(pd.to_numeric(sample[c].dropna(), errors="coerce").isna().any() for c in columns if c in sample.columns):
        return None  # the sample's cells name classes
    if all(set(v.unique()) <= {0, 1} for v in values.values()):
        return None
    real = next((c for c in columns if (values[c] % 1 != 0).any()), None)
    if real is not None:
        example = train[real].dropna()[(values[real] % 1 != 0).to_numpy()].iloc[0]
        return KindGuess("regression", f"column '{real}' holds real numbers ({example!r})", True)
    levels = {c: np.sort(values[c].unique()) for c in columns}
    many = next((c for c in columns if len(levels[c]) > MAX_ORDINAL_LEVELS), None)
    if many is not None:
        return KindGuess(
            "regression",
            f"column '{many}' holds whole numbers of {len(levels[many]):,} values: a number to predict",
            True,
        )
    if len(columns) == 1 and len(levels[columns[0]]) < 3:
        return None  # two classes named by numbers
    first = columns[0]
    span = f"{levels[first][0]:g}..{levels[first][-1]:g} ({len(levels[first])} levels)"
    return KindGuess(
        "ordinal",
        f"column '{first}' holds whole numbers {span}: ordinal scores, cut points fit on OOF; if they name "
        f"unordered classes, write task: multiclass and label_column: {first} instead",
        False,
    )


def guess_metric(kind: str, facts: SampleFacts) -> MetricGuess:
    """Ordinal scores: QWK (essay scoring); several targets: MCRMSE (Feedback Prize - ELL); one
    target: RMSE (readability), with Pearson named for similarity scores (patent phrase matching)."""
    if kind == "ordinal":
        return MetricGuess(
            "qwk", "integer scores with few levels: quadratic weighted kappa (essay scoring); accuracy if exact"
        )
    if len(facts.targets) > 1:
        return MetricGuess(
            "mcrmse",
            f"{len(facts.targets)} numeric targets: mean column-wise RMSE (Feedback Prize - ELL); rmse pools them",
        )
    return MetricGuess(
        "rmse", "one numeric target: RMSE (readability); pearson for similarity scores, mae, spearman also common"
    )
