"""What every task's report shares: the one-line OOF result, label names cut to a width,
and the training curve of a neural fold. Each task kind's tables and figures live in its
package (:mod:`foldwise.tasks.classification.report`; text answers in
:mod:`foldwise.tasks.text_answers`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..io.plots import pyplot, save_figure
from .evaluation import Evaluation
from .metrics import score_title, shown_score

#: the most characters of a label name that tables and plots show
NAME_WIDTH = 40


def short_name(name: str, width: int = NAME_WIDTH) -> str:
    """``name`` cut to ``width`` characters, ending in ``...`` when cut (a very long label name
    would otherwise pad every row of a table, or stretch a plot, to its length)."""
    return name if len(name) <= width else name[: width - 3] + "..."


def as_evaluation(result: Evaluation | dict[str, Any]) -> Evaluation:
    """An Evaluation, also from the plain data of ``metrics.json``."""
    return result if isinstance(result, Evaluation) else Evaluation.from_json(result)


def secondary_names(metric: str, scores: dict[str, float]) -> list[str]:
    """The secondary scores the task computed (``scores``: an evaluation's ``tuned``, or one
    fold's untuned scores), in its order, beside ``metric`` (never the metric twice)."""
    return [name for name in scores if name != metric]


def headline(result: Evaluation | dict[str, Any]) -> str:
    """The one-line OOF result of a run or a blend, the competition metric first."""
    ev = as_evaluation(result)
    secondary = ", ".join(
        f"{score_title(name)} {shown_score(name, ev.tuned[name])}" for name in secondary_names(ev.metric, ev.tuned)
    )
    baselines = ", ".join(f"{name} {shown_score(ev.metric, value)}" for name, value in ev.baselines.items())
    tail = "; ".join(part for part in (secondary, f"baselines: {baselines}" if baselines else "") if part)
    if not ev.learned:
        not_kept = ev.decision.get("calibration_not_kept")
        why = (
            "; calibration not kept (cross-fitted {crossfit:.4f}, raw {raw:.4f})".format(**not_kept) if not_kept else ""
        )
        return f"OOF {ev.title} {shown_score(ev.metric, ev.score)}" + (f", {tail}" if tail else "") + why
    untuned, tuned = decision_words(ev)
    return (
        f"OOF {ev.title} {ev.score_untuned:.4f} {untuned}, {ev.score:.4f} {tuned} "
        f"({ev.score_crossfit:.4f} cross-fitted)" + (f"; {tail}" if tail else "")
    )


def decision_words(result: Evaluation | dict[str, Any]) -> tuple[str, str]:
    """How reports name the untuned and the fitted decision: ("at 0.5", "tuned") for cuts,
    ("argmax", "tuned") for single-label data, ("raw", "calibrated") for a calibration."""
    ev = as_evaluation(result)
    if "words" in ev.decision:  # the task named them (numbers: "rounded", "cut")
        untuned, tuned = ev.decision["words"]
        return untuned, tuned
    if is_calibrated(ev):
        return "raw", "calibrated"
    return ("argmax" if ev.single_label else "at 0.5"), "tuned"


def is_calibrated(ev: Evaluation) -> bool:
    """Whether the fitted decision is a calibration of probabilities (log loss), not decisions."""
    return ev.decision.get("kind") == "calibrated"


def plot_training_curve(history: list[dict], path: str | Path, title: str) -> None:
    """Train/validation loss and every validation score the head reports (macro-F1 and accuracy
    or micro-F1 at 0.5 / argmax for classification; the competition metric) per evaluation."""
    plt = pyplot()
    steps = [r["step"] for r in history]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(steps, [r["train_loss"] for r in history], marker="o", label="train loss", color="#2f6db5")
    if "valid_loss" in history[0]:
        ax.plot(steps, [r["valid_loss"] for r in history], marker="o", label="valid loss", color="#d1495b")
        score_ax = ax.twinx()
        names = [k.removeprefix("valid_") for k in history[0] if k.startswith("valid_") and k != "valid_loss"]
        for name, marker, color in zip(names, "s^vDx", ("#3a9d5d", "#8c564b", "#9467bd", "#e377c2", "#7f7f7f")):
            score_ax.plot(
                steps,
                [r[f"valid_{name}"] for r in history],
                marker=marker,
                ls="--",
                label=f"valid {score_title(name)}",
                color=color,
            )
        score_ax.set_ylabel(", ".join(score_title(n) for n in names))
        score_ax.legend(loc="upper right", fontsize=8)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss")
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    save_figure(fig, Path(path))
    plt.close(fig)
