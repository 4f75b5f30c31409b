"""Classification reports: per-class tables, the fold's validation line and PNG plots.

Every report names the competition metric and gives it first; the secondary scores the
task computed follow (macro-F1, micro-F1 and accuracy where they apply; F1 of the
positive class, accuracy and MCC for a binary task, whose tables show its one class). Multi-label reports show the
untuned 0.5 cut beside the tuned cuts; single-label (multiclass) reports show the
argmax decision (and its per-class bias when one was fit), never cuts. Reports of a metric
scored on probabilities (ROC AUC, log loss) show each label's own value of it, never F1 or cuts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ...io.plots import pyplot, save_figure
from ..evaluation import Evaluation
from ..metrics import score_title
from ..report import as_evaluation, is_calibrated, secondary_names, short_name
from .thresholds import f1_curve

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def untuned_score_text(scores: dict[str, float], task: Any) -> str:
    """One fold's validation line: ``"accuracy 0.8000, macro-F1 0.7800"`` (multiclass) or
    ``"jaccard@0.5 0.5100, macro-F1@0.5 0.4100, micro-F1@0.5 0.5500"`` (multi-label).

    ``scores`` has the metric first (:meth:`Task.untuned_scores`); ``task`` is the Task.
    """
    metric, kind = task.metric, task.kind
    at = "" if kind == "multiclass" else "@0.5"
    first = f"{metric.title}{at if metric.needs_decision else ''} {scores[metric.name]:.4f}"
    return ", ".join(
        [first, *(f"{score_title(name)}{at} {scores[name]:.4f}" for name in secondary_names(metric.name, scores))]
    )


def _single_label_table(ev: Evaluation, width: int) -> list[str]:
    """Label, support and the argmax decision's F1; the metric, then the secondary scores below."""
    lines = [f"{'label':<{width}} {'support':>8} {'F1':>7}"]
    for name, r in sorted(ev.per_class.items(), key=lambda kv: -kv[1].f1_tuned):
        lines.append(f"{short_name(name):<{width}} {r.support:>8d} {r.f1_tuned:>7.3f}")
    raw = f" calibrated (raw probabilities {ev.score_untuned:.4f})" if is_calibrated(ev) else ""
    lines.append(f"{ev.title:<{width}} {ev.rows:>8d} {ev.score:>7.4f}{raw}")
    lines += [
        f"{score_title(name):<{width}} {'':>8} {ev.tuned[name]:>7.4f}" for name in secondary_names(ev.metric, ev.tuned)
    ]
    if ev.learned:
        fit = "the calibration" if is_calibrated(ev) else "the class bias"
        lines.append(f"{ev.title} with {fit} fit on the other folds (honest estimate): {ev.score_crossfit:.4f}")
    return lines


def _label_heading(ev: Evaluation) -> str:
    """The first column's heading: a binary task's table shows its one (positive) class."""
    return "positive class" if ev.task == "binary" else "label"


def _multi_label_table(ev: Evaluation, width: int) -> list[str]:
    """Label, support, F1 at 0.5, tuned F1 and cut; the metric, then macro/micro-F1 and the
    cross-fitted score below."""
    first = _label_heading(ev)
    lines = [f"{first:<{width}} {'support':>8} {'F1@0.5':>7} {'F1 tuned':>8} {'cut':>6}"]
    for name, r in sorted(ev.per_class.items(), key=lambda kv: -kv[1].f1_tuned):
        cut = "" if r.threshold is None else f"{r.threshold:.3f}"
        lines.append(f"{short_name(name):<{width}} {r.support:>8d} {r.f1_untuned:>7.3f} {r.f1_tuned:>8.3f} {cut:>6}")
    lines.append(f"{ev.title:<{width}} {ev.rows:>8d} {ev.score_untuned:>7.4f} {ev.score:>8.4f}")
    for name in secondary_names(ev.metric, ev.tuned):
        lines.append(f"{score_title(name):<{width}} {'':>8} {ev.untuned[name]:>7.4f} {ev.tuned[name]:>8.4f}")
    if ev.learned:
        fit = "the calibration" if is_calibrated(ev) else "decisions"
        lines.append(f"{ev.title} with {fit} fit on the other folds (honest estimate): {ev.score_crossfit:.4f}")
    return lines


def _label_metric_order(ev: Evaluation) -> list[tuple[str, Any]]:
    """Labels best first by their own value of a metric on probabilities (undefined ones last)."""
    sign = 1 if ev.greater_is_better else -1
    return sorted(ev.per_class.items(), key=lambda kv: (kv[1].metric_tuned is None, -sign * (kv[1].metric_tuned or 0)))


def _shown(value: float | None, width: int) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.4f}"


def _probability_table(ev: Evaluation, width: int) -> list[str]:
    """Label, support and the label's own ROC AUC / log loss (raw, and calibrated when a calibration
    was kept): a metric scored on probabilities submits no decisions, so no F1 and no cuts."""
    calibrated = is_calibrated(ev)
    at = "argmax" if ev.single_label else "@0.5"
    secondary = {f"{score_title(name)} {at}": ev.tuned[name] for name in secondary_names(ev.metric, ev.tuned)}
    width = max(width, *map(len, secondary))
    first = _label_heading(ev)
    columns = f"{'raw':>9} {'calibrated':>10}" if calibrated else f"{ev.title:>9}"
    lines = [f"{first:<{width}} {'support':>8} {columns}"]
    for name, r in _label_metric_order(ev):
        values = (
            f"{_shown(r.metric_untuned, 9)} {_shown(r.metric_tuned, 10)}" if calibrated else _shown(r.metric_tuned, 9)
        )
        lines.append(f"{short_name(name):<{width}} {r.support:>8d} {values}")
    total = f"{ev.score_untuned:>9.4f} {ev.score:>10.4f}" if calibrated else f"{ev.score:>9.4f}"
    lines.append(f"{ev.title:<{width}} {ev.rows:>8d} {total}")
    lines += [f"{name:<{width}} {'':>8} {value:>9.4f}" for name, value in secondary.items()]
    if ev.learned:
        lines.append(
            f"{ev.title} with the calibration fit on the other folds (honest estimate): {ev.score_crossfit:.4f}"
        )
    return lines


def per_class_table(result: Evaluation | dict[str, Any]) -> str:
    """A fixed-width per-class table: F1 at 0.5, tuned and the cut (multi-label), F1 (single-label),
    or each label's own ROC AUC / log loss (a metric scored on probabilities); then the
    competition metric and the secondary scores."""
    ev = as_evaluation(result)
    width = max(12, *(len(short_name(name)) for name in ev.per_class), len(ev.title), 14 if ev.task == "binary" else 0)
    table = (
        _probability_table if ev.on_probabilities else _single_label_table if ev.single_label else _multi_label_table
    )
    return "\n".join(table(ev, width))


def per_class_f1_figure(result: Evaluation | dict[str, Any], title: str) -> Figure:
    """Bar chart of each label's OOF F1: at 0.5 and tuned (multi-label), or one bar (single-label);
    each label's own ROC AUC / log loss for a metric scored on probabilities. The title gives the
    competition metric first.

    A plain matplotlib Figure (no pyplot state): saved by :func:`plot_per_class_f1`,
    displayed as is by the results notebook.
    """
    from matplotlib.figure import Figure

    ev = as_evaluation(result)
    if ev.on_probabilities:
        return _per_label_metric_figure(ev, title)
    rows = sorted(ev.per_class.items(), key=lambda kv: kv[1].f1_tuned)
    names = [short_name(name) for name, _ in rows]
    y = np.arange(len(names))
    fig = Figure(figsize=(8, 0.28 * len(names) + 1.5))
    ax = fig.subplots()
    if ev.single_label:
        ax.barh(y, [r.f1_tuned for _, r in rows], height=0.6, label="argmax decision", color="#2f6db5")
    else:
        ax.barh(y - 0.2, [r.f1_untuned for _, r in rows], height=0.4, label="threshold 0.5", color="#b0b7c3")
        ax.barh(y + 0.2, [r.f1_tuned for _, r in rows], height=0.4, label="tuned decisions", color="#2f6db5")
    change = f"{ev.score_untuned:.3f} -> {ev.score:.3f}" if ev.learned else f"{ev.score:.3f}"
    others = ", ".join(f"{score_title(name)} {ev.tuned[name]:.3f}" for name in secondary_names(ev.metric, ev.tuned))
    ax.set_title(f"{title}: {ev.title} {change} ({others})", fontsize=9)
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xlabel("out-of-fold F1")
    ax.set_xlim(0, 1)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return fig


def _per_label_metric_figure(ev: Evaluation, title: str) -> Figure:
    """Bar chart of each label's own ROC AUC or log loss (raw and calibrated when calibrated)."""
    from matplotlib.figure import Figure

    rows = _label_metric_order(ev)[::-1]  # barh draws bottom-up: the best label on top
    names = [short_name(name) for name, _ in rows]
    y = np.arange(len(names))
    fig = Figure(figsize=(8, 0.28 * len(names) + 1.5))
    ax = fig.subplots()

    def value(v: float | None) -> float:
        return np.nan if v is None else v

    if is_calibrated(ev):
        ax.barh(y - 0.2, [value(r.metric_untuned) for _, r in rows], height=0.4, label="raw", color="#b0b7c3")
        ax.barh(y + 0.2, [value(r.metric_tuned) for _, r in rows], height=0.4, label="calibrated", color="#2f6db5")
        ax.legend(loc="lower right", fontsize=8)
    else:
        ax.barh(y, [value(r.metric_tuned) for _, r in rows], height=0.6, color="#2f6db5")
    change = f"{ev.score_untuned:.4f} -> {ev.score:.4f}" if is_calibrated(ev) else f"{ev.score:.4f}"
    ax.set_title(f"{title}: {ev.title} {change} (support beside each label)", fontsize=9)
    ax.set_yticks(y, [f"{name} ({r.support})" for name, (_, r) in zip(names, rows)], fontsize=8)
    ax.set_xlabel(f"out-of-fold {ev.title} of each label")
    if ev.metric == "roc_auc":
        ax.set_xlim(0, 1)
    ax.grid(axis="x", alpha=0.3)
    return fig


def plot_per_class_f1(result: Evaluation | dict[str, Any], path: str | Path, title: str) -> None:
    """Save :func:`per_class_f1_figure` as a PNG."""
    save_figure(per_class_f1_figure(result, title), Path(path))


def plot_threshold_curves(
    probs: np.ndarray, labels: np.ndarray, label_names: list[str], thresholds: np.ndarray | None, path: str | Path
) -> None:
    """One small panel per label: OOF F1 against the cut, the chosen cut marked."""
    plt = pyplot()
    n = len(label_names)
    cols = min(7, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2.2 * cols, 1.8 * rows), squeeze=False, sharey=True)
    for j, ax in enumerate(axes.flat):
        if j >= n:
            ax.axis("off")
            continue
        curve = f1_curve(probs[:, j], labels[:, j])
        step = max(1, len(curve.cuts) // 400)  # a few hundred points draw the same line
        ax.plot(curve.cuts[::step], curve.f1[::step], lw=1, color="#2f6db5")
        if thresholds is not None:
            ax.axvline(thresholds[j], color="#d1495b", lw=0.8)
        ax.axvline(0.5, color="#999999", lw=0.6, ls="--")
        ax.set_title(short_name(label_names[j], 24), fontsize=8)  # a panel is ~24 characters wide
        ax.set_xlim(0, 1)
        ax.tick_params(labelsize=6)
    fig.suptitle("OOF F1 against the decision threshold (red: tuned, grey: 0.5)", fontsize=9)
    fig.tight_layout()
    save_figure(fig, Path(path))
    plt.close(fig)
