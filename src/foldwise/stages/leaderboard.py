"""``foldwise lb``: leaderboard scores into the experiment log, and the CV-vs-LB plot redrawn."""

from __future__ import annotations

from pathlib import Path

from ..errors import FoldwiseError
from ..experiment import load_dataset_config
from ..io.kaggle import submissions_listing
from . import experiment_log as log


def record_by_hand(name: str, score: float) -> list[str]:
    """Record ``score`` as the leaderboard score of ``submissions/<name>.csv``; the lines to print."""
    entry = log.record_lb(name, score)
    return [log.describe(entry, name), *_plot_line()]


def pull_from_kaggle(competition: str | None = None) -> list[str]:
    """Record the public scores the kaggle CLI lists for the submissions on disk (matched by file
    name ``<name>.csv``), for ``competition`` or each competition the submissions' data configs name."""
    entries = [e for e in log.collect() if e.kind == "submission"]
    slugs = [competition] if competition else sorted({s for s in map(_slug, entries) if s})
    if not slugs:
        raise FoldwiseError(
            "no competition to ask: pass --competition <slug>, or set kaggle_competition in the "
            "submissions' data configs"
        )
    lines = []
    for slug in slugs:
        scores = log.kaggle_submission_scores(submissions_listing(slug))
        known = {e.name: e for e in entries}
        for name, score in sorted(scores.items()):
            if name in known and known[name].lb != score:
                lines.append(log.describe(log.record_lb(name, score, source=f"kaggle CLI, {slug}"), name))
        if not any(name in known for name in scores):
            lines.append(f"{slug}: none of the {len(scores)} scored submissions is one of submissions/*.csv")
    return (lines or ["no new leaderboard scores"]) + _plot_line()


def _slug(entry: log.LogEntry) -> str | None:
    if not entry.dataset:
        return None
    try:
        return load_dataset_config(entry.dataset).kaggle_competition
    except FoldwiseError:
        return None


def _plot_line() -> list[str]:
    path: Path | None = log.plot_cv_vs_lb(log.collect())
    return [f"{path}: CV against LB"] if path else []
