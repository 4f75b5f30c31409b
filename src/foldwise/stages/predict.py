"""``foldwise predict``: label new texts with a run's saved fold models and its fitted decision rule."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import DataConfig
from ..data.competition import texts_of
from ..data.text import clean_texts
from ..errors import FoldwiseError
from ..experiment import load_experiment
from ..io import artifacts, paths
from ..io.tables import read_csv
from ..models import model_class
from ..tasks import Task, task_for


def run_task(run_dir: Path, data_cfg: DataConfig, info: dict) -> Task:
    """The task a finished run was trained for, with the run's labels; its sample submission is
    read when the data is here (else the submission format is not needed to predict)."""
    sample_path = data_cfg.path / data_cfg.sample_submission_file
    sample = (
        read_csv(sample_path, data_cfg.sep, encoding=data_cfg.encoding)
        if sample_path.is_file()
        else pd.DataFrame(columns=[data_cfg.submission_id_column, *info["label_names"]])
    )
    if "metric" not in info:
        raise FoldwiseError(f"{run_dir / 'run.json'}: no 'metric'; train the run again")
    return task_for(replace(data_cfg, metric=info["metric"]), info["label_names"], sample, kind=info["task"])


def finished_run_dir(run: str | Path) -> Path:
    """The folder of a finished run, given as a folder or an experiment name."""
    run_dir = Path(run) if Path(run).is_dir() else paths.run_dir(str(run))
    if not (run_dir / "run.json").exists():
        raise FoldwiseError(f"{run_dir}: no finished run here (run.json missing)")
    return run_dir


def run_data_config(run: str | Path) -> DataConfig:
    """The data config a finished run was trained with."""
    return load_experiment(finished_run_dir(run) / "config.yaml").data


def predict_rows(run: str | Path, texts: list) -> tuple[Task, Any, Any]:
    """The run's task, its fold models' predictions for ``texts`` combined as for the test set
    (probabilities averaged and calibrated as submitted; span scores averaged), and the
    decisions shown for them (labels; answers)."""
    run_dir = finished_run_dir(run)
    info = artifacts.read_json(run_dir / "run.json")
    task = run_task(run_dir, load_experiment(run_dir / "config.yaml").data, info)
    probs = fold_models_predict(run_dir, task, texts)
    path = run_dir / "thresholds.json"
    record = artifacts.read_json(path)
    saved = task.load_decider(record, str(path))
    if saved.kind == "calibrated":  # the probabilities a log-loss submission would hold
        probs = saved.predict(probs)
    return task, probs, task.shown_decider(record, str(path)).predict(probs)


def fold_model_folders(run_dir: Path) -> list[list[Path]]:
    """Where a run keeps its fold models (``save_models: true``), per fold: ``fold_<k>/model``, and
    ``fold_<k>/seed_<s>/model`` for each later seed (``seeds``); whether they exist or not."""
    info = artifacts.read_json(run_dir / "run.json")
    seeds = (load_experiment(run_dir / "config.yaml").seeds or [])[1:]
    return [
        [run_dir / f"fold_{k}" / "model", *(run_dir / f"fold_{k}" / f"seed_{s}" / "model" for s in seeds)]
        for k in range(info["n_splits"])
    ]


def saved_fold_models(run_dir: Path) -> list[list[Path]]:
    """The models a run saved (:func:`fold_model_folders`); a one-line error when it kept none."""
    info = artifacts.read_json(run_dir / "run.json")
    folds = fold_model_folders(run_dir)
    missing = [f for folders in folds for f in folders if not f.exists()]
    if missing:
        raise FoldwiseError(
            f"{missing[0]} not found: {run_dir.name} was trained without its fold models; retrain "
            f"with `foldwise train configs/{info['experiment']}.yaml --set save_models=true --force`"
        )
    return folds


def fold_model_loader(run_dir: Path, task: Task) -> Callable[[Path], Any]:
    """A function that loads one of the run's saved fold models (a ``fold_<k>/model`` folder): a
    predictor of texts cleaned as the run cleaned them."""
    info = artifacts.read_json(run_dir / "run.json")
    cfg = load_experiment(run_dir / "config.yaml")
    kind = model_class(cfg.model.kind)
    head = task.head(cfg.model) if kind.uses_head else None
    return lambda folder: kind.load_predictor(folder, cfg.model, info["task"], len(info["label_names"]), head=head)


def fold_models_predict(run_dir: Path, task: Task, texts: list | np.ndarray) -> Any:
    """The run's fold models' predictions for ``texts`` (raw, cleaned as the run cleaned them),
    combined as its test predictions were (``task.combine_test`` over each fold's seeds, then
    over the folds)."""
    return task.combine_test(per_fold_predict(run_dir, task, texts))


def per_fold_predict(run_dir: Path, task: Task, texts: list | np.ndarray, folds: list[int] | None = None) -> list:
    """Each chosen fold's saved models' predictions for ``texts`` (raw, cleaned as the run cleaned
    them), a fold's seeds combined by ``task.combine_test``; default every fold."""
    cleaned = clean_texts(texts, load_experiment(run_dir / "config.yaml").text)
    load = fold_model_loader(run_dir, task)
    saved = saved_fold_models(run_dir)
    per_fold = [
        [load(folder).predict(cleaned) for folder in saved[k]] for k in (range(len(saved)) if folds is None else folds)
    ]
    return [preds[0] if len(preds) == 1 else task.combine_test(preds) for preds in per_fold]


def _read_columns(path: str | Path, columns: list[str]) -> list:
    """The values of ``columns`` of a CSV, empty cells as "" (one error line for a missing column)."""
    frame = read_csv(Path(path))
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise FoldwiseError(f"{path}: missing column '{missing[0]}' (columns: {', '.join(frame.columns)})")
    return frame[columns].fillna("").astype(str).to_numpy(dtype=object).tolist()


def read_texts(path: str | Path, column: str | None, data_cfg: DataConfig | None = None) -> list[str]:
    """Texts from a CSV column (``--file texts.csv --text-column text``); with no column, the
    run's ``data.text_columns`` joined as training joined them (``data_cfg``)."""
    if column is not None or data_cfg is None:
        return [row[0] for row in _read_columns(path, [column or "text"])]
    _read_columns(path, data_cfg.input_columns)  # one line for a missing column
    return list(texts_of(read_csv(Path(path)), data_cfg, Path(path)))


def read_pairs(path: str | Path, columns: list[str]) -> list[list[str]]:
    """``[first, second]`` per row from two CSV columns (``--file pairs.csv --pair-columns a b``)."""
    return _read_columns(path, list(columns))


def gather_inputs(
    run: str | Path,
    texts: list[str],
    pairs: list[list[str]],
    file: str | None = None,
    text_column: str | None = None,
    pair_columns: list[str] | None = None,
) -> list:
    """What ``foldwise predict`` labels: texts (or, for a run trained on sentence pairs,
    ``[first, second]`` pairs) from the command line and ``file``. A file's texts come from
    ``text_column``, by default the run's own ``data.text_columns`` joined as in training; a
    pair run reads the file's ``pair_columns``, by default the run's own ``data.text_pair``."""
    data_cfg = run_data_config(run)
    text_pair = data_cfg.pair_columns
    inputs: list[str] | list[list[str]]
    if text_pair is None:
        if pairs or pair_columns:
            raise FoldwiseError(f"{run}: trained on single texts (no data.text_pair): give texts, not pairs")
        inputs = list(texts) + (read_texts(file, text_column, data_cfg) if file else [])
    else:
        if texts:
            raise FoldwiseError(
                f"{run}: trained on pairs of columns {text_pair}: give --pair FIRST SECOND "
                "(a span run: --question Q --context C), not single texts"
            )
        inputs = [list(pair) for pair in pairs] + (read_pairs(file, pair_columns or text_pair) if file else [])
    if not inputs:
        raise FoldwiseError("predict: give texts as arguments, --pair FIRST SECOND, or --file texts.csv")
    return inputs


def format_predictions(texts: list, task: Task, preds: Any, decided: Any, top: int = 5) -> list[dict]:
    """One record per input, as the task shows it (labels and top probabilities; the answer)."""
    return task.prediction_records(texts, preds, decided, top)
