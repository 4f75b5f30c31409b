"""A packaged submission re-made from a competition's ``test.csv``, offline (what a bundle's ``predict.py`` runs).

Every member run's saved fold models predict the test rows, combined as at training
(``task.combine_test``) and held as the run's ``test.csv`` holds them (``task.as_stored``);
the members are blended with the submission's weights, decided with its fitted decision,
and written and validated as ``foldwise ensemble`` wrote ``submissions/<name>.csv``. Only
the test file and the sample submission are read: no training data, no hub.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..config import DataConfig, build
from ..data.competition import read_csv, texts_of
from ..errors import FoldwiseError
from ..io import artifacts
from ..tasks import task_for
from ..tasks.ensemble import Blender
from .predict import fold_models_predict

#: the submission record inside a bundle (``submissions/<name>.json`` as ``ensemble`` wrote it)
RECORD = "submission.json"


def predict_submission(bundle: Path, test_csv: Path, sample_csv: Path, out_csv: Path) -> Path:
    """Write ``out_csv`` from ``test_csv`` with the bundle's runs, weights and decision; returns it."""
    record = artifacts.read_json(bundle / RECORD)
    data_cfg = build(DataConfig, record["data_config"], str(bundle / RECORD), prefix="data_config.")
    sep, encoding = data_cfg.sep, data_cfg.encoding
    test, sample = read_csv(test_csv, sep, encoding=encoding), read_csv(sample_csv, sep, encoding=encoding)
    if data_cfg.id_column not in test.columns:
        raise FoldwiseError(f"{test_csv}: missing id column '{data_cfg.id_column}'")
    ids = test[data_cfg.id_column].to_numpy(dtype=object).astype(str)
    texts = texts_of(test, data_cfg, test_csv)
    runs = [bundle / "runs" / name for name in record["members"]]
    kind = artifacts.read_json(runs[0] / "run.json")["task"]
    task = task_for(replace(data_cfg, metric=record["metric"]), record["label_names"], sample, kind=kind)
    members = [task.as_stored(fold_models_predict(run, task, texts)) for run in runs]
    blended = Blender.from_record(record, combine=task.blend).predict(members)
    decider = task.load_decider(record["decision"], str(bundle / RECORD))
    task.write_submission(out_csv, task.submission_frame(ids, blended, decider))
    return out_csv

