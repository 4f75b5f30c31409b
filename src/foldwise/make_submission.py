"""The ensemble stage: finished runs -> blend -> thresholds -> ``submissions/<name>.csv`` + ``.json``."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from . import artifacts, paths, report
from .config import DataConfig, ThresholdConfig, build, load_dataset_config
from .data import load_competition
from .errors import FoldwiseError
from .ensemble import Blender, tuned_macro_f1
from .evaluation import Evaluation, evaluate, make_decider
from .folds import read_folds
from .runs import check_compatible, load_run
from .submission import build_submission, submission_record, write_submission


@dataclass
class SubmissionResult:
    """Where the submission went and how it scored out of fold."""

    csv: Path
    record: dict
    evaluation: Evaluation


def ensemble(experiments: list[str], name: str, method: str = "fit",
             thresholds: ThresholdConfig | None = None) -> SubmissionResult:
    """Blend finished runs, tune thresholds on the blended OOF, write a validated submission.

    Parameters
    ----------
    experiments : run names under ``runs/`` (one is fine: it just gets thresholded).
    name : submission name: ``submissions/<name>.csv`` and ``.json``.
    method : "fit" (weights maximising OOF macro-F1 after thresholds) or "mean".
    thresholds : how labels are decided; default per-class cuts.
    """
    thresholds = thresholds or ThresholdConfig()
    csv_path = paths.submission_csv(name)  # a bad name fails here, before any work
    record_path, plot_path = csv_path.with_suffix(".json"), csv_path.with_suffix(".per_class_f1.png")
    runs = [load_run(e) for e in experiments]
    check_compatible(runs)
    data_cfg = runs[0].data_config
    data = load_competition(data_cfg)
    for what, current, saved in (("training ids", data.train_ids, runs[0].oof_ids),
                                 ("test ids", data.test_ids, runs[0].test_ids)):
        if not np.array_equal(current, saved):
            raise FoldwiseError(f"{runs[0].dir}: its {what} differ from the current data files; retrain it")
    for run in runs:
        _check_trained_on(run, data.content_sha256)
    fold = read_folds(data_cfg, data.train_ids)

    objective = tuned_macro_f1(lambda: make_decider(data.task, thresholds), data.labels)
    blender = Blender(method=method).fit([r.oof for r in runs], objective)
    oof = blender.predict([r.oof for r in runs])
    test = blender.predict([r.test for r in runs])
    evaluation = evaluate(oof, data.labels, fold, data.label_names, data.task, thresholds)
    decisions = evaluation.decider.predict(test)

    frame = build_submission(data.sample_submission, data_cfg.id_column, data.test_ids,
                             decisions, data.label_names)
    for path in (csv_path, record_path, plot_path):  # left by an `ensemble` that was killed
        artifacts.remove_stale_temps(path)
    csv = write_submission(csv_path, frame, data.sample_submission,
                           data_cfg.id_column, allowed_labels=data.label_names)
    cuts = evaluation.decider.thresholds_
    record = {
        "name": name,
        "csv_sha256": artifacts.file_sha256(csv),
        "dataset": data.name,
        "data_config": asdict(data_cfg),  # what `validate` and `submit` read without --data
        "sample_submission": str(data_cfg.path / data_cfg.sample_submission_file),
        "members": [r.name for r in runs],
        "member_cv_macro_f1": {r.name: r.metrics["tuned"]["macro_f1"] for r in runs},
        "method": method,
        "weights": dict(zip((r.name for r in runs), map(float, blender.weights_))),
        "threshold_mode": evaluation.summary["threshold_mode"],
        "at_least_one": thresholds.at_least_one,
        "thresholds": None if cuts is None else dict(zip(data.label_names, map(float, cuts))),
        "cv_macro_f1": evaluation.summary["tuned"]["macro_f1"],
        "cv_macro_f1_crossfit": evaluation.summary["tuned_crossfit_macro_f1"],
        "cv_macro_f1_at_0.5": evaluation.summary["at_0.5"]["macro_f1"],
        "cv_macro_f1_equal_weights": blender.mean_score_,
        "test_label_rate": float(decisions.mean()),
        "oof_label_rate": float(data.labels.mean()),
        "metrics": evaluation.summary,
        **artifacts.provenance(),
    }
    report.plot_per_class_f1(evaluation.summary, plot_path, f"ensemble {name}")
    # the record goes last and names the CSV's hash: a run killed before this point leaves
    # a CSV that the old record does not match, which validate and submit refuse
    artifacts.write_json(record_path, record)
    return SubmissionResult(csv=csv, record=record, evaluation=evaluation)


def _check_trained_on(run, data_sha256: str) -> None:
    """Refuse a run whose fingerprint names other data (a label, text or id changed since)."""
    trained_on = str(run.info.get("fingerprint", "")).partition("-")[2]
    if trained_on != data_sha256:
        why = "other data (ids, texts or labels changed since)" if trained_on else \
            "a version of the kit that did not record its data"
        raise FoldwiseError(f"{run.dir} was trained on {why}; retrain it with `foldwise train ... --force`")


def recorded_data_config(csv: Path) -> DataConfig | None:
    """The dataset a submission was made for, read from its ``.json`` record (None without one)."""
    record = submission_record(csv)  # refuses a record that does not describe this CSV
    if record is None:
        return None
    record_path = csv.with_suffix(".json")
    if isinstance(record.get("data_config"), dict):
        return build(DataConfig, record["data_config"], str(record_path), prefix="data_config.")
    if record.get("dataset"):  # records written before the data config was recorded
        return load_dataset_config(record["dataset"])
    return None


def submission_data_config(csv: Path, data: str | None) -> DataConfig:
    """The dataset of a submission: ``data`` (a name or YAML) when given, else its record's."""
    if data:
        return load_dataset_config(data)
    cfg = recorded_data_config(csv)
    if cfg is None:
        raise FoldwiseError(f"{csv}: no dataset recorded for it ({csv.with_suffix('.json')} missing or without "
                            "data_config); pass --data <dataset name or config>")
    return cfg
