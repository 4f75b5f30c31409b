"""What a regression or ordinal run shows: per target, OOF predictions against the truth (with
an ordinal task's cut points) and the residuals by target bin; a table of per-target scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...io.plots import pyplot, save_figure
from ..evaluation import Evaluation
from ..metrics import Metric, score_title, shown_score
from ..report import headline, short_name

#: target bins of the residual panel
RESIDUAL_BINS = 8


def plot_predictions(
    evaluation: Evaluation, oof: np.ndarray, truth: np.ndarray, names: list[str], path: Path, title: str
) -> None:
    """Two panels per target: OOF prediction against truth (the identity line, and the fitted
    cuts as horizontal lines), and the mean residual (prediction - truth) per truth bin."""
    plt = pyplot()
    oof, truth = np.asarray(oof, dtype=np.float64), np.asarray(truth, dtype=np.float64)
    fig, axes = plt.subplots(len(names), 2, figsize=(10, 3.6 * len(names)), squeeze=False)
    cuts = evaluation.decision.get("cuts", {})
    for j, name in enumerate(names):
        scatter, residual = axes[j]
        scatter.scatter(truth[:, j], oof[:, j], s=6, alpha=0.35, color="#4C72B0")
        low, high = min(truth[:, j].min(), oof[:, j].min()), max(truth[:, j].max(), oof[:, j].max())
        scatter.plot([low, high], [low, high], color="#C44E52", lw=1, label="prediction = truth")
        for c in cuts.get(name, {}).get("cuts", []):
            scatter.axhline(c, color="#55A868", lw=0.8, ls="--")
        if name in cuts:
            scatter.plot([], [], color="#55A868", ls="--", label="fitted cuts")
        scatter.set_xlabel(f"true {short_name(name)}")
        scatter.set_ylabel("OOF prediction")
        scatter.legend(fontsize=7, loc="upper left")
        edges = np.unique(np.quantile(truth[:, j], np.linspace(0, 1, RESIDUAL_BINS + 1)))
        which = np.clip(np.searchsorted(edges, truth[:, j], side="right") - 1, 0, max(len(edges) - 2, 0))
        centers = [truth[which == b, j].mean() for b in np.unique(which)]
        errors = [(oof[which == b, j] - truth[which == b, j]).mean() for b in np.unique(which)]
        residual.bar(range(len(centers)), errors, color="#8172B2")
        residual.set_xticks(range(len(centers)), [f"{c:.2g}" for c in centers], fontsize=7)
        residual.axhline(0, color="black", lw=0.8)
        residual.set_xlabel(f"true {short_name(name)} (bin mean)")
        residual.set_ylabel("mean residual")
    fig.suptitle(f"{title}: {headline(evaluation)}", fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def target_table(evaluation: Evaluation, oof: np.ndarray, truth: np.ndarray, names: list[str], metric: Metric) -> str:
    """Per target: the metric of the untuned and the fitted decision, RMSE and Pearson of the raw
    predictions (and the cuts, for an ordinal task)."""
    from ..metrics import pearson, rmse

    decider = evaluation.decider
    untuned_words, tuned_words = evaluation.decision.get("words", ["untuned", "tuned"])
    oof, truth = np.asarray(oof, dtype=np.float64), np.asarray(truth, dtype=np.float64)
    tuned = np.asarray(decider.predict(oof), dtype=np.float64)
    lines = [
        f"{'target':<24} {score_title(metric.name) + ' ' + untuned_words:>18} "
        f"{score_title(metric.name) + ' ' + tuned_words:>18} {'RMSE raw':>10} {'Pearson raw':>12}"
    ]
    cuts = evaluation.decision.get("cuts", {})
    for j, name in enumerate(names):
        column = slice(j, j + 1)
        untuned = np.clip(np.round(oof[:, column]), truth[:, j].min(), truth[:, j].max()) if cuts else oof[:, column]
        lines.append(
            f"{short_name(name, 24):<24} {shown_score(metric.name, metric.score(truth[:, column], untuned)):>18} "
            f"{shown_score(metric.name, metric.score(truth[:, column], tuned[:, column])):>18} "
            f"{rmse(truth[:, column], oof[:, column]):>10.4f} {pearson(truth[:, column], oof[:, column]):>12.4f}"
        )
        if name in cuts:
            lines.append("  cuts: " + ", ".join(f"{c:.3f}" for c in cuts[name]["cuts"]))
    return "\n".join(lines)


def plot_per_fold(evaluation: Evaluation, path: Path, title: str) -> None:
    """The metric per fold, untuned and tuned, as paired bars."""
    plt = pyplot()
    untuned_words, tuned_words = evaluation.decision.get("words", ["untuned", "tuned"])
    folds = [f"fold {s.fold}" for s in evaluation.per_fold]
    x = np.arange(len(folds))
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.bar(x - 0.2, [s.untuned for s in evaluation.per_fold], 0.4, label=untuned_words, color="#8C8C8C")
    ax.bar(x + 0.2, [s.tuned for s in evaluation.per_fold], 0.4, label=tuned_words, color="#4C72B0")
    ax.set_xticks(x, folds)
    ax.set_ylabel(score_title(evaluation.metric))
    ax.set_title(f"{title}: {score_title(evaluation.metric)} per fold", fontsize=9)
    ax.legend(fontsize=7)
    save_figure(fig, path)
    plt.close(fig)
