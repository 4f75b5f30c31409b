"""What a fold trains on when a finished teacher helps: distillation and pseudo-labels.

- ``distill.teacher`` (a run): each training row's target becomes
  ``(1 - weight) * label + weight * teacher OOF probability``. With the losses the kit uses
  (binary and softmax cross-entropy, linear in the target) that is the hard and the soft
  loss mixed in that proportion. The teacher's OOF prediction of a row came from a teacher
  model that never trained on that row.
- ``pseudo_labels.teacher`` (a submission blended by ``fit`` or ``mean``): fold k adds the
  test rows that the teacher's *fold-k* models (trained without fold k's rows, like this
  fold) predict confidently, labelled with the teacher's decisions (``hard``) or
  probabilities (``soft``). "Confidently" is a cut chosen on the teacher's OOF rows outside
  fold k: the lowest confidence at which its decisions match the truth ``min_agreement``
  of the time. Confidence is the row's least certain label, ``min_j max(p, 1 - p)`` (the
  largest probability for one label per row).

In both cases a fold's validation rows never enter its training, and no row's own
prediction is among its fold's training targets. Only label-probability tasks take
teachers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .. import progress
from ..config import ExperimentConfig
from ..data.competition import CompetitionData
from ..errors import FoldwiseError
from ..io import artifacts, paths
from ..io.runs import open_run
from ..io.submission import submission_record


@dataclass
class Teachers:
    """The teachers' predictions, aligned with the competition's rows."""

    soft_labels: np.ndarray | None = None  # (n_train, L) distillation targets (teacher OOF)
    weight: float = 0.0
    pseudo_oof: np.ndarray | None = None  # (n_train, L) the pseudo-label teacher's blended OOF
    pseudo_test: list[np.ndarray] | None = None  # per fold: (n_test, L) its fold models' blended test predictions
    decider: Any = None
    mode: str = "hard"
    min_agreement: float = 0.95


def prepare(cfg: ExperimentConfig, data: CompetitionData, task: Any, folds_sha: str) -> tuple[ExperimentConfig,
                                                                                               Teachers | None]:
    """The teachers ``cfg`` names, read and checked, and ``cfg`` with their hashes (so the training
    fingerprint changes with them); ``(cfg, None)`` without teachers."""
    distill, pseudo = cfg.distill.teacher, cfg.pseudo_labels.teacher
    if not distill and not pseudo:
        return cfg, None
    if task.kind not in ("multilabel", "multiclass", "binary"):
        raise FoldwiseError(f"distill / pseudo_labels: task {task.kind} has no label probabilities to learn from")
    teachers = Teachers()
    if distill:
        run = open_run(distill)
        ids, oof = task.read_predictions(run.dir / "oof.csv")
        teachers.soft_labels = _aligned(oof, ids, data.train_ids, run.dir / "oof.csv")
        teachers.weight = cfg.distill.weight
        cfg = replace(cfg, distill=replace(cfg.distill, teacher_sha256=artifacts.file_sha256(run.dir / "oof.csv")))
    if pseudo:
        record = _pseudo_record(pseudo)
        teachers.pseudo_oof, teachers.pseudo_test = _blended_teacher(record, data, task, folds_sha)
        teachers.decider = task.load_decider(record["decision"], f"submissions/{pseudo}.json")
        teachers.mode, teachers.min_agreement = cfg.pseudo_labels.mode, cfg.pseudo_labels.min_agreement
        cfg = replace(cfg, pseudo_labels=replace(cfg.pseudo_labels, teacher_sha256=record["csv_sha256"]))
    return cfg, teachers


def fold_training_rows(teachers: Teachers | None, task: Any, truth: np.ndarray, train_texts: np.ndarray,
                       test_texts: np.ndarray, fold: np.ndarray, k: int) -> tuple[np.ndarray, Any, np.ndarray]:
    """Fold k's training texts and targets, and the test rows added as pseudo-labels (indices)."""
    train_rows = np.flatnonzero(fold != k)
    targets = task.take(truth, train_rows)
    if teachers is None:
        return train_texts[train_rows], targets, np.array([], dtype=np.int64)
    targets = np.asarray(targets, dtype=np.float32)
    if teachers.soft_labels is not None:
        targets = (1 - teachers.weight) * targets + teachers.weight * teachers.soft_labels[train_rows]
    if teachers.pseudo_test is None:
        return train_texts[train_rows], targets.astype(np.float32), np.array([], dtype=np.int64)
    outside = fold != k
    cut = confidence_cut(teachers, truth[outside], teachers.pseudo_oof[outside], task.kind)
    probs = teachers.pseudo_test[k]
    chosen = np.flatnonzero(confidence(probs, task.kind) >= cut) if cut is not None else np.array([], dtype=np.int64)
    extra = (teachers.decider.predict(probs[chosen]) if teachers.mode == "hard" else probs[chosen]).astype(np.float32)
    progress.write(f"fold {k}: {len(chosen)} of {len(probs)} test rows pseudo-labelled ({teachers.mode}, "
                   f"teacher confidence >= {cut if cut is not None else 'none reached'})")
    return (np.concatenate([train_texts[train_rows], test_texts[chosen]]),
            np.concatenate([targets, extra]).astype(np.float32), chosen)


def confidence(probs: np.ndarray, kind: str) -> np.ndarray:
    """How sure each row's prediction is: the largest probability (one label per row), else the
    least certain label's ``max(p, 1 - p)``."""
    probs = np.asarray(probs, dtype=np.float64)
    if kind == "multiclass":
        return probs.max(axis=1)
    return np.maximum(probs, 1 - probs).min(axis=1)


def confidence_cut(teachers: Teachers, truth: np.ndarray, oof: np.ndarray, kind: str) -> float | None:
    """The lowest confidence at which the teacher's decisions on OOF rows at least that
    confident match the truth (the whole row) ``min_agreement`` of the time; None if no cut does."""
    sure = confidence(oof, kind)
    order = np.argsort(-sure, kind="stable")
    right = (np.asarray(teachers.decider.predict(oof)) == np.asarray(truth)).all(axis=1)[order]
    agreement = np.cumsum(right) / np.arange(1, len(right) + 1)
    good = np.flatnonzero(agreement >= teachers.min_agreement)
    return float(sure[order][good[-1]]) if len(good) else None


def _aligned(values: np.ndarray, ids: np.ndarray, wanted: np.ndarray, source: Any) -> np.ndarray:
    position = {i: n for n, i in enumerate(np.asarray(ids, dtype=str))}
    missing = [i for i in wanted if i not in position]
    if missing:
        raise FoldwiseError(f"{source}: no prediction for training row '{missing[0]}': the teacher was trained on "
                            "other data")
    return np.asarray(values, dtype=np.float32)[[position[i] for i in wanted]]


def _pseudo_record(name: str) -> dict:
    record = submission_record(paths.submission_csv(name))
    if record is None:
        raise FoldwiseError(f"pseudo_labels.teacher: submissions/{name}.json not found; make it with `foldwise "
                            f"ensemble ... --name {name}`")
    if record.get("method", "fit") not in ("fit", "mean"):
        raise FoldwiseError(f"pseudo_labels.teacher: {name} blends by {record['method']}; its per-fold test "
                            "predictions need a fit or mean blend")
    return record


def _blended_teacher(record: dict, data: CompetitionData, task: Any,
                     folds_sha: str) -> tuple[np.ndarray, list[np.ndarray]]:
    """The submission's blended OOF, and per fold the blend of its members' fold-k test predictions."""
    weights = np.array([record["weights"][m] for m in record["members"]])
    oofs, per_fold = [], []
    for member in record["members"]:
        run = open_run(member)
        if run.info.get("folds_sha256") != folds_sha:
            raise FoldwiseError(f"pseudo_labels.teacher: runs/{member} was trained on other folds than "
                                f"folds/{data.name}.csv; a fold's teacher must not have seen that fold's rows")
        ids, oof = task.read_predictions(run.dir / "oof.csv")
        oofs.append(_aligned(oof, ids, data.train_ids, run.dir / "oof.csv"))
        per_fold.append([task.load_fold(paths.fold_file(member, k))[2] for k in range(run.info["n_splits"])])
    folds = [task.blend([member[k] for member in per_fold], weights) for k in range(len(per_fold[0]))]
    return task.blend(oofs, weights), folds
