"""What a fold trains on when a finished teacher helps: distillation and pseudo-labels.

- ``distill.teacher`` (a run that kept its fold models, ``save_models: true``): fold k's
  training targets become ``(1 - weight) * label + weight * p``, where p is the teacher's
  *fold-k* model's prediction of the row. That model was trained without fold k, like
  this fold, so nothing the teacher learnt from fold k's labels reaches fold k's training
  (a teacher's OOF prediction of a training row would: it came from a model that trained
  on fold k). With the losses the kit uses (binary and softmax cross-entropy, linear in
  the target; for numbers squared error, whose gradient is, and ``bce`` on scaled targets)
  that is the hard and the soft loss mixed in that proportion (``smooth_l1``: nearly). The teacher's
  predictions of the training rows are cached per fold in its run folder
  (``fold_<k>/train_preds.npz``), keyed by the hash of its fold-k model files.
- ``pseudo_labels.teacher`` (a submission blended by ``fit`` or ``mean``): fold k adds the
  test rows that the teacher's *fold-k* models (trained without fold k's rows, like this
  fold) predict confidently, labelled with the teacher's decisions (``hard``) or
  probabilities (``soft``). The task says which rows (``Task.pseudo_label_rows``). Labels:
  "confidently" is a cut chosen on the teacher's OOF rows outside fold k: the lowest
  confidence at which its decisions match the truth ``min_agreement`` of the time;
  confidence is the row's least certain label, ``min_j max(p, 1 - p)`` (the largest
  probability for one label per row). Numbers (regression, ordinal scores), never exactly
  right: the ``min_agreement`` share of test rows that the teacher's fold models agree on
  most (the least spread of their predictions), labelled with its decisions (clipped
  numbers, levels) or its numbers (``soft``). Every fold model votes on which test rows
  (a choice among test rows only); their labels are still fold k's models'.

In both cases a fold's validation rows never enter its training, and no model that saw
them teaches it. A teacher (a submission's every member) must have been trained on the
student's data as it is now (same dataset, task, label names, rows and fold file: what
``ensemble`` asks of its members); its predictions are matched to the rows by id. Tasks
whose truth a teacher's predictions can stand in for (``soft_targets``: labels, numbers)
take teachers; text answers do not.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from .. import progress
from ..config import ExperimentConfig
from ..data.competition import CompetitionData
from ..errors import FoldwiseError
from ..io import artifacts, paths
from ..io.submission import submission_record
from .predict import per_fold_predict, saved_fold_models
from .runs import Run, check_trained_on, open_run, read_run_predictions, trained_differently

#: (fold k, its training rows) -> (rows, L) soft targets from teacher models that never saw fold k
SoftLabels = Callable[[int, np.ndarray], np.ndarray]


@dataclass
class Teachers:
    """The teachers' predictions, aligned with the competition's rows."""

    soft_labels: SoftLabels | None = None  # distillation targets, per fold
    weight: float = 0.0
    pseudo_oof: np.ndarray | None = None  # (n_train, L) the pseudo-label teacher's blended OOF
    pseudo_test: list[np.ndarray] | None = None  # per fold: (n_test, L) its fold models' blended test predictions
    decider: Any = None
    mode: str = "hard"
    min_agreement: float = 0.95


def prepare(
    cfg: ExperimentConfig, data: CompetitionData, task: Any, folds_sha: str
) -> tuple[ExperimentConfig, Teachers | None]:
    """The teachers ``cfg`` names, read and checked, and ``cfg`` with their hashes (so the training
    fingerprint changes with them); ``(cfg, None)`` without teachers."""
    distill, pseudo = cfg.distill.teacher, cfg.pseudo_labels.teacher
    if not distill and not pseudo:
        return cfg, None
    if not task.soft_targets:
        raise FoldwiseError(
            f"distill / pseudo_labels: task {task.kind} has no label probabilities or numbers to learn from"
        )
    teachers = Teachers()
    if distill:
        teacher = FoldModelsTeacher.open(distill, data, task, folds_sha)
        teachers.soft_labels, teachers.weight = teacher.predict_fold, cfg.distill.weight
        cfg = replace(cfg, distill=replace(cfg.distill, teacher_sha256=teacher.sha256))
    if pseudo:
        record = _pseudo_record(pseudo)
        teachers.pseudo_oof, teachers.pseudo_test = _blended_teacher(pseudo, record, data, task, folds_sha)
        teachers.decider = task.load_decider(record["decision"], f"submissions/{pseudo}.json")
        teachers.mode, teachers.min_agreement = cfg.pseudo_labels.mode, cfg.pseudo_labels.min_agreement
        cfg = replace(cfg, pseudo_labels=replace(cfg.pseudo_labels, teacher_sha256=record["csv_sha256"]))
    return cfg, teachers


@dataclass
class FoldModelsTeacher:
    """A distillation teacher: its fold-k models predict the rows student fold k trains on.

    ``fold_keys[k]`` hashes the teacher's fingerprint and its fold-k model files: the cache
    of their predictions (``<teacher run>/fold_<k>/train_preds.npz``) is used only under it,
    and ``sha256`` (all folds' keys) joins the student's fingerprint.
    """

    run: Run
    task: Any
    train_ids: np.ndarray
    train_texts: np.ndarray  # raw: the teacher cleans them as it was trained to
    fold_keys: list[str]

    @classmethod
    def open(cls, name: str, data: CompetitionData, task: Any, folds_sha: str) -> FoldModelsTeacher:
        """The finished run ``name``, checked to be trained on this data and folds, with its fold models."""
        run = open_run(name)
        check_teacher(run, data, task, folds_sha, "distill.teacher")
        try:
            folders = saved_fold_models(run.dir)
        except FoldwiseError as error:
            raise FoldwiseError(
                f"distill.teacher: {error} (a student's fold k learns from the teacher's fold-k model)"
            ) from None
        keys = [
            hashlib.sha256(f"{run.info['fingerprint']}:{artifacts.tree_sha256(*fold)}".encode()).hexdigest()
            for fold in folders
        ]
        return cls(run, task, data.train_ids, data.train_texts, keys)

    @property
    def sha256(self) -> str:
        """One hash of every fold model (part of the student's training fingerprint)."""
        return hashlib.sha256(":".join(self.fold_keys).encode()).hexdigest()

    def predict_fold(self, k: int, rows: np.ndarray) -> np.ndarray:
        """The teacher's fold-k models' predictions of training ``rows`` (read from the cache when it
        holds them under this fold's key, else made and cached)."""
        path = self.run.dir / f"fold_{k}" / "train_preds.npz"
        ids = np.asarray(self.train_ids[rows], dtype=str)
        cached = _cached(path, self.fold_keys[k], ids)
        if cached is not None:
            return cached
        progress.write(
            f"fold {k}: {self.run.dir}'s fold-{k} models predict the {len(rows)} training rows "
            f"(soft targets; cached in {path})"
        )
        probs = np.asarray(per_fold_predict(self.run.dir, self.task, self.train_texts[rows], [k])[0], dtype=np.float32)
        with artifacts.atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, key=np.array(self.fold_keys[k]), ids=ids, probs=probs)
        return probs


def _cached(path: Path, key: str, ids: np.ndarray) -> np.ndarray | None:
    """The predictions cached at ``path`` if they were made under ``key`` for ``ids``; else None."""
    try:
        with np.load(path, allow_pickle=False) as saved:
            if str(saved["key"]) == key and np.array_equal(saved["ids"], ids):
                return saved["probs"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):  # none yet, or unreadable: made again
        pass
    return None


def check_teacher(run: Run, data: CompetitionData, task: Any, folds_sha: str, role: str) -> None:
    """Refuse a teacher run trained on another dataset, task, label names, fold file or data
    (rows, texts or labels changed since), as ``ensemble`` refuses such members."""
    differs = trained_differently(run, data.name, data.task, task.label_names, folds_sha)
    if differs:
        raise FoldwiseError(
            f"{role}: {run.dir} was trained on {differs}; a teacher must be trained on the "
            f"student's dataset, task, labels and folds/{data.name}.csv"
        )
    try:
        check_trained_on(run, data.content_sha256)
    except FoldwiseError as error:
        raise FoldwiseError(f"{role}: {error}") from None


def fold_training_rows(
    teachers: Teachers | None,
    task: Any,
    truth: np.ndarray,
    train_texts: np.ndarray,
    test_texts: np.ndarray,
    fold: np.ndarray,
    k: int,
) -> tuple[np.ndarray, Any, np.ndarray]:
    """Fold k's training texts and targets, and the test rows added as pseudo-labels (indices)."""
    train_rows = np.flatnonzero(fold != k)
    targets = task.take(truth, train_rows)
    if teachers is None:
        return train_texts[train_rows], targets, np.array([], dtype=np.int64)
    targets = np.asarray(targets, dtype=np.float32)
    if teachers.soft_labels is not None:
        targets = (1 - teachers.weight) * targets + teachers.weight * teachers.soft_labels(k, train_rows)
    if teachers.pseudo_test is None or teachers.pseudo_oof is None:
        return train_texts[train_rows], targets.astype(np.float32), np.array([], dtype=np.int64)
    outside = fold != k
    oof = teachers.pseudo_oof[outside]
    right = (np.asarray(teachers.decider.predict(oof)) == np.asarray(truth[outside])).all(axis=1)
    chosen, how = task.pseudo_label_rows(teachers.pseudo_test, k, oof, right, teachers.min_agreement)
    probs = teachers.pseudo_test[k]
    extra = (teachers.decider.predict(probs[chosen]) if teachers.mode == "hard" else probs[chosen]).astype(np.float32)
    progress.write(f"fold {k}: {len(chosen)} of {len(probs)} test rows pseudo-labelled ({teachers.mode}, {how})")
    return (
        np.concatenate([train_texts[train_rows], test_texts[chosen]]),
        np.concatenate([targets, extra]).astype(np.float32),
        chosen,
    )


def _aligned(
    values: np.ndarray, ids: np.ndarray, wanted: np.ndarray, source: Any, rows: str = "training"
) -> np.ndarray:
    """``values`` (one row per id of ``ids``) in the order of ``wanted``: matched by id, not position."""
    position = {i: n for n, i in enumerate(np.asarray(ids, dtype=str))}
    missing = [i for i in np.asarray(wanted, dtype=str) if i not in position]
    if missing:
        raise FoldwiseError(
            f"{source}: no prediction for {rows} row '{missing[0]}': the teacher was trained on other data"
        )
    return np.asarray(values, dtype=np.float32)[[position[i] for i in np.asarray(wanted, dtype=str)]]


def _pseudo_record(name: str) -> dict:
    record = submission_record(paths.submission_csv(name))
    if record is None:
        raise FoldwiseError(
            f"pseudo_labels.teacher: submissions/{name}.json not found; make it with `foldwise "
            f"ensemble ... --name {name}`"
        )
    if record.get("method", "fit") not in ("fit", "mean"):
        raise FoldwiseError(
            f"pseudo_labels.teacher: {name} blends by {record['method']}; its per-fold test "
            "predictions need a fit or mean blend"
        )
    return record


def _blended_teacher(
    name: str, record: dict, data: CompetitionData, task: Any, folds_sha: str
) -> tuple[np.ndarray, list[np.ndarray]]:
    """The submission's blended OOF, and per fold the blend of its members' fold-k test predictions,
    each member checked as a teacher and its predictions matched to the rows by id."""
    weights = np.array([record["weights"][m] for m in record["members"]])
    oofs, per_fold = [], []
    for member in record["members"]:
        run = open_run(member)
        check_teacher(run, data, task, folds_sha, f"pseudo_labels.teacher {name}")
        read_run_predictions(run, task)
        oofs.append(_aligned(run.oof, run.oof_ids, data.train_ids, run.dir / "oof.csv"))
        per_fold.append(
            [
                _aligned(
                    task.load_fold(paths.fold_file(member, k))[2],
                    run.test_ids,
                    data.test_ids,
                    paths.fold_file(member, k),
                    "test",
                )
                for k in range(run.info["n_splits"])
            ]
        )
    folds = [task.blend([member[k] for member in per_fold], weights) for k in range(len(per_fold[0]))]
    return task.blend(oofs, weights), folds
