"""``foldwise predict``: label new texts with a run's saved fold models and its fitted decision rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import artifacts, paths
from .config import load_experiment
from .data import read_csv
from .decisions import Decider, decider_from_record
from .errors import FoldwiseError
from .metrics import get_metric
from .models import model_class
from .text import clean_texts


def load_decider(run_dir: Path, metric_name: str, task: str, label_names: list[str]) -> Decider:
    """The decision rule saved in ``thresholds.json``; for a metric scored on probabilities
    (which has none), the untuned rule (a 0.5 cut, or argmax) so that labels can be shown."""
    path = run_dir / "thresholds.json"
    metric = get_metric(metric_name, task)
    decider = decider_from_record(artifacts.read_json(path), metric, label_names, str(path))
    if decider.kind != "probabilities":
        return decider
    untuned = ({"kind": "argmax"} if task == "multiclass"
               else {"kind": "cuts", "mode": "fixed", "thresholds": dict.fromkeys(label_names, 0.5)})
    return decider_from_record(untuned, metric, label_names, str(path))


def predict_texts(run: str | Path, texts: list[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Average the fold models' probabilities for ``texts`` and apply the run's thresholds.

    Returns
    -------
    (label names, (n, n_labels) probabilities, (n, n_labels) 0/1 decisions)
    """
    run_dir = Path(run) if Path(run).is_dir() else paths.run_dir(str(run))
    if not (run_dir / "run.json").exists():
        raise FoldwiseError(f"{run_dir}: no finished run here (run.json missing)")
    info = artifacts.read_json(run_dir / "run.json")
    cfg = load_experiment(run_dir / "config.yaml")
    names = info["label_names"]
    folders = [run_dir / f"fold_{k}" / "model" for k in range(info["n_splits"])]
    missing = [f for f in folders if not f.exists()]
    if missing:
        raise FoldwiseError(f"{missing[0]} not found: train with `--set save_models=true` to keep fold models")
    cleaned = clean_texts(texts, cfg.text)
    kind = model_class(cfg.model.kind)
    probs = np.zeros((len(texts), len(names)))
    for folder in folders:
        model = kind.load_predictor(folder, cfg.model, info["task"], len(names))
        probs += model.predict_proba(cleaned) / len(folders)
    metric = info.get("metric") or cfg.data.metric  # runs written before run.json named it
    return names, probs, load_decider(run_dir, metric, info["task"], names).predict(probs)


def read_texts(path: str | Path, column: str) -> list[str]:
    """Texts from a CSV column (``--file texts.csv --text-column text``)."""
    frame = read_csv(Path(path))
    if column not in frame.columns:
        raise FoldwiseError(f"{path}: missing column '{column}' (columns: {', '.join(frame.columns)})")
    return frame[column].fillna("").astype(str).tolist()


def format_predictions(texts: list[str], names: list[str], probs: np.ndarray, decisions: np.ndarray,
                       top: int = 5) -> list[dict]:
    """One record per text: the predicted labels and the top-k probabilities."""
    out = []
    for text, p, d in zip(texts, probs, decisions):
        order = np.argsort(-p)[:top]
        out.append({"text": text, "labels": [names[j] for j in np.flatnonzero(d)],
                    "top": [{"label": names[j], "probability": round(float(p[j]), 4)} for j in order]})
    return out
