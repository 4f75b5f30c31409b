"""Re-make the fold models a finished run did not keep (trained without ``save_models``), for ``package``.

Each fold without its model trains again from what trained it first: the run's
``config.yaml``, the competition files and the fold file (checked against the fingerprints in
``run.json``), into a temporary folder beside ``fold_<k>/``. Its predictions of the fold's
validation rows (its part of the run's OOF) and of the test rows must equal those the run
recorded in ``fold_<k>.npz``, to float tolerance; only then does the folder replace
``fold_<k>/``. Otherwise the run is refused in one line and nothing is written. The run's
predictions and scores are never rewritten.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from .. import progress
from ..config import fingerprint_change
from ..data.competition import load_competition
from ..data.folds import folds_path, read_folds
from ..data.text import clean_texts
from ..errors import FoldwiseError
from ..experiment import load_experiment
from ..io import artifacts
from ..tasks import competition_task
from ..tasks.roles import PredictionFiles
from .cv import FoldResult, train_fold
from .predict import fold_model_folders
from .teachers import prepare as prepare_teachers

#: re-made and recorded predictions are equal within this relative tolerance (or two units in
#: the last place of their float type, for float16 span scores), plus 1e-5 absolute
RTOL, ATOL = 1e-4, 1e-5


def remake_fold_models(run_dir: Path) -> list[int]:
    """Train the folds of ``run_dir`` whose models are missing again, check that they predict what
    the run recorded, and keep their models in ``fold_<k>/``; returns the folds re-made."""
    missing = [k for k, folders in enumerate(fold_model_folders(run_dir)) if not all(f.exists() for f in folders)]
    if not missing:
        return []
    info = artifacts.read_json(run_dir / "run.json")
    retrain = f"retrain it with `foldwise train configs/{info['experiment']}.yaml --set save_models=true --force`"
    if artifacts.is_busy(run_dir):
        raise FoldwiseError(f"{run_dir} is being trained now; wait for it, then package again")
    cfg = load_experiment(run_dir / "config.yaml")
    data = load_competition(cfg.data)
    task = competition_task(cfg.data, data)
    fold = read_folds(cfg.data, data.train_ids)
    folds_sha = artifacts.file_sha256(folds_path(cfg.data))
    cfg, teachers = prepare_teachers(cfg, data, task, folds_sha)
    fingerprint = cfg.training_fingerprint(data.content_sha256)
    if (fingerprint, folds_sha) != (info["fingerprint"], info["folds_sha256"]):
        what = (
            "other folds"
            if fingerprint == info["fingerprint"]
            else fingerprint_change(info["fingerprint"], fingerprint)
        )
        raise FoldwiseError(
            f"{run_dir}: its fold models are missing and cannot be re-made: it was trained with "
            f"{what} than the project has now; {retrain}"
        )
    cfg = replace(cfg, save_models=True)
    train_texts, test_texts = clean_texts(data.train_texts, cfg.text), clean_texts(data.test_texts, cfg.text)
    progress.write(
        f"{run_dir.name}: trained without its fold models; training fold(s) "
        f"{', '.join(map(str, missing))} again to keep them (all {info['n_splits']} folds took "
        f"{info.get('fit_seconds_total', 0):.0f}s at training)"
    )
    with artifacts.marked_busy(run_dir):
        for k in missing:
            target = run_dir / f"fold_{k}"
            artifacts.remove_stale_temps(target)  # a killed package's half-made fold
            start = time.perf_counter()
            with artifacts.atomic_dir(target) as work:
                result = train_fold(
                    cfg,
                    data,
                    task,
                    train_texts,
                    test_texts,
                    fold,
                    k,
                    resume=False,
                    workdir=work,
                    fingerprint=fingerprint,
                    teachers=teachers,
                )
                _check_as_recorded(
                    task, run_dir / f"fold_{k}.npz", data.train_ids[result.valid_rows], result, work, retrain
                )
            progress.write(
                f"{run_dir.name} fold {k}: model re-made in {time.perf_counter() - start:.1f}s; it "
                "predicts the recorded OOF and test rows"
            )
    return missing


def _check_as_recorded(
    task: PredictionFiles[Any], recorded: Path, valid_ids: np.ndarray, result: FoldResult, work: Path, retrain: str
) -> None:
    """Refuse a re-made fold whose validation ids, OOF or test predictions differ from ``recorded``
    (compared as the fold file stores them: written and read back the same way)."""
    remade = work / "remade.npz"
    task.save_fold(remade, valid_ids, result.valid_preds, result.test_preds)
    try:
        pairs = zip(
            ("validation ids", "OOF predictions", "test predictions"), task.load_fold(remade), task.load_fold(recorded)
        )
        differing = next((what for what, made, kept in pairs if not _equal(made, kept)), None)
    finally:
        remade.unlink()
    if differing:
        raise FoldwiseError(
            f"{recorded}: trained again, this fold's model gives other {differing} than the run "
            f"recorded (other library versions, or a model that is not deterministic?); nothing was "
            f"written; {retrain}"
        )


def _equal(made: Any, kept: Any) -> bool:
    """Predictions equal field by field: numbers within RTOL/ATOL, texts and ids exactly."""
    if dataclasses.is_dataclass(made):
        return all(_equal(getattr(made, f.name), getattr(kept, f.name)) for f in dataclasses.fields(made))
    if isinstance(made, list):
        return len(made) == len(kept) and all(_equal(a, b) for a, b in zip(made, kept))
    made, kept = np.asarray(made), np.asarray(kept)
    if made.shape != kept.shape:
        return False
    if made.dtype.kind == "f" and kept.dtype.kind == "f":
        rtol = max(RTOL, 2 * float(np.finfo(made.dtype).eps))
        return bool(np.allclose(made, kept, rtol=rtol, atol=ATOL))
    return bool((made == kept).all())
