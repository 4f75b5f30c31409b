"""The experiment log: every run and submission on disk with its CV scores, and the leaderboard scores recorded.

``foldwise runs`` prints it, ``foldwise lb`` adds leaderboard scores (by hand or from the
kaggle CLI's submission list) and draws CV against LB, and the results notebook reads the
same :func:`log_frame`. Nothing here trusts a folder to be complete: a run cut off before
its ``run.json`` or ``metrics.json`` is listed with the folds it has, not skipped or fatal.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

import pandas as pd

from ..errors import FoldwiseError
from ..io import artifacts, paths

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..tasks.metrics import Metric

SORT_KEYS = ("date", "score", "wall", "name")


@dataclass
class LogEntry:
    """One run or submission: its CV scores (tuned, cross-fitted, untuned), metric, config hash,
    wall time, date, status, and the latest leaderboard score recorded for a submission."""

    kind: str  # "run" or "submission"
    name: str
    dataset: str | None = None
    metric: str | None = None
    score: float | None = None
    crossfit: float | None = None
    untuned: float | None = None
    greater_is_better: bool = True
    config: str | None = None  # the run's config hash; a submission's members
    wall_s: float | None = None
    date: str | None = None
    status: str = "complete"
    lb: float | None = None


def _read(path: Path) -> dict | None:
    """A JSON record, or None when it is missing or half-written."""
    try:
        value = artifacts.read_json(path)
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def run_seconds(run_dir: Path, n_splits: int | None = None) -> float | None:
    """Fit + predict seconds summed over the fold records present (None when there are none;
    a time that is not a number counts as none)."""
    records = [_read(path) for path in sorted(run_dir.glob("fold_*.json"))]
    if n_splits is not None:
        records = [_read(run_dir / f"fold_{k}.json") for k in range(n_splits)]
    seconds = [sum(v for v in (r.get("fit_seconds"), r.get("predict_seconds")) if _is_number(v)) for r in records if r]
    return round(sum(seconds), 1) if seconds else None


#: the log entry's fields read from a run's records and a submission record, and the keys they come from
_NUMBERS = ("score", "crossfit", "untuned")
_RUN_KEYS = {
    "score": "metrics.json score",
    "crossfit": "metrics.json score_crossfit",
    "untuned": "metrics.json score_untuned",
    "dataset": "run.json dataset",
    "metric": "run.json metric",
    "date": "run.json created_at",
}
_SUBMISSION_KEYS = {
    "score": "cv_score",
    "crossfit": "cv_score_crossfit",
    "untuned": "cv_score_untuned",
    "dataset": "dataset",
    "metric": "metric",
    "date": "created_at",
}


def _blank_bad_fields(entry: LogEntry, where: Path, keys: dict[str, str]) -> LogEntry:
    """Blank the fields that a hand-edited or foreign record filled with the wrong kind of value
    (a score ``"abc"``, a numeric ``created_at``) and say so in the entry's status: one bad
    record never stops the listing, its sorting or the plot."""

    def fits(field: str, value: Any) -> bool:
        return value is None or (_is_number(value) if field in _NUMBERS else isinstance(value, str))

    bad = [field for field in keys if not fits(field, getattr(entry, field))]
    if bad:
        said = ", ".join(f"{keys[field]} {getattr(entry, field)!r}" for field in bad)
        problem = f"{where}: {said} left blank (wrong type)"
        entry.status = problem if entry.status == "complete" else f"{entry.status}; {problem}"
        for field in bad:
            setattr(entry, field, None)
    return entry


def run_entry(run_dir: Path) -> LogEntry:
    """The log entry of ``runs/<name>/``, whatever state it is in."""
    info = _read(run_dir / "run.json")
    metrics = _read(run_dir / "metrics.json")
    folds = len(list(run_dir.glob("fold_*.json")))
    entry = LogEntry("run", run_dir.name, wall_s=run_seconds(run_dir))
    if info is None:
        entry.status = f"unfinished: {folds} fold(s) done, no run.json"
        return entry
    entry.dataset, entry.metric = info.get("dataset"), info.get("metric")
    entry.config = str(info.get("fingerprint") or "").split("-")[0] or None
    entry.date = info.get("created_at")
    if metrics is None:
        entry.status = f"unfinished: {folds}/{info.get('n_splits', '?')} folds, no metrics.json"
        return _blank_bad_fields(entry, run_dir, _RUN_KEYS)
    entry.score, entry.crossfit = metrics.get("score"), metrics.get("score_crossfit")
    entry.untuned = metrics.get("score_untuned")
    entry.greater_is_better = bool(metrics.get("greater_is_better", True))
    return _blank_bad_fields(entry, run_dir, _RUN_KEYS)


def submission_entry(record_path: Path, leaderboard: dict[str, list[dict]]) -> LogEntry | None:
    """The log entry of ``submissions/<name>.json`` (None for a JSON that is not a submission record)."""
    record = _read(record_path)
    if record is None or "csv_sha256" not in record:
        return None
    name = record.get("name")
    if not isinstance(name, str):
        name = record_path.stem
    scores = leaderboard.get(name) or []
    metric = _metric(record.get("metric"))
    members = record.get("members")
    if not isinstance(members, list):
        members = []
    entry = LogEntry(
        "submission",
        name,
        dataset=record.get("dataset"),
        metric=record.get("metric"),
        score=record.get("cv_score"),
        crossfit=record.get("cv_score_crossfit"),
        untuned=record.get("cv_score_untuned"),
        greater_is_better=metric.greater_is_better if metric else True,
        config="+".join(map(_member_name, members)) or None,
        date=record.get("created_at"),
        lb=scores[-1]["score"] if scores else None,
    )
    return _blank_bad_fields(entry, record_path, _SUBMISSION_KEYS)


def _member_name(member: Any) -> str:
    """A blend member as a submission record lists it: a run name, or ``{"name": ...}``."""
    return str(member.get("name", member)) if isinstance(member, dict) else str(member)


def _metric(name: Any) -> Metric | None:
    """The registered metric named ``name`` (None for an unknown name or a record without one)."""
    from ..tasks.metrics import METRICS

    return METRICS.get(name) if isinstance(name, str) else None


def read_leaderboard(path: Path = paths.LEADERBOARD) -> dict[str, list[dict]]:
    """The leaderboard scores recorded so far (empty when none are).

    A file that is there but unreadable (a hand edit left a trailing comma) is a
    FoldwiseError saying where and how to mend it, never an empty log that the next
    ``lb`` would write over.
    """
    if not path.exists():
        return {}
    mend = (
        "it is left as it is, and no score is read or added until you mend it by hand (or move it aside "
        "to start a new log)"
    )
    try:
        board = artifacts.read_json(path)
    except ValueError as exc:
        where = (
            f"line {exc.lineno} column {exc.colno}: {exc.msg}" if isinstance(exc, json.JSONDecodeError) else str(exc)
        )
        raise FoldwiseError(f"{path}: not valid JSON ({where}); {mend}") from None
    except OSError as exc:
        raise FoldwiseError(f"{path}: cannot be read ({exc.strerror}); {mend}") from None
    if not isinstance(board, dict):
        raise FoldwiseError(f"{path}: expected {{submission: [scores]}}, got {type(board).__name__}; {mend}")
    for name, scores in board.items():
        if not isinstance(scores, list):
            raise FoldwiseError(f"{path}: {name!r} is not a list of recorded scores; {mend}")
        for i, entry in enumerate(scores):
            score = entry.get("score") if isinstance(entry, dict) else None
            if not (_is_number(score) and math.isfinite(score)):  # NaN: recorded by an older `lb`
                raise FoldwiseError(f"{path}: {name!r} entry {i + 1} has no finite score ({score!r}); {mend}")
    return board


def collect(
    runs_dir: Path = paths.RUNS, submissions_dir: Path = paths.SUBMISSIONS, problems: list[str] | None = None
) -> list[LogEntry]:
    """Every run folder and submission record on disk. An unreadable ``leaderboard.json``
    does not stop the listing: its message goes to ``problems`` (when given) and the
    submissions are listed without LB scores."""
    entries = (
        [run_entry(d) for d in sorted(runs_dir.iterdir()) if d.is_dir() and not d.name.startswith(".")]
        if runs_dir.is_dir()
        else []
    )
    try:
        leaderboard = read_leaderboard(submissions_dir / paths.LEADERBOARD.name)
    except FoldwiseError as exc:
        leaderboard = {}
        if problems is not None:
            problems.append(str(exc))
    if submissions_dir.is_dir():
        for record in sorted(submissions_dir.glob("*.json")):
            entry = submission_entry(record, leaderboard)
            if entry is not None:
                entries.append(entry)
    return entries


def sort_entries(entries: list[LogEntry], key: str = "date") -> list[LogEntry]:
    """Newest first (``date``), best CV first within each dataset and metric (``score``), slowest
    first (``wall``), or by name; entries without the key go last."""
    if key not in SORT_KEYS:
        raise FoldwiseError(f"--sort {key!r}: sort by one of {', '.join(SORT_KEYS)}")
    if key == "name":
        return sorted(entries, key=lambda e: (e.name, e.kind))
    if key == "date":  # ISO dates sort as text; undated (unfinished) entries last
        return sorted(entries, key=lambda e: e.date or "", reverse=True)
    if key == "wall":
        return sorted(entries, key=lambda e: (e.wall_s is None, -(e.wall_s or 0.0)))

    def best_first(e: LogEntry) -> tuple:
        value = _cv(e)
        signed = -(value or 0.0) if e.greater_is_better else (value or 0.0)
        return (value is None, e.dataset or "", e.metric or "", signed)

    return sorted(entries, key=best_first)


def log_frame(entries: list[LogEntry] | None = None) -> pd.DataFrame:
    """The log as a table (one row per run or submission): what ``foldwise runs`` prints and the notebook shows."""
    entries = collect() if entries is None else entries
    columns = list(LogEntry.__dataclass_fields__)
    return pd.DataFrame([asdict(e) for e in entries], columns=columns)


def format_table(entries: list[LogEntry]) -> str:
    """The printed log: kind, name, dataset, metric, CV tuned / cross-fitted / untuned, LB, config, wall, date."""

    def number(value: float | None) -> str:
        return "" if value is None else f"{value:.4f}"

    rows = [
        [
            e.kind,
            e.name,
            e.dataset or "",
            e.metric or "",
            number(e.score),
            number(e.crossfit),
            number(e.untuned),
            number(e.lb),
            e.config or "",
            "" if e.wall_s is None else f"{e.wall_s:.0f}",
            (e.date or "")[:16].replace("T", " "),
            "" if e.status == "complete" else e.status,
        ]
        for e in entries
    ]
    header = [
        "kind",
        "name",
        "dataset",
        "metric",
        "cv",
        "cv crossfit",
        "untuned",
        "lb",
        "config / members",
        "wall s",
        "date",
        "status",
    ]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)).rstrip() for row in [header, *rows])


def record_lb(name: str, score: float, source: str = "by hand", path: Path = paths.LEADERBOARD) -> dict:
    """Add a leaderboard score of ``submissions/<name>.csv`` to the log (atomically, under a lock)."""
    record_path = paths.submission_csv(name).with_suffix(".json")
    record = _read(record_path)
    if record is None:
        raise FoldwiseError(
            f"{record_path}: no submission record; `foldwise ensemble` writes it beside submissions/{name}.csv"
        )
    check_lb_score(name, score, record.get("metric"))
    entry = {
        "score": float(score),
        "recorded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "source": source,
        "csv_sha256": record.get("csv_sha256"),
        "cv_score": record.get("cv_score"),
        "cv_score_crossfit": record.get("cv_score_crossfit"),
        "metric": record.get("metric"),
    }
    with artifacts.lock_file(path.with_suffix(".lock")):
        artifacts.remove_stale_temps(path)  # left by an `lb` that was killed while writing
        board = read_leaderboard(path)
        board.setdefault(name, []).append(entry)
        artifacts.write_json(path, board)
    return entry


def check_lb_score(name: str, score: float, metric_name: Any) -> None:
    """Refuse a leaderboard score no leaderboard shows: NaN or infinite (which would also turn
    ``leaderboard.json`` into invalid JSON), or below the lowest score of the submission's
    metric (a negative log loss or F1; MCC goes down to -1). A metric the kit does not know
    may be negative."""
    if not math.isfinite(score):
        raise FoldwiseError(
            f"lb {name}: score {score} is not a finite number; give the public score as the "
            "leaderboard shows it, e.g. 0.7123"
        )
    metric = _metric(metric_name)
    if metric is not None and score < metric.lowest:
        raise FoldwiseError(
            f"lb {name}: score {score:g} is below {metric.lowest:g}, the lowest {metric.name} "
            f"score (submissions/{name}.json's metric); give the public score as the "
            "leaderboard shows it"
        )


def kaggle_submission_scores(listing: str) -> dict[str, float]:
    """``{submission name: public score}`` from ``kaggle competitions submissions --csv`` output
    (its ``fileName`` is ``<name>.csv``; rows still pending or without a finite score are left out)."""
    rows = list(csv.DictReader(io.StringIO(listing)))
    scores: dict[str, float] = {}
    for row in reversed(rows):  # the CLI lists newest first: the newest score of a name wins
        name, value = Path(row.get("fileName") or "").stem, (row.get("publicScore") or "").strip()
        try:
            score = float(value)
        except ValueError:
            continue
        if math.isfinite(score):
            scores[name] = score
    return scores


def cv_vs_lb_figure(entries: list[LogEntry]) -> Figure | None:
    """CV (cross-fitted where there is one) against LB per submission, one panel per dataset and
    metric, with the y = x line: can the validation be trusted? A plain matplotlib Figure (saved
    by :func:`plot_cv_vs_lb`, shown as is by the results notebook); None without LB scores."""
    submissions = [(e, _cv(e), e.lb) for e in entries if e.kind == "submission"]
    scored = [(e, cv, lb) for e, cv, lb in submissions if cv is not None and lb is not None]
    if not scored:
        return None
    from matplotlib.figure import Figure

    groups = sorted({(e.dataset or "", e.metric or "") for e, _, _ in scored})
    fig = Figure(figsize=(4.2 * len(groups), 4))
    axes = fig.subplots(1, len(groups), squeeze=False)
    for ax, (dataset, metric) in zip(axes.flat, groups):
        points = [p for p in scored if (p[0].dataset or "", p[0].metric or "") == (dataset, metric)]
        cv, lb = [x for _, x, _ in points], [y for _, _, y in points]
        ax.scatter(cv, lb)
        for e, x, y in points:
            ax.annotate(e.name, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
        low, high = min(cv + lb), max(cv + lb)
        pad = (high - low) * 0.1 or 0.01
        ax.plot([low - pad, high + pad], [low - pad, high + pad], "--", color="gray", linewidth=0.8)
        ax.set_xlabel(f"CV {metric} (cross-fitted)")
        ax.set_ylabel(f"LB {metric}")
        ax.set_title(dataset)
    return fig


def plot_cv_vs_lb(entries: list[LogEntry], path: Path = paths.CV_VS_LB_PLOT) -> Path | None:
    """:func:`cv_vs_lb_figure` saved as a PNG at ``path`` (None, and nothing written, without LB scores)."""
    fig = cv_vs_lb_figure(entries)
    if fig is None:
        return None
    from ..io.plots import save_figure

    artifacts.remove_stale_temps(path)  # only those of writers that are gone (a killed `lb`)
    save_figure(fig, path)
    return path


def _cv(entry: LogEntry) -> float | None:
    return entry.crossfit if entry.crossfit is not None else entry.score


def describe(entry: dict[str, Any], name: str) -> str:
    """One line on a recorded leaderboard score beside its CV."""
    cv = entry.get("cv_score_crossfit") if entry.get("cv_score_crossfit") is not None else entry.get("cv_score")
    gap = f", CV {cv:.4f} (LB - CV {entry['score'] - cv:+.4f})" if isinstance(cv, (int, float)) else ""
    return f"{name}: LB {entry['score']:.4f} recorded ({entry['source']}){gap}"
