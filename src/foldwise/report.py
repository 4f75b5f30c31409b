"""Human-facing output: the per-class F1 table in the terminal and PNG plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import artifacts
from .thresholds import f1_curve


def per_class_table(summary: dict) -> str:
    """A fixed-width table: label, support, F1 at 0.5, tuned F1, threshold."""
    rows = summary["per_class"]
    width = max(12, *(len(name) for name in rows))
    lines = [f"{'label':<{width}} {'support':>8} {'F1@0.5':>7} {'F1 tuned':>8} {'cut':>6}"]
    for name, r in sorted(rows.items(), key=lambda kv: -kv[1]["f1_tuned"]):
        cut = "" if r["threshold"] is None else f"{r['threshold']:.3f}"
        lines.append(f"{name:<{width}} {r['support']:>8d} {r['f1_at_0.5']:>7.3f} {r['f1_tuned']:>8.3f} {cut:>6}")
    half, tuned = summary["at_0.5"], summary["tuned"]
    lines.append(f"{'macro-F1':<{width}} {summary['rows']:>8d} {half['macro_f1']:>7.4f} {tuned['macro_f1']:>8.4f}")
    lines.append(f"{'micro-F1':<{width}} {'':>8} {half['micro_f1']:>7.4f} {tuned['micro_f1']:>8.4f}")
    lines.append(f"macro-F1 with thresholds fit on the other folds (honest estimate): "
                 f"{summary['tuned_crossfit_macro_f1']:.4f}")
    return "\n".join(lines)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    artifacts.write_with(path, lambda tmp: fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png"))


def plot_per_class_f1(summary: dict, path: str | Path, title: str) -> None:
    """Bar chart of each label's OOF F1 at 0.5 and after tuned thresholds."""
    plt = _pyplot()
    rows = sorted(summary["per_class"].items(), key=lambda kv: kv[1]["f1_tuned"])
    names = [name for name, _ in rows]
    y = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(8, 0.28 * len(names) + 1.5))
    ax.barh(y - 0.2, [r["f1_at_0.5"] for _, r in rows], height=0.4, label="threshold 0.5", color="#b0b7c3")
    ax.barh(y + 0.2, [r["f1_tuned"] for _, r in rows], height=0.4, label="tuned thresholds", color="#2f6db5")
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xlabel("out-of-fold F1")
    ax.set_xlim(0, 1)
    ax.set_title(f"{title}: macro-F1 {summary['at_0.5']['macro_f1']:.3f} -> {summary['tuned']['macro_f1']:.3f}")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    _save(fig, Path(path))
    plt.close(fig)


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
    """Train/validation loss and validation macro-F1 (at 0.5) per evaluation."""
    plt = _pyplot()
    steps = [r["step"] for r in history]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(steps, [r["train_loss"] for r in history], marker="o", label="train loss", color="#2f6db5")
    if "valid_loss" in history[0]:
        ax.plot(steps, [r["valid_loss"] for r in history], marker="o", label="valid loss", color="#d1495b")
        f1_ax = ax.twinx()
        f1_ax.plot(steps, [r["valid_macro_f1"] for r in history], marker="s", ls="--",
                   label="valid macro-F1 @0.5", color="#3a9d5d")
        f1_ax.set_ylabel("macro-F1")
        f1_ax.legend(loc="upper right", fontsize=8)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss")
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    _save(fig, Path(path))
    plt.close(fig)
