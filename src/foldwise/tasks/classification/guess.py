"""What ``foldwise init`` guesses for a classification competition: the metric, from the task and
the sample's cells, and the submission format that metric implies."""

from __future__ import annotations

import pandas as pd

from .. import MetricGuess, SampleFacts
from ..metrics import get_metric
from .submission import has_fractions, infer_format


def guess_metric(kind: str, facts: SampleFacts) -> MetricGuess:
    """The metric of a ``kind`` competition (fractions in the sample: a metric on probabilities),
    marked blind where every sample cell is the same 0 or 1, with the submission format it implies."""
    block = facts.sample[facts.targets]
    fractions = has_fractions(block)
    constant = None if fractions else constant_01(block)
    if fractions:
        metric, why = (
            (
                "log_loss",
                "the sample's class columns hold fractions: probabilities of one class; roc_auc if scored per column",
            )
            if kind == "multiclass"
            else (
                "roc_auc",
                "the sample holds fractions: probabilities scored per column (mean AUC); "
                "log_loss if scored by log loss",
            )
        )
    elif kind == "binary":
        metric, why = "f1", "one 0/1 target: F1 of class 1; log_loss, roc_auc, accuracy or mcc are also common"
    elif kind == "multiclass":
        metric, why = "accuracy", "one class per row; macro_f1 or log_loss are also common"
    elif facts.one_label_column:
        metric, why = "samples_f1", "a list of labels per row: mean F1 over rows; micro_f1 is also common"
    else:
        metric, why = (
            "macro_f1",
            ("0/1 label columns: mean F1 over labels; micro_f1, samples_f1, roc_auc or log_loss are also common"),
        )
    names = facts.label_names or ([] if facts.one_label_column else facts.targets)
    if facts.one_label_column and not names:
        fmt = None  # the class names come from train's values: submission_format auto decides at load time
    elif constant is not None and sorted(names) == sorted(facts.targets):
        fmt = (
            "auto",
            f"the sample's cells are all {constant}, 0/1 labels or probabilities alike: the format follows the metric",
        )
    else:
        fmt = infer_format(facts.sample, facts.id_column, names, kind, get_metric(metric, kind))
    return MetricGuess(metric, why, constant, fmt)


def constant_01(block: pd.DataFrame) -> str | None:
    """The one value of a sample whose every cell is the same 0 or 1 (which tells 0/1 labels
    from probabilities no more than it tells the metric); None for any other sample."""
    cells = set(block.fillna("").to_numpy(dtype=str).ravel().tolist())
    if len(cells) != 1:
        return None
    (cell,) = cells
    number = pd.to_numeric(cell, errors="coerce")
    return cell if number in (0, 1) else None
