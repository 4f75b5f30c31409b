"""``foldwise predict``: label new texts with a run's saved fold models and tuned thresholds."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import artifacts, paths
from .config import load_experiment
from .data import read_csv
from .errors import FoldwiseError
from .models import model_class
from .text import clean_texts
from .thresholds import ArgmaxDecision, ThresholdOptimizer


def load_decider(run_dir: Path, n_labels: int) -> ThresholdOptimizer | ArgmaxDecision:
    """The decision rule saved in ``thresholds.json`` (argmax for multiclass runs)."""
    record = artifacts.read_json(run_dir / "thresholds.json")
    if record["thresholds"] is None:
        return ArgmaxDecision()
    decider = ThresholdOptimizer(mode=record["mode"], at_least_one=record["at_least_one"])
    decider.thresholds_ = np.asarray(list(record["thresholds"].values()), dtype=np.float64)
    if len(decider.thresholds_) != n_labels:
        raise FoldwiseError(f"{run_dir}/thresholds.json: {len(decider.thresholds_)} thresholds for {n_labels} labels")
    return decider


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
    return names, probs, load_decider(run_dir, len(names)).predict(probs)


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
