"""Human-facing output: per-class tables, score lines and PNG plots.

Multi-label reports show F1 at 0.5, after tuned thresholds, and the cuts; single-label
(multiclass) reports show accuracy and the macro-F1 of the argmax decision, since
there is no cut to tune.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import artifacts
from .evaluation import is_single_label
from .thresholds import f1_curve


def untuned_score_text(scores: dict, task: str) -> str:
    """``"accuracy 0.8000, macro-F1 0.7800"`` (multiclass) or ``"macro-F1@0.5 0.4100"``."""
    if task == "multiclass":
        return f"accuracy {scores['accuracy']:.4f}, macro-F1 {scores['macro_f1']:.4f}"
    return f"macro-F1@0.5 {scores['macro_f1']:.4f}"


def headline(summary: dict) -> str:
    """The one-line OOF result of a run, as ``foldwise train`` prints it."""
    if is_single_label(summary):
        return f"OOF accuracy {summary['tuned']['accuracy']:.4f}, macro-F1 {summary['tuned']['macro_f1']:.4f}"
    return (f"OOF macro-F1 {summary['at_0.5']['macro_f1']:.4f} at 0.5, "
            f"{summary['tuned']['macro_f1']:.4f} tuned ({summary['tuned_crossfit_macro_f1']:.4f} cross-fitted)")


def _single_label_table(summary: dict, width: int) -> list[str]:
    """Label, support and the argmax decision's F1; macro-F1 and accuracy below."""
    lines = [f"{'label':<{width}} {'support':>8} {'F1':>7}"]
    for name, r in sorted(summary["per_class"].items(), key=lambda kv: -kv[1]["f1_tuned"]):
        lines.append(f"{name:<{width}} {r['support']:>8d} {r['f1_tuned']:>7.3f}")
    lines.append(f"{'macro-F1':<{width}} {summary['rows']:>8d} {summary['tuned']['macro_f1']:>7.4f}")
    lines.append(f"{'accuracy':<{width}} {'':>8} {summary['tuned']['accuracy']:>7.4f}")
    return lines


def _multi_label_table(summary: dict, width: int) -> list[str]:
    """Label, support, F1 at 0.5, tuned F1 and cut; macro/micro-F1 and the cross-fitted score below."""
    rows = summary["per_class"]
    lines = [f"{'label':<{width}} {'support':>8} {'F1@0.5':>7} {'F1 tuned':>8} {'cut':>6}"]
    for name, r in sorted(rows.items(), key=lambda kv: -kv[1]["f1_tuned"]):
        cut = "" if r["threshold"] is None else f"{r['threshold']:.3f}"
        lines.append(f"{name:<{width}} {r['support']:>8d} {r['f1_at_0.5']:>7.3f} {r['f1_tuned']:>8.3f} {cut:>6}")
    half, tuned = summary["at_0.5"], summary["tuned"]
    lines.append(f"{'macro-F1':<{width}} {summary['rows']:>8d} {half['macro_f1']:>7.4f} {tuned['macro_f1']:>8.4f}")
    lines.append(f"{'micro-F1':<{width}} {'':>8} {half['micro_f1']:>7.4f} {tuned['micro_f1']:>8.4f}")
    lines.append(f"macro-F1 with thresholds fit on the other folds (honest estimate): "
                 f"{summary['tuned_crossfit_macro_f1']:.4f}")
    return lines


def per_class_table(summary: dict) -> str:
    """A fixed-width per-class table: F1 at 0.5, tuned and the cut (multi-label) or F1 (single-label)."""
    width = max(12, *(len(name) for name in summary["per_class"]))
    table = _single_label_table if is_single_label(summary) else _multi_label_table
    return "\n".join(table(summary, width))


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    artifacts.write_with(path, lambda tmp: fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png"))


def per_class_f1_figure(summary: dict, title: str):
    """Bar chart of each label's OOF F1: at 0.5 and tuned (multi-label), or one bar (single-label).

    A plain matplotlib Figure (no pyplot state): saved by :func:`plot_per_class_f1`,
    displayed as is by the results notebook.
    """
    from matplotlib.figure import Figure

    rows = sorted(summary["per_class"].items(), key=lambda kv: kv[1]["f1_tuned"])
    names = [name for name, _ in rows]
    y = np.arange(len(names))
    fig = Figure(figsize=(8, 0.28 * len(names) + 1.5))
    ax = fig.subplots()
    if is_single_label(summary):
        ax.barh(y, [r["f1_tuned"] for _, r in rows], height=0.6, label="argmax decision", color="#2f6db5")
        ax.set_title(f"{title}: accuracy {summary['tuned']['accuracy']:.3f}, "
                     f"macro-F1 {summary['tuned']['macro_f1']:.3f}")
    else:
        ax.barh(y - 0.2, [r["f1_at_0.5"] for _, r in rows], height=0.4, label="threshold 0.5", color="#b0b7c3")
        ax.barh(y + 0.2, [r["f1_tuned"] for _, r in rows], height=0.4, label="tuned thresholds", color="#2f6db5")
        ax.set_title(f"{title}: macro-F1 {summary['at_0.5']['macro_f1']:.3f} -> {summary['tuned']['macro_f1']:.3f}")
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xlabel("out-of-fold F1")
    ax.set_xlim(0, 1)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return fig


def plot_per_class_f1(summary: dict, path: str | Path, title: str) -> None:
    """Save :func:`per_class_f1_figure` as a PNG."""
    _save(per_class_f1_figure(summary, title), Path(path))


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
        ax.set_title(label_names[j], fontsize=8)
        ax.set_xlim(0, 1)
        ax.tick_params(labelsize=6)
    fig.suptitle("OOF F1 against the decision threshold (red: tuned, grey: 0.5)", fontsize=9)
    fig.tight_layout()
    _save(fig, Path(path))
    plt.close(fig)


def plot_training_curve(history: list[dict], path: str | Path, title: str) -> None:
    """Train/validation loss and validation macro-F1 (at 0.5, or argmax for multiclass) per evaluation."""
    plt = _pyplot()
    steps = [r["step"] for r in history]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(steps, [r["train_loss"] for r in history], marker="o", label="train loss", color="#2f6db5")
    if "valid_loss" in history[0]:
        ax.plot(steps, [r["valid_loss"] for r in history], marker="o", label="valid loss", color="#d1495b")
        f1_ax = ax.twinx()
        single_label = "valid_accuracy" in history[0]
        f1_ax.plot(steps, [r["valid_macro_f1"] for r in history], marker="s", ls="--",
                   label="valid macro-F1" if single_label else "valid macro-F1 @0.5", color="#3a9d5d")
        if single_label:
            f1_ax.plot(steps, [r["valid_accuracy"] for r in history], marker="^", ls=":",
                       label="valid accuracy", color="#8c564b")
        f1_ax.set_ylabel("accuracy, macro-F1" if single_label else "macro-F1")
        f1_ax.legend(loc="upper right", fontsize=8)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss")
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    _save(fig, Path(path))
    plt.close(fig)
