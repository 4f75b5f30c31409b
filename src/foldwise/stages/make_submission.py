"""The ensemble stage: finished runs -> blend -> decisions -> ``submissions/<name>.csv`` + ``.json``.

Beside them: ``<name>.probs.csv`` (the blended test predictions in the task's layout:
for classification id + one probability column per label, whatever the submission
format) and ``<name>.per_class_f1.png`` (the task's figure).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from .. import progress
from ..config import DataConfig, ThresholdConfig, build
from ..data.competition import load_competition
from ..data.folds import read_folds
from ..errors import FoldwiseError
from ..experiment import load_dataset_config
from ..io import artifacts, paths
from ..io.submission import submission_record
from ..tasks import Task, competition_task
from ..tasks.ensemble import Blender
from ..tasks.evaluation import Evaluation
from .runs import Run, check_compatible, check_trained_on, current_post_processing, open_run, read_run_predictions


@dataclass
class SubmissionResult:
    """Where the submission went and how it scored out of fold."""

    csv: Path
    record: dict
    evaluation: Evaluation
    format_line: str = ""
    task_line: str = ""


def ensemble(
    experiments: list[str],
    name: str,
    method: str = "fit",
    thresholds: ThresholdConfig | None = None,
    threshold_overrides: dict | None = None,
) -> SubmissionResult:
    """Blend finished runs, fit decisions on the blended OOF, write a validated submission.

    The post-processing keys (``data.metric``, ``data.submission_format``, ``thresholds``)
    come from the current config of the first run (:func:`foldwise.stages.runs.current_post_processing`),
    so a changed metric re-scores without retraining; a line says so when they differ from
    the run's own config.yaml.

    Parameters
    ----------
    experiments : run names under ``runs/`` (one is fine: it just gets its decisions fit).
    name : submission name: ``submissions/<name>.csv``, ``.json`` and ``.probs.csv``.
    method : "fit" (weights maximising the OOF competition metric after decisions), "mean", "rank"
        (``fit`` on rank-normalised members) or "stack" (a cross-validated level-2 logistic
        regression): :mod:`foldwise.tasks.ensemble`.
    thresholds : how labels are decided; default: the current config's ``thresholds``.
    threshold_overrides : ThresholdConfig keys set on top of those (the command line's flags).
    """
    csv_path = paths.submission_csv(name)  # a bad name fails here, before any work
    record_path, probs_path, plot_path = (
        paths.submission_companion(csv_path, what) for what in ("record", "probabilities", "plot")
    )
    runs = [open_run(e) for e in experiments]
    post = current_post_processing(runs[0])
    if post.line:
        progress.write(post.line)
    data_cfg = post.data_config
    thresholds = replace(thresholds or post.thresholds, **(threshold_overrides or {}))
    data = load_competition(data_cfg)
    task = competition_task(data_cfg, data)
    for run in runs:
        _check_task(run, data.task, runs[0])
        read_run_predictions(run, task)
    check_compatible(runs)
    for note in task.threshold_notes(thresholds):
        progress.write(note)
    for what, current, saved in (
        ("training ids", data.train_ids, runs[0].oof_ids),
        ("test ids", data.test_ids, runs[0].test_ids),
    ):
        if not np.array_equal(current, saved):
            raise FoldwiseError(f"{runs[0].dir}: its {what} differ from the current data files; retrain it")
    for run in runs:
        check_trained_on(run, data.content_sha256)
    fold = read_folds(data_cfg, data.train_ids)

    truth = task.truth(data)
    _check_method(method, task, len(runs))
    blender = Blender(method=method, combine=task.blend, stacker=task.stacker).fit(
        [r.oof for r in runs], task.objective(thresholds, truth), truth, fold
    )
    oof = blender.oof_
    test = blender.predict([r.test for r in runs])
    evaluation = task.evaluate(oof, truth, fold, thresholds)
    frame = task.submission_frame(data.test_ids, test, evaluation.decider)

    with artifacts.lock_file(paths.submission_lock(name)):  # one `ensemble` writes <name>'s files at a time
        for path in (csv_path, record_path, plot_path, probs_path):  # left by an `ensemble` that was killed
            artifacts.remove_stale_temps(path)
        csv_sha256 = task.write_submission(csv_path, frame)
        task.write_predictions(probs_path, data.test_ids, test)
        record = _submission_record(
            name,
            csv_sha256,
            probs_path,
            data_cfg,
            runs,
            task,
            blender,
            evaluation,
            task.record(evaluation, truth, test),
        )
        task.plot(evaluation, plot_path, f"ensemble {name}")
        # the record goes last and names the hash of the CSV written above: a run killed before
        # this point leaves a CSV that the old record does not match, which validate and submit refuse
        artifacts.write_json(record_path, record)
    return SubmissionResult(
        csv=csv_path, record=record, evaluation=evaluation, format_line=task.format_line, task_line=task.task_line
    )


def _submission_record(
    name: str,
    csv_sha256: str,
    probs_path: Path,
    data_cfg: DataConfig,
    runs: list[Run],
    task: Task,
    blender: Blender,
    evaluation: Evaluation,
    task_fields: dict,
) -> dict:
    """``submissions/<name>.json``: what was blended how, the decision, the format and the OOF
    scores, with ``task_fields`` (:meth:`Task.record`: label rates for classification)."""
    return {
        "name": name,
        "csv_sha256": csv_sha256,
        "dataset": data_cfg.name,
        "data_config": asdict(data_cfg),  # what `validate` and `submit` read without --data
        "sample_submission": str(data_cfg.path / data_cfg.sample_submission_file),
        "submission_format": task.submission_format,
        "submission_format_reason": task.format_reason,
        "label_names": task.label_names,
        "probabilities": str(probs_path),
        "members": [r.name for r in runs],
        "metric": task.metric.name,
        "member_cv_score": {r.name: _run_score(r.metrics, task.metric.name) for r in runs},
        **blender.to_record([r.name for r in runs]),
        "decision": evaluation.decision,
        "cv_score": evaluation.score,
        "cv_score_crossfit": evaluation.score_crossfit,
        "cv_score_untuned": evaluation.score_untuned,
        "cv_score_equal_weights": task.metric.from_objective(blender.mean_score_),
        **task_fields,
        "metrics": evaluation.to_json(),
        **artifacts.provenance(),
    }


def _check_task(run: Run, task: str, first: Run) -> None:
    """Refuse a run trained for another task than the blend's (e.g. a span run among generation
    runs): its predictions have another shape, and reading them would fail on a missing file."""
    trained = run.info.get("task", task)
    if trained != task:
        raise FoldwiseError(
            f"{run.dir}: trained for task {trained}, but the blend is task {task} (from "
            f"{first.dir}'s current config); ensemble blends runs of one task"
        )


def _check_method(method: str, task: Task, n_runs: int) -> None:
    """Rank averaging and stacking blend probability matrices; rank averages are no probabilities;
    a stack of one run is no blend (a logistic regression refit on its own logits, which its
    decisions already tune, costs CV and prints a weight of 1)."""
    if method not in task.blend_methods:
        raise FoldwiseError(
            f"--method {method}: task {task.kind} (metric {task.metric.name}) blends by "
            f"{' or '.join(task.blend_methods)}"
        )
    if method == "stack" and n_runs < 2:
        raise FoldwiseError(
            "--method stack of one run is not a blend: it only refits the run's probabilities, "
            "which its decisions (thresholds, or calibration for log loss) already do; stack two "
            "or more runs, or ensemble this one with --method fit"
        )
    if method == "rank" and not task.metric.needs_decision and task.metric.name != "roc_auc":
        raise FoldwiseError(
            f"--method rank: rank averages are not probabilities, which metric {task.metric.name} "
            "scores; use fit, mean or stack"
        )


def _run_score(metrics: dict, metric: str) -> float | None:
    """A member run's OOF score on ``metric``: its competition score, or the secondary one
    (a run scored for another metric), None where it has none."""
    if metrics.get("metric") == metric:
        return metrics["score"]
    return metrics.get("tuned", {}).get(metric)


def recorded_data_config(csv: Path) -> DataConfig | None:
    """The dataset a submission was made for, read from its ``.json`` record (None without one)."""
    record = submission_record(csv)  # refuses a record that does not describe this CSV
    if record is None:
        return None
    record_path = paths.submission_companion(csv, "record")
    if isinstance(record.get("data_config"), dict):
        return build(DataConfig, record["data_config"], str(record_path), prefix="data_config.")
    return None


def submission_data_config(csv: Path, data: str | None) -> DataConfig:
    """The dataset of a submission: ``data`` (a name or YAML) when given, else its record's."""
    if data:
        return load_dataset_config(data)
    cfg = recorded_data_config(csv)
    if cfg is None:
        record_path = paths.submission_companion(csv, "record")
        raise FoldwiseError(
            f"{csv}: no dataset recorded for it ({record_path} missing or without "
            "data_config); pass --data <dataset name or config>"
        )
    return cfg
