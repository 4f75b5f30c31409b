"""A packaged submission re-made from a competition's ``test.csv``, offline (what a bundle's ``predict.py`` runs).

Every member run's saved fold models predict the test rows, combined as at training
(``task.combine_test``) and held as the run's ``test.csv`` holds them (``task.as_stored``);
the members are blended with the submission's weights, decided with its fitted decision,
and written and validated as ``foldwise ensemble`` wrote ``submissions/<name>.csv``. Only
the test file and the sample submission are read: no training data, no hub.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import pandas as pd

from ..config import DataConfig, build
from ..data.competition import texts_of
from ..errors import FoldwiseError
from ..io import artifacts
from ..io.tables import read_csv
from ..tasks import task_for
from ..tasks.ensemble import Blender
from .predict import fold_models_predict

#: the submission record inside a bundle (``submissions/<name>.json`` as ``ensemble`` wrote it)
RECORD = "submission.json"
#: where Kaggle mounts a competition's files in a notebook
KAGGLE_INPUT = Path("/kaggle/input")


def predict_submission(bundle: Path, test_csv: Path, sample_csv: Path, out_csv: Path) -> Path:
    """Write ``out_csv`` from ``test_csv`` with the bundle's runs, weights and decision; returns it."""
    record = artifacts.read_json(bundle / RECORD)
    data_cfg = build(DataConfig, record["data_config"], str(bundle / RECORD), prefix="data_config.")
    sep, encoding = data_cfg.sep, data_cfg.encoding
    test, sample = read_csv(test_csv, sep, encoding=encoding), read_csv(sample_csv, sep, encoding=encoding)
    _check_test_file(test, test_csv, sample, sample_csv, data_cfg)
    ids = test[data_cfg.submission_id_column].to_numpy(dtype=object).astype(str)
    texts = texts_of(test, data_cfg, test_csv)
    runs = [bundle / "runs" / name for name in record["members"]]
    kind = artifacts.read_json(runs[0] / "run.json")["task"]
    task = task_for(replace(data_cfg, metric=record["metric"]), record["label_names"], sample, kind=kind)
    members = [task.as_stored(fold_models_predict(run, task, texts)) for run in runs]
    blended = Blender.from_record(record, combine=task.blend).predict(members)
    decider = task.load_decider(record["decision"], str(bundle / RECORD))
    task.write_submission(out_csv, task.submission_frame(ids, blended, decider))
    return out_csv


def _check_test_file(
    test: pd.DataFrame, test_csv: Path, sample: pd.DataFrame, sample_csv: Path, data_cfg: DataConfig
) -> None:
    """Refuse, in one line, a test file without the columns the models read, or without a row for
    every id of the sample submission (the submission needs a prediction for each)."""
    id_column = data_cfg.submission_id_column
    for frame, path, columns in (
        (test, test_csv, [id_column, *data_cfg.input_columns]),
        (sample, sample_csv, [id_column]),
    ):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise FoldwiseError(
                f"{path}: missing column '{missing[0]}' (columns: {', '.join(frame.columns)}); "
                f"the bundle's models read {', '.join(columns)}"
            )
    have = set(test[id_column].dropna())
    absent = [i for i in sample[id_column] if i not in have]
    if absent:
        shown = ", ".join(f"'{i}'" for i in absent[:5]) + (", ..." if len(absent) > 5 else "")
        raise FoldwiseError(
            f"{test_csv}: no row for {len(absent)} of the {len(sample)} ids of {sample_csv} "
            f"({shown}); the submission needs a prediction for each"
        )


def main(bundle: Path, argv: list[str] | None = None) -> int:
    """``predict.py``'s command line: its defaults (the competition's files under ``/kaggle/input``)
    come from the bundle's submission record, read as data; bad input is one ``error:`` line, exit 2."""
    record = artifacts.read_json(bundle / RECORD)
    data = record["data_config"]
    kaggle_input = KAGGLE_INPUT / str(data.get("kaggle_competition") or data["name"])
    parser = argparse.ArgumentParser(
        prog="predict.py",
        description=f"re-make submission {record['name']!r} from the competition's test file, offline",
    )
    parser.add_argument(
        "--test",
        default=str(kaggle_input / data["test_file"]),
        help="the competition's test file (default: %(default)s)",
    )
    parser.add_argument(
        "--sample",
        default=str(kaggle_input / data["sample_submission_file"]),
        help="its sample submission (default: %(default)s)",
    )
    parser.add_argument("--out", default="submission.csv", help="the submission to write")
    args = parser.parse_args(argv)
    try:
        print(predict_submission(bundle, Path(args.test), Path(args.sample), Path(args.out)))
    except FoldwiseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
