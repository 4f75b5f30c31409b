"""``foldwise init``'s metric guess for a competition scored on numbers: the metric is the one
line init cannot read from the files, so the guess names the common alternatives."""

from __future__ import annotations

from .. import MetricGuess, SampleFacts


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
