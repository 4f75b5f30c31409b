"""Read a finished training run back from ``runs/<exp>/``."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..config import CONFIGS_DIR, POST_TRAINING_DATA_KEYS, DataConfig, ThresholdConfig, build, read_yaml
from ..errors import FoldwiseError
from ..experiment import load_dataset_config, load_experiment
from ..io import artifacts, paths
from ..tasks import Task


@dataclass
class Run:
    """A finished experiment's records and, once read through its task, its OOF and test predictions."""

    name: str
    dir: Path
    data_config: DataConfig
    info: dict
    metrics: dict
    label_names: list[str]
    #: the ids and the task's predictions of every training row ((n_train, n_labels) probabilities)
    #: and of the test rows: empty until :func:`read_run_predictions` reads them
    oof_ids: np.ndarray = field(default_factory=lambda: np.array([], dtype=str))
    oof: Any = None
    test_ids: np.ndarray = field(default_factory=lambda: np.array([], dtype=str))
    test: Any = None


def run_folder(name_or_dir: str | Path) -> Path:
    """The folder of a run named ``name_or_dir``: a run folder path as given, else ``runs/<name>/``."""
    folder = Path(name_or_dir)
    if not (folder / "run.json").exists() and paths.is_name(str(name_or_dir)):
        folder = paths.run_dir(str(name_or_dir))
    return folder


def open_run(name_or_dir: str | Path) -> Run:
    """The records of ``runs/<name>/`` (or a run folder path): run.json, config, metrics; the
    run must have every fold done. Its predictions are read by :func:`read_run_predictions`."""
    folder = run_folder(name_or_dir)
    info_path = folder / "run.json"
    if not info_path.exists():
        raise FoldwiseError(
            f"{folder}: no finished run here (run.json missing); train it with "
            f"`foldwise train configs/{Path(str(name_or_dir)).name}.yaml`"
        )
    finish = "run the same `foldwise train` command again: it keeps the trained folds and writes the run's results"
    info = _run_record(info_path, finish)
    folds = len(list(folder.glob("fold_*.json")))
    metrics = _run_record(
        folder / "metrics.json", f"the run is unfinished ({folds}/{info.get('n_splits', '?')} folds done); {finish}"
    )
    config = read_yaml(folder / "config.yaml")
    return Run(
        name=info["experiment"],
        dir=folder,
        data_config=build(DataConfig, config["data"], str(folder)),
        info=info,
        metrics=metrics,
        label_names=info["label_names"],
    )


def _run_record(path: Path, fix: str) -> dict:
    """A run's JSON record; a missing or unreadable one is one line saying ``fix``."""
    try:
        record = artifacts.read_json(path)
    except FileNotFoundError:
        raise FoldwiseError(f"{path}: missing; {fix}") from None
    except (OSError, ValueError) as exc:
        raise FoldwiseError(f"{path}: unreadable ({exc}); {fix}") from None
    if not isinstance(record, dict):
        raise FoldwiseError(f"{path}: not a JSON object; {fix}")
    return record


def read_run_predictions(run: Run, task: Task[Any, Any]) -> Run:
    """Fill ``run``'s OOF and test predictions, read by ``task`` (which refuses bad cells)."""
    run.oof_ids, run.oof = task.read_predictions(run.dir / "oof.csv")
    run.test_ids, run.test = task.read_predictions(run.dir / "test.csv")
    if task.label_names != run.label_names:
        raise FoldwiseError(f"{run.dir}: oof.csv, test.csv and run.json disagree on the label columns")
    return run


def check_compatible(runs: list[Run]) -> None:
    """Refuse to blend runs that do not line up row for row (dataset, folds, ids, labels)."""
    first = runs[0]
    for run in runs[1:]:
        for what, a, b in (
            ("dataset", first.info["dataset"], run.info["dataset"]),
            ("fold file", first.info["folds_sha256"], run.info["folds_sha256"]),
            ("labels", first.label_names, run.label_names),
        ):
            if a != b:
                raise FoldwiseError(
                    f"runs '{first.name}' and '{run.name}' used different {what}s; "
                    "retrain one of them on the current folds"
                )
        if not (np.array_equal(first.oof_ids, run.oof_ids) and np.array_equal(first.test_ids, run.test_ids)):
            raise FoldwiseError(
                f"runs '{first.name}' and '{run.name}' cover different rows (was one trained with data.max_train_rows?)"
            )


def check_trained_on(run: Run, data_sha256: str) -> None:
    """Refuse a run whose fingerprint names other data (a label, text or id changed since, or
    the rows reordered)."""
    trained_on = str(run.info.get("fingerprint", "")).partition("-")[2]
    if trained_on != data_sha256:
        why = (
            "other data (ids, texts or labels changed since)"
            if trained_on
            else "a version of the kit that did not record its data"
        )
        raise FoldwiseError(f"{run.dir} was trained on {why}; retrain it with `foldwise train ... --force`")


def trained_differently(run: Run, dataset: str, task: str, label_names: list[str], folds_sha256: str) -> str | None:
    """What ``run`` was trained on that differs from ``dataset``, ``task``, ``label_names`` (in
    this order) and the fold file of hash ``folds_sha256``, in words; None if nothing does."""
    for what, theirs, ours in (
        ("dataset", run.info.get("dataset"), dataset),
        ("task", run.info.get("task", task), task),
        ("labels", run.label_names, label_names),
    ):
        if theirs != ours:
            return f"{what} {theirs} (not {ours})"
    if run.info.get("folds_sha256") != folds_sha256:
        return "other folds than the current fold file"
    return None


@dataclass
class PostProcessing:
    """What decides, scores and submits a run's predictions, read from the current config.

    Attributes
    ----------
    data_config : the run's data config with its post-training keys (``metric``,
        ``submission_format``, ``kaggle_competition``, ...) taken from the current config.
    thresholds : the current config's ``thresholds`` section.
    source : the file they were read from ("" when the run's own config.yaml was used).
    changes : ``["data.metric 'macro_f1' -> 'log_loss'", ...]``: where they differ from the run's.
    """

    data_config: DataConfig
    thresholds: ThresholdConfig
    source: str
    changes: list[str]

    @property
    def line(self) -> str | None:
        """One line saying that the current config differs from the run's (None if it does not)."""
        if not self.changes:
            return None
        return f"post-processing from {self.source}, not the run's config.yaml: {', '.join(self.changes)}"


def current_post_processing(run: Run) -> PostProcessing:
    """The post-processing keys of ``run`` as the current config files set them.

    Thresholds, ``data.metric`` and ``data.submission_format`` change nothing a fold learnt,
    so `ensemble` follows the config as it is now: the experiment YAML the run was trained
    from, with the same ``--set`` overrides (recorded in run.json), or else
    ``configs/data/<dataset>.yaml``; a run with neither keeps its own config.yaml.
    """
    saved = read_yaml(run.dir / "config.yaml")
    saved_thresholds = build(
        ThresholdConfig, saved.get("thresholds"), str(run.dir / "config.yaml"), prefix="thresholds."
    )
    source = run.info.get("config_source") or {}
    data_file = CONFIGS_DIR / "data" / f"{run.data_config.name}.yaml"
    current = (
        load_experiment(source["file"], source.get("overrides") or [])
        if source.get("file") and Path(source["file"]).is_file()
        else None
    )
    if current is not None and current.data.name == run.data_config.name:  # else it now names another dataset
        data, thresholds = current.data, current.thresholds
        where = source["file"] + (f" (data: {data_file})" if data_file.is_file() else "")
    elif data_file.is_file():
        data, thresholds, where = load_dataset_config(run.data_config.name), saved_thresholds, str(data_file)
    else:
        data, thresholds, where = run.data_config, saved_thresholds, ""
    data = replace(run.data_config, **{key: getattr(data, key) for key in POST_TRAINING_DATA_KEYS})
    changes = [
        f"data.{key} {getattr(run.data_config, key)!r} -> {getattr(data, key)!r}"
        for key in POST_TRAINING_DATA_KEYS
        if getattr(run.data_config, key) != getattr(data, key)
    ]
    changes += [
        f"thresholds.{key} {getattr(saved_thresholds, key)!r} -> {getattr(thresholds, key)!r}"
        for key in vars(thresholds)
        if getattr(saved_thresholds, key) != getattr(thresholds, key)
    ]
    return PostProcessing(data, thresholds, where or str(run.dir / "config.yaml"), changes)
