"""What averaging seeds gained: each seed of a ``seeds: [..]`` run scored alone beside the average.

A multi-seed fold keeps every seed's validation and test predictions
(``runs/<exp>/fold_<k>.seed_<s>.npz``, the task's fold layout). Once all folds are done, each
seed's out-of-fold predictions are assembled and evaluated exactly like the run's averaged
ones (decisions fit on OOF, cross-fitted), and ``runs/<exp>/seeds.json`` holds the figures:
a competitor sees from one run whether the extra seeds earned their training time.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..io import artifacts, paths
from ..tasks import Task
from ..tasks.evaluation import Evaluation
from ..tasks.roles import PredictionFiles
from .oof import assemble_oof


def seed_fold_file(experiment: str, fold: int, seed: int) -> Path:
    """One seed's predictions of one fold, beside the fold's averaged ``fold_<k>.npz``."""
    return paths.run_dir(experiment) / f"fold_{fold}.seed_{seed}.npz"


def save_seed_folds(
    task: PredictionFiles[Any],
    experiment: str,
    fold: int,
    valid_ids: np.ndarray,
    per_seed: Sequence[tuple[int, Any, Any]],
) -> None:
    """Write each seed's ``(seed, validation predictions, test predictions)`` of fold ``fold``."""
    for seed, valid, test in per_seed:
        task.save_fold(seed_fold_file(experiment, fold, seed), valid_ids, valid, test)


def _scores(evaluation: Evaluation) -> dict:
    """The evaluation's OOF scores: tuned, cross-fitted (None: nothing to fit) and untuned."""
    return {
        "score": evaluation.score,
        "score_crossfit": evaluation.score_crossfit,
        "score_untuned": evaluation.score_untuned,
    }


def _honest(scores: dict) -> float:
    """The cross-fitted score where the decision learns something, else the tuned one."""
    return scores["score"] if scores["score_crossfit"] is None else scores["score_crossfit"]


def seed_scores(
    task: Task[Any, Any], cfg: Any, train_ids: np.ndarray, truth: Any, fold: np.ndarray, averaged: Evaluation, out: Path
) -> dict | None:
    """Score each seed of a finished multi-seed run alone; write and return ``seeds.json``.

    None when the run has one seed, or when a fold lacks a seed's predictions (folds trained
    before seeds were kept one by one): nothing is claimed that was not measured.
    """
    seeds = list(cfg.seeds or [])
    n_splits = int(fold.max()) + 1
    files = {s: [seed_fold_file(cfg.name, k, s) for k in range(n_splits)] for s in seeds}
    if len(seeds) < 2 or not all(f.exists() for fs in files.values() for f in fs):
        (out / "seeds.json").unlink(missing_ok=True)  # a former multi-seed run's figures are not this run's
        return None
    rows, oofs = [], []
    for seed in seeds:
        parts = [task.load_fold(f)[:2] for f in files[seed]]
        oofs.append(assemble_oof(task, train_ids, parts, out))
        evaluation = task.evaluate(oofs[-1], truth, fold, cfg.thresholds)
        rows.append({"seed": seed, **_scores(evaluation)})
    alone = [_honest(r) for r in rows]
    mean_alone = float(np.mean(alone))
    sign = 1.0 if averaged.greater_is_better else -1.0
    record = {
        "metric": averaged.metric,
        "greater_is_better": averaged.greater_is_better,
        "seeds": rows,
        "averaged": _scores(averaged),
        "mean_single_seed": mean_alone,
        "best_single_seed": max(alone, key=lambda v: sign * v),
        "gain_over_mean_seed": sign * (_honest(_scores(averaged)) - mean_alone),
        "seeds_identical": all(_same(o, oofs[0]) for o in oofs[1:]),
    }
    artifacts.write_json(out / "seeds.json", record)
    return record


def _same(a: Any, b: Any) -> bool:
    """Two seeds' OOF predictions are equal (label probabilities, or a task's own predictions)."""
    try:
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    except (TypeError, ValueError):
        return a == b


def seed_scores_line(record: dict) -> str:
    """One line: each seed alone, the average, and what averaging gained."""
    alone = ", ".join(f"{r['seed']} {_honest(r):.4f}" for r in record["seeds"])
    averaged = record["averaged"]
    crossfit = "" if averaged["score_crossfit"] is None else " cross-fitted"
    return (
        f"seeds alone ({record['metric']}, OOF{crossfit}): {alone}; averaged {_honest(averaged):.4f} "
        f"({record['gain_over_mean_seed']:+.4f} over the mean seed {record['mean_single_seed']:.4f})"
        + (
            "; every seed predicted the same: this model does not depend on the seed, extra seeds cost time for nothing"
            if record.get("seeds_identical")
            else ""
        )
    )
