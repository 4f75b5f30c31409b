"""Human-facing output: per-class tables, score lines and PNG plots.

Every report names the competition metric and gives it first; the secondary scores the
task computed follow (macro-F1, micro-F1 and accuracy where they apply; F1 of the
positive class, accuracy and MCC for a binary task, whose tables show its one class). Multi-label reports show the
untuned 0.5 cut beside the tuned cuts; single-label (multiclass) reports show the
argmax decision (and its per-class bias when one was fit), never cuts. Reports of a metric
scored on probabilities (ROC AUC, log loss) show each label's own value of it, never F1 or cuts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from . import artifacts
from ..tasks.evaluation import Evaluation
from ..tasks.metrics import score_title, shown_score
from ..tasks.classification.thresholds import f1_curve

#: the most characters of a label name that tables and plots show
NAME_WIDTH = 40


def short_name(name: str, width: int = NAME_WIDTH) -> str:
    """``name`` cut to ``width`` characters, ending in ``...`` when cut (a very long label name
    would otherwise pad every row of a table, or stretch a plot, to its length)."""
    return name if len(name) <= width else name[: width - 3] + "..."


def _evaluation(result: Evaluation | dict[str, Any]) -> Evaluation:
    """An Evaluation, also from the plain data of ``metrics.json``."""
    return result if isinstance(result, Evaluation) else Evaluation.from_json(result)


def _secondary(metric: str, scores: dict[str, float]) -> list[str]:
    """The secondary scores the task computed (``scores``: an evaluation's ``tuned``, or one
    fold's untuned scores), in its order, beside ``metric`` (never the metric twice)."""
    return [name for name in scores if name != metric]


def untuned_score_text(scores: dict[str, float], task: Any) -> str:
    """One fold's validation line: ``"accuracy 0.8000, macro-F1 0.7800"`` (multiclass) or
    ``"jaccard@0.5 0.5100, macro-F1@0.5 0.4100, micro-F1@0.5 0.5500"`` (multi-label).

    ``scores`` has the metric first (:meth:`Task.untuned_scores`); ``task`` is the Task.
    """
    metric, kind = task.metric, task.kind
    at = "" if kind == "multiclass" else "@0.5"
    first = f"{metric.title}{at if metric.needs_decision else ''} {scores[metric.name]:.4f}"
    return ", ".join([first, *(f"{score_title(name)}{at} {scores[name]:.4f}"
                               for name in _secondary(metric.name, scores))])


def headline(result: Evaluation | dict[str, Any]) -> str:
    """The one-line OOF result of a run or a blend, the competition metric first."""
    ev = _evaluation(result)
    secondary = ", ".join(f"{score_title(name)} {shown_score(name, ev.tuned[name])}"
                          for name in _secondary(ev.metric, ev.tuned))
    baselines = ", ".join(f"{name} {shown_score(ev.metric, value)}" for name, value in ev.baselines.items())
    tail = "; ".join(part for part in (secondary, f"baselines: {baselines}" if baselines else "") if part)
    if not ev.learned:
        not_kept = ev.decision.get("calibration_not_kept")
        why = ("; calibration not kept (cross-fitted {crossfit:.4f}, raw {raw:.4f})".format(**not_kept)
               if not_kept else "")
        return f"OOF {ev.title} {shown_score(ev.metric, ev.score)}" + (f", {tail}" if tail else "") + why
    untuned, tuned = decision_words(ev)
    return (f"OOF {ev.title} {ev.score_untuned:.4f} {untuned}, {ev.score:.4f} {tuned} "
            f"({ev.score_crossfit:.4f} cross-fitted)" + (f"; {tail}" if tail else ""))


def decision_words(result: Evaluation | dict[str, Any]) -> tuple[str, str]:
    """How reports name the untuned and the fitted decision: ("at 0.5", "tuned") for cuts,
    ("argmax", "tuned") for single-label data, ("raw", "calibrated") for a calibration."""
    ev = _evaluation(result)
    if _calibrated(ev):
        return "raw", "calibrated"
    return ("argmax" if ev.single_label else "at 0.5"), "tuned"


def _calibrated(ev: Evaluation) -> bool:
    """Whether the fitted decision is a calibration of probabilities (log loss), not decisions."""
    return ev.decision.get("kind") == "calibrated"


def _single_label_table(ev: Evaluation, width: int) -> list[str]:
    """Label, support and the argmax decision's F1; the metric, then the secondary scores below."""
    lines = [f"{'label':<{width}} {'support':>8} {'F1':>7}"]
    for name, r in sorted(ev.per_class.items(), key=lambda kv: -kv[1].f1_tuned):
        lines.append(f"{short_name(name):<{width}} {r.support:>8d} {r.f1_tuned:>7.3f}")
    raw = f" calibrated (raw probabilities {ev.score_untuned:.4f})" if _calibrated(ev) else ""
    lines.append(f"{ev.title:<{width}} {ev.rows:>8d} {ev.score:>7.4f}{raw}")
    lines += [f"{score_title(name):<{width}} {'':>8} {ev.tuned[name]:>7.4f}"
              for name in _secondary(ev.metric, ev.tuned)]
    if ev.learned:
        fit = "the calibration" if _calibrated(ev) else "the class bias"
        lines.append(f"{ev.title} with {fit} fit on the other folds (honest estimate): "
                     f"{ev.score_crossfit:.4f}")
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
    for name in _secondary(ev.metric, ev.tuned):
        lines.append(f"{score_title(name):<{width}} {'':>8} {ev.untuned[name]:>7.4f} {ev.tuned[name]:>8.4f}")
    if ev.learned:
        fit = "the calibration" if _calibrated(ev) else "decisions"
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
    calibrated = _calibrated(ev)
    at = "argmax" if ev.single_label else "@0.5"
    secondary = {f"{score_title(name)} {at}": ev.tuned[name] for name in _secondary(ev.metric, ev.tuned)}
    width = max(width, *map(len, secondary))
    first = _label_heading(ev)
    columns = f"{'raw':>9} {'calibrated':>10}" if calibrated else f"{ev.title:>9}"
    lines = [f"{first:<{width}} {'support':>8} {columns}"]
    for name, r in _label_metric_order(ev):
        values = (f"{_shown(r.metric_untuned, 9)} {_shown(r.metric_tuned, 10)}" if calibrated
                  else _shown(r.metric_tuned, 9))
        lines.append(f"{short_name(name):<{width}} {r.support:>8d} {values}")
    total = f"{ev.score_untuned:>9.4f} {ev.score:>10.4f}" if calibrated else f"{ev.score:>9.4f}"
    lines.append(f"{ev.title:<{width}} {ev.rows:>8d} {total}")
    lines += [f"{name:<{width}} {'':>8} {value:>9.4f}" for name, value in secondary.items()]
    if ev.learned:
        lines.append(f"{ev.title} with the calibration fit on the other folds (honest estimate): "
                     f"{ev.score_crossfit:.4f}")
    return lines


def per_class_table(result: Evaluation | dict[str, Any]) -> str:
    """A fixed-width per-class table: F1 at 0.5, tuned and the cut (multi-label), F1 (single-label),
    or each label's own ROC AUC / log loss (a metric scored on probabilities); then the
    competition metric and the secondary scores."""
    ev = _evaluation(result)
    width = max(12, *(len(short_name(name)) for name in ev.per_class), len(ev.title),
                14 if ev.task == "binary" else 0)
    table = (_probability_table if ev.on_probabilities else _single_label_table if ev.single_label
             else _multi_label_table)
    return "\n".join(table(ev, width))


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    artifacts.write_with(path, lambda tmp: fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png"))


def per_class_f1_figure(result: Evaluation | dict[str, Any], title: str):
    """Bar chart of each label's OOF F1: at 0.5 and tuned (multi-label), or one bar (single-label);
    each label's own ROC AUC / log loss for a metric scored on probabilities. The title gives the
    competition metric first.

    A plain matplotlib Figure (no pyplot state): saved by :func:`plot_per_class_f1`,
    displayed as is by the results notebook.
    """
    from matplotlib.figure import Figure

    ev = _evaluation(result)
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
    others = ", ".join(f"{score_title(name)} {ev.tuned[name]:.3f}" for name in _secondary(ev.metric, ev.tuned))
    ax.set_title(f"{title}: {ev.title} {change} ({others})", fontsize=9)
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xlabel("out-of-fold F1")
    ax.set_xlim(0, 1)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return fig


def _per_label_metric_figure(ev: Evaluation, title: str):
    """Bar chart of each label's own ROC AUC or log loss (raw and calibrated when calibrated)."""
    from matplotlib.figure import Figure

    rows = _label_metric_order(ev)[::-1]  # barh draws bottom-up: the best label on top
    names = [short_name(name) for name, _ in rows]
    y = np.arange(len(names))
    fig = Figure(figsize=(8, 0.28 * len(names) + 1.5))
    ax = fig.subplots()

    def value(v):
        return np.nan if v is None else v

    if _calibrated(ev):
        ax.barh(y - 0.2, [value(r.metric_untuned) for _, r in rows], height=0.4, label="raw", color="#b0b7c3")
        ax.barh(y + 0.2, [value(r.metric_tuned) for _, r in rows], height=0.4, label="calibrated", color="#2f6db5")
        ax.legend(loc="lower right", fontsize=8)
    else:
        ax.barh(y, [value(r.metric_tuned) for _, r in rows], height=0.6, color="#2f6db5")
    change = f"{ev.score_untuned:.4f} -> {ev.score:.4f}" if _calibrated(ev) else f"{ev.score:.4f}"
    ax.set_title(f"{title}: {ev.title} {change} (support beside each label)", fontsize=9)
    ax.set_yticks(y, [f"{name} ({r.support})" for name, (_, r) in zip(names, rows)], fontsize=8)
    ax.set_xlabel(f"out-of-fold {ev.title} of each label")
    if ev.metric == "roc_auc":
        ax.set_xlim(0, 1)
    ax.grid(axis="x", alpha=0.3)
    return fig


def plot_per_class_f1(result: Evaluation | dict[str, Any], path: str | Path, title: str) -> None:
    """Save :func:`per_class_f1_figure` as a PNG."""
    _save(per_class_f1_figure(result, title), Path(path))


def plot_threshold_curves(probs: np.ndarray, labels: np.ndarray, label_names: list[str],
                          thresholds: np.ndarray | None, path: str | Path) -> None:
    """One small panel per label: OOF F1 against the cut, the chosen cut marked."""
    plt = _pyplot()
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
    _save(fig, Path(path))
    plt.close(fig)


def plot_training_curve(history: list[dict], path: str | Path, title: str) -> None:
    """Train/validation loss and every validation score the head reports (macro-F1 and accuracy
    or micro-F1 at 0.5 / argmax for classification; the competition metric) per evaluation."""
    plt = _pyplot()
    steps = [r["step"] for r in history]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(steps, [r["train_loss"] for r in history], marker="o", label="train loss", color="#2f6db5")
    if "valid_loss" in history[0]:
        ax.plot(steps, [r["valid_loss"] for r in history], marker="o", label="valid loss", color="#d1495b")
        score_ax = ax.twinx()
        names = [k.removeprefix("valid_") for k in history[0] if k.startswith("valid_") and k != "valid_loss"]
        for name, marker, color in zip(names, "s^vDx", ("#3a9d5d", "#8c564b", "#9467bd", "#e377c2", "#7f7f7f")):
            score_ax.plot(steps, [r[f"valid_{name}"] for r in history], marker=marker, ls="--",
                          label=f"valid {score_title(name)}", color=color)
        score_ax.set_ylabel(", ".join(score_title(n) for n in names))
        score_ax.legend(loc="upper right", fontsize=8)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss")
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    _save(fig, Path(path))
    plt.close(fig)
