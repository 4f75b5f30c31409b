"""Cross-validated training: per fold -> OOF and test probabilities, then the run's results.

``runs/<exp>/`` after a full run::

    config.yaml          resolved config (what actually ran)
    run.json             seed, versions, git commit, fold file hash, timings
    fold_<k>.npz/.json   one fold's validation + test predictions and its record
    fold_<k>.seed_<s>.npz  with ``seeds: [..]``: each seed's own predictions of the fold
    oof.csv              every training row's out-of-fold prediction (classification: id + one
                         probability column per label; the task writes its own layout)
    test.csv             the test rows' prediction combined over the fold models (probabilities
                         averaged)
    metrics.json         OOF scores on the competition metric (untuned, tuned, cross-fitted),
                         secondary scores, per fold, per class (foldwise.tasks.evaluation.Evaluation)
    thresholds.json      the fitted decision rule: kind, cuts or bias by label, at_least_one
    seeds.json           with ``seeds: [..]``: each seed's OOF score alone beside the average
    per_class_f1.png, threshold_curves.png (multi-label only): the task's figures
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import progress
from ..config import ExperimentConfig, changed_settings, fingerprint_change, read_yaml, to_yaml, training_settings
from ..data.competition import CompetitionData, load_competition
from ..data.folds import folds_path, read_folds
from ..data.text import clean_texts
from ..errors import FoldwiseError
from ..io import artifacts, paths
from ..models import build_model, model_class
from ..tasks import Task, competition_task, report
from ..tasks.evaluation import Evaluation
from ..train.distributed import is_main_process
from .oof import assemble_oof
from .seed_scores import save_seed_folds, seed_scores, seed_scores_line
from .teachers import Teachers, fold_training_rows
from .teachers import prepare as prepare_teachers


@dataclass
class FoldResult:
    """One trained fold: its validation rows' and the test rows' predictions (the task's kind of
    prediction: probabilities for classification), and timings."""

    valid_rows: np.ndarray
    valid_preds: Any
    test_preds: Any
    fit_seconds: float
    predict_seconds: float
    train_rows: int  # rows the model trained on (a max_rows_per_fold subset of the fold's rows)
    history: list[dict] | None  # a neural model's evaluations (None: a model without them)
    per_seed: list[tuple[int, Any, Any]] = field(default_factory=list)  # seeds: (seed, valid, test) each
    precision: dict | None = None  # a neural model's dtype and why (precision_probe.resolve)


@dataclass
class CVResult:
    """What a training run produced (``evaluation`` is None until every fold is done)."""

    run_dir: Path
    trained: list[int]
    skipped: list[int]
    evaluation: Evaluation | None


def parse_folds(spec: str | None, n_splits: int) -> list[int]:
    """``"0,2"`` -> [0, 2]; None -> every fold."""
    if spec is None or spec == "":
        return list(range(n_splits))
    try:
        chosen = sorted({int(part) for part in spec.split(",") if part.strip()})
    except ValueError:
        raise FoldwiseError(f"--folds: expected comma-separated fold numbers, got '{spec}'") from None
    bad = [k for k in chosen if not 0 <= k < n_splits]
    if bad:
        raise FoldwiseError(f"--folds: fold {bad[0]} does not exist (folds are 0..{n_splits - 1})")
    return chosen


def _fold_done(path: Path, fingerprint: str, folds_sha: str, changes: list[str] | None = None) -> bool:
    """Whether fold ``path`` is finished with this config; an error if it was trained otherwise.

    ``changes`` (from :func:`_changes_since_saved`) names the settings that differ.
    """
    record_path = path.with_suffix(".json")
    if not (path.exists() and record_path.exists()):
        return False
    record = artifacts.read_json(record_path)
    if record.get("fingerprint") == fingerprint and record.get("folds_sha256") == folds_sha:
        return True
    old = record.get("fingerprint")
    what = "other folds" if old == fingerprint else fingerprint_change(old, fingerprint)
    if changes:
        what += f" ({'; '.join(changes)})"
    raise FoldwiseError(
        f"{path} was trained with {what}; to keep that run, train this config under a new name "
        f'(`foldwise train <config> --name <new>`, `--set name=<new>`, or `make train SET="... name=<new>"`), '
        "or pass --force to retrain it in place (the earlier folds are overwritten)"
    )


def _changes_since_saved(out: Path, cfg: ExperimentConfig) -> list[str]:
    """Training settings of ``cfg`` that differ from the run's saved ``config.yaml`` (none without one)."""
    saved = out / "config.yaml"
    if not saved.exists():
        return []
    return changed_settings(training_settings(read_yaml(saved)), training_settings(cfg.to_dict()))


#: first line of ``config.yaml``: the fingerprint the run folder was set up with
CONFIG_HEADER = "# training fingerprint: "


def _fold_complete(path: Path) -> bool:
    """A fold counts as trained once both its ``.npz`` and its ``.json`` record exist
    (a run killed between the two leaves only the ``.npz``: that fold is trained again)."""
    return path.exists() and path.with_suffix(".json").exists()


def _config_text(cfg: ExperimentConfig, fingerprint: str) -> str:
    """``config.yaml``: the resolved config under a header naming its training fingerprint."""
    return f"{CONFIG_HEADER}{fingerprint}\n{to_yaml(cfg)}"


def _claimed_fingerprint(out: Path) -> str | None:
    """The fingerprint ``out/config.yaml`` was written with (None: no file; "": a file without
    the header, which no config of this kit claims)."""
    path = out / "config.yaml"
    if not path.exists():
        return None
    first = path.read_text(encoding="utf-8").partition("\n")[0]
    return first.removeprefix(CONFIG_HEADER).strip() if first.startswith(CONFIG_HEADER) else ""


def _check_run_folder(
    cfg: ExperimentConfig, out: Path, fingerprint: str, folds_sha: str, n_splits: int, changes: list[str]
) -> None:
    """Refuse a run folder that another config is training now, or whose finished folds
    came from another config or other folds (without --force)."""
    claimed = _claimed_fingerprint(out)
    if claimed not in (None, fingerprint) and artifacts.is_busy(out):
        raise FoldwiseError(
            f"{out} is being trained now by another `train` with another config; "
            "wait for it, or pass --set name=<new> to train this config beside it"
        )
    for k in range(n_splits):
        _fold_done(paths.fold_file(cfg.name, k), fingerprint, folds_sha, changes)


@contextlib.contextmanager
def _claimed_run_folder(
    cfg: ExperimentConfig, out: Path, fingerprint: str, folds_sha: str, n_splits: int, force: bool, changes: list[str]
) -> Iterator[None]:
    """Check the run folder, then write ``config.yaml``, both under the folder's lock, and
    mark the folder busy while this process trains in it.

    Several processes may train different folds of one config at once; a process with
    another config is refused here and leaves ``config.yaml`` as it was.
    """
    if not is_main_process():  # rank 0 writes; the other ranks only check
        if not force:
            _check_run_folder(cfg, out, fingerprint, folds_sha, n_splits, changes)
        yield
        return
    with contextlib.ExitStack() as stack:
        with artifacts.locked(out):
            if not force:
                _check_run_folder(cfg, out, fingerprint, folds_sha, n_splits, changes)
            artifacts.write_text(out / "config.yaml", _config_text(cfg, fingerprint))
            stack.enter_context(artifacts.marked_busy(out))
        yield


def train_fold(
    cfg: ExperimentConfig,
    data: CompetitionData,
    task: Task,
    train_texts: np.ndarray,
    test_texts: np.ndarray,
    fold: np.ndarray,
    k: int,
    resume: bool,
    workdir: Path | None = None,
    fingerprint: str | None = None,
    teachers: Teachers | None = None,
) -> FoldResult:
    """Fit one fold's model on the task's truth; return its validation and test predictions and timings.

    With ``seeds`` the fold trains once per seed and its predictions are the task's combination
    of the seeds' (``combine_test``: mean probabilities, MBR for texts). ``workdir`` (default
    ``runs/<exp>/fold_<k>/``; ``seed_<s>/`` inside it for the seeds after the first) holds
    checkpoints and saved models; ``resume`` continues only a checkpoint saved under the same
    training ``fingerprint``. ``teachers`` (:mod:`foldwise.stages.teachers`) change what the
    fold trains on: distilled targets, pseudo-labelled test rows.
    """
    workdir = workdir or paths.fold_dir(cfg.name, k)
    seeds = cfg.seeds or [cfg.seed]
    fit_texts, fit_targets, _ = fold_training_rows(teachers, task, task.truth(data), train_texts, test_texts, fold, k)
    results = [
        _train_one_seed(
            cfg,
            data,
            task,
            (fit_texts, fit_targets),
            train_texts,
            test_texts,
            fold,
            k,
            resume,
            fingerprint,
            seed,
            workdir if i == 0 else workdir / f"seed_{seed}",
        )
        for i, seed in enumerate(seeds)
    ]
    if len(results) == 1:
        return results[0]
    first = results[0]
    return FoldResult(
        valid_rows=first.valid_rows,
        valid_preds=task.combine_test([r.valid_preds for r in results]),
        test_preds=task.combine_test([r.test_preds for r in results]),
        fit_seconds=sum(r.fit_seconds for r in results),
        predict_seconds=sum(r.predict_seconds for r in results),
        train_rows=first.train_rows,
        history=first.history,
        precision=first.precision,
        per_seed=[(seed, r.valid_preds, r.test_preds) for seed, r in zip(seeds, results)],
    )


def _train_one_seed(
    cfg: ExperimentConfig,
    data: CompetitionData,
    task: Task,
    fit_on: tuple[np.ndarray, Any],
    train_texts: np.ndarray,
    test_texts: np.ndarray,
    fold: np.ndarray,
    k: int,
    resume: bool,
    fingerprint: str | None,
    seed: int,
    workdir: Path,
) -> FoldResult:
    """One seed's model of fold k, fit on ``fit_on`` (texts, targets), predicting validation and test rows."""
    fit_texts, fit_targets = fit_on
    valid_rows = np.flatnonzero(fold == k)
    workdir.mkdir(parents=True, exist_ok=True)
    model = build_model(
        cfg.model,
        task=data.task,
        n_labels=data.n_labels,
        seed=seed + k,
        workdir=workdir,
        resume=resume,
        fingerprint=fingerprint,
        head=model_head(cfg.model, task),
        single_label=task.single_label,
        numeric=task.numeric,
    )
    truth = task.truth(data)
    start = time.perf_counter()
    model.fit(fit_texts, fit_targets, train_texts[valid_rows], task.take(truth, valid_rows))
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    valid_preds = model.valid_preds_  # a neural fold's last evaluation already predicted them
    if valid_preds is None or len(valid_preds) != len(valid_rows):
        valid_preds = model.predict(train_texts[valid_rows])
    test_preds = model.predict(test_texts) if len(test_texts) else task.no_predictions()
    predict_seconds = time.perf_counter() - start
    if cfg.save_models and is_main_process():
        with artifacts.atomic_dir(workdir / "model") as folder:
            model.save(folder)
    cap = getattr(cfg.model, "max_rows_per_fold", None)  # a neural fold may train on a seeded subset
    return FoldResult(
        valid_rows=valid_rows,
        valid_preds=valid_preds,
        test_preds=test_preds,
        fit_seconds=fit_seconds,
        predict_seconds=predict_seconds,
        train_rows=min(len(fit_texts), cap or len(fit_texts)),
        history=model.history_,
        precision=model.precision_,
    )


def run_cv(cfg: ExperimentConfig, folds: str | None = None, force: bool = False, resume: bool = False) -> CVResult:
    """Train the experiment on the chosen folds and, once all are done, write its results.

    Parameters
    ----------
    cfg : the resolved experiment config.
    folds : ``"0,1"`` to train only some folds (others may be trained later or on other
        machines); None for all.
    force : retrain folds that are already finished (or were trained on another config).
    resume : continue an interrupted fold from its last epoch checkpoint.

    Under a data-parallel launcher every process runs this; only rank 0 writes files.
    """
    model_class(cfg.model.kind).check_can_run(cfg.model)  # e.g. 4-bit weights without CUDA, before any write
    data = load_competition(cfg.data)
    task = competition_task(cfg.data, data)  # metric and format checked first
    check_trains(cfg.model, task)
    if is_main_process():
        progress.write(task.task_line)
    fold = read_folds(cfg.data, data.train_ids)
    folds_sha = artifacts.file_sha256(folds_path(cfg.data))
    n_splits = int(fold.max()) + 1
    chosen = parse_folds(folds, n_splits)
    cfg, teachers = prepare_teachers(cfg, data, task, folds_sha)  # their hashes join the fingerprint
    fingerprint = cfg.training_fingerprint(data.content_sha256)
    out = paths.run_dir(cfg.name)
    changes = _changes_since_saved(out, cfg)  # before config.yaml is rewritten
    with _claimed_run_folder(cfg, out, fingerprint, folds_sha, n_splits, force, changes):
        return _train_chosen(cfg, data, task, fold, folds_sha, fingerprint, chosen, force, resume, changes, teachers)


def _fold_record(
    k: int, result: FoldResult, scores: dict[str, float], task: Task, fingerprint: str, folds_sha: str, seed: int
) -> dict:
    """``fold_<k>.json``: how the fold was trained, and its validation score of the untuned decision."""
    return {
        "fold": k,
        "fingerprint": fingerprint,
        "folds_sha256": folds_sha,
        "train_rows": result.train_rows,
        "valid_rows": int(len(result.valid_rows)),
        "fit_seconds": round(result.fit_seconds, 2),
        "predict_seconds": round(result.predict_seconds, 2),
        "metric": task.metric.name,
        "valid_score_untuned": scores[task.metric.name],
        "valid_untuned": scores,
        "history": result.history,
        **({"precision": result.precision} if result.precision else {}),
        **artifacts.provenance(seed),
    }


def _train_chosen(
    cfg: ExperimentConfig,
    data: CompetitionData,
    task: Task,
    fold: np.ndarray,
    folds_sha: str,
    fingerprint: str,
    chosen: list[int],
    force: bool,
    resume: bool,
    changes: list[str],
    teachers: Teachers | None = None,
) -> CVResult:
    """Train the chosen folds of a claimed run folder; write the results once all are done."""
    n_splits = int(fold.max()) + 1
    out = paths.run_dir(cfg.name)
    main = is_main_process()
    train_texts = clean_texts(data.train_texts, cfg.text)
    test_texts = clean_texts(data.test_texts, cfg.text)
    trained, skipped = [], []
    bar = progress.bar(chosen, desc=f"{cfg.name} folds", unit="fold", disable=not main, line_when_done=False)
    for k in bar:
        path = paths.fold_file(cfg.name, k)
        if not force and _fold_done(path, fingerprint, folds_sha, changes):
            skipped.append(k)
            continue
        result = train_fold(
            cfg, data, task, train_texts, test_texts, fold, k, resume, fingerprint=fingerprint, teachers=teachers
        )
        if not main:
            continue
        rows = result.valid_rows
        save_seed_folds(task, cfg.name, k, data.train_ids[rows], result.per_seed)  # before the fold counts as done
        task.save_fold(path, data.train_ids[rows], result.valid_preds, result.test_preds)
        scores = task.untuned_scores(result.valid_preds, task.take(task.truth(data), rows))
        if result.history:
            report.plot_training_curve(
                result.history, paths.fold_dir(cfg.name, k).with_suffix(".curve.png"), f"{cfg.name} fold {k}"
            )
        artifacts.write_json(
            path.with_suffix(".json"), _fold_record(k, result, scores, task, fingerprint, folds_sha, cfg.seed + k)
        )
        rate = result.train_rows / max(result.fit_seconds, 1e-9)
        available = int((fold != k).sum())
        subset = f" (of {available}: max_rows_per_fold)" if result.train_rows < available else ""
        progress.write(
            f"fold {k}: trained on {result.train_rows} rows{subset} in {result.fit_seconds:.1f}s "
            f"({rate:.0f} rows/s), valid {task.untuned_text(scores)}"
        )
        trained.append(k)
    if skipped:
        progress.write(f"folds {skipped} already trained with this config (use --force to retrain)")

    if not main:
        return CVResult(out, trained, skipped, None)
    with artifacts.locked(out):  # one process at a time checks every fold and writes the results
        done = [k for k in range(n_splits) if _fold_complete(paths.fold_file(cfg.name, k))]
        if len(done) < n_splits:
            progress.write(f"{len(done)}/{n_splits} folds trained; OOF results are written when all are done")
            return CVResult(out, trained, skipped, None)
        for k in done:  # folds trained by other invocations must match this config too
            _fold_done(paths.fold_file(cfg.name, k), fingerprint, folds_sha, changes)
        artifacts.write_text(out / "config.yaml", _config_text(cfg, fingerprint))  # what the results used
        evaluation = _finish(cfg, data, task, fold, folds_sha, fingerprint, out)
    return CVResult(out, trained, skipped, evaluation)


def _finish(
    cfg: ExperimentConfig,
    data: CompetitionData,
    task: Task,
    fold: np.ndarray,
    folds_sha: str,
    fingerprint: str,
    out: Path,
) -> Evaluation:
    """Assemble OOF and the combined test predictions, score them, write the run's files."""
    n_splits = int(fold.max()) + 1
    folds = [task.load_fold(paths.fold_file(cfg.name, k)) for k in range(n_splits)]
    oof = assemble_oof(task, data.train_ids, [(ids, valid) for ids, valid, _ in folds], out)
    test = task.combine_test([test for _, _, test in folds])
    truth = task.truth(data)
    evaluation = task.evaluate(oof, truth, fold, cfg.thresholds)
    task.write_predictions(out / "oof.csv", data.train_ids, oof)
    task.write_predictions(out / "test.csv", data.test_ids, test)
    artifacts.write_json(out / "metrics.json", evaluation.to_json())
    artifacts.write_json(out / "thresholds.json", evaluation.decision)
    fold_records = [artifacts.read_json(paths.fold_file(cfg.name, k).with_suffix(".json")) for k in range(n_splits)]
    artifacts.write_json(
        out / "run.json",
        {
            "experiment": cfg.name,
            "dataset": data.name,
            "task": data.task,
            "metric": task.metric.name,
            "label_names": task.label_names,
            "fingerprint": fingerprint,
            "folds_sha256": folds_sha,
            "n_splits": n_splits,
            "fit_seconds_total": round(sum(r["fit_seconds"] for r in fold_records), 2),
            "config_source": cfg.source,
            **artifacts.provenance(cfg.seed),
        },
    )
    progress.write(task.report(evaluation, oof, truth, out, cfg.name))
    seeds = seed_scores(task, cfg, data.train_ids, truth, fold, evaluation, out)
    if seeds:
        progress.write(seed_scores_line(seeds))
    return evaluation


def model_head(model_cfg: Any, task: Task) -> Any:
    """The task's head for a model kind that trains one (neural kinds), else None."""
    return task.head(model_cfg) if model_class(model_cfg.kind).uses_head else None


def check_trains(model_cfg: Any, task: Task) -> None:
    """Refuse, in one line and before any fold, a model kind that cannot learn this task."""
    kinds = model_class(model_cfg.kind).tasks
    if task.kind not in kinds:
        from ..models import MODEL_KINDS

        able = [kind for kind in MODEL_KINDS if task.kind in model_class(kind).tasks]
        raise FoldwiseError(
            f"model.kind {model_cfg.kind} cannot train task {task.kind} (it trains: "
            f"{', '.join(kinds)}); kinds that train {task.kind}: {', '.join(able)}"
        )
    if model_class(model_cfg.kind).uses_head:
        task.head(model_cfg)  # a head refuses its keys here (e.g. doc_stride >= max_length), before any write
