"""Score one fold model of a span run on the held-out test rows, before the other folds exist.

    .venv/bin/python bench/span_fold.py configs/squad-minilm.yaml --fold 0 --solution data/squad/solution.csv

A span benchmark's held-out score needs every fold (their character scores are averaged);
this reads ``runs/<exp>/fold_<k>.npz`` of a run trained with ``--folds k`` and prints that
fold's validation score (its OOF rows) and its own test score against the solution file,
each with the metric's secondary scores.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from foldwise.data import load_competition
from foldwise.data.folds import read_folds
from foldwise.experiment import load_experiment
from foldwise.io import paths
from foldwise.io.tables import read_csv
from foldwise.tasks import competition_task
from foldwise.tasks.span.task import SpanTruth, _gold_list


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("config", help="the span experiment, e.g. configs/squad-minilm.yaml")
    parser.add_argument("--fold", type=int, default=0)
    parser.add_argument("--solution", required=True, help="id,<answer column> (a JSON list of gold answers per cell)")
    args = parser.parse_args()
    cfg = load_experiment(args.config)
    data = load_competition(cfg.data)
    task = competition_task(cfg.data, data)
    ids, valid, test = task.load_fold(paths.fold_file(cfg.name, args.fold))
    position = {id_: i for i, id_ in enumerate(data.train_ids)}
    rows = np.array([position[i] for i in ids])
    assert (read_folds(cfg.data, data.train_ids)[rows] == args.fold).all()
    scores = task.untuned_scores(valid, task.truth(data)[rows])
    print(f"fold {args.fold}: {len(rows)} validation rows: {task.untuned_text(scores)}")
    solution = read_csv(Path(args.solution))
    golds = dict(zip(solution[cfg.data.id_column], solution[task.answer_column]))
    answers = [_gold_list(golds[i]) for i in data.test_ids]
    empty = np.array([""] * len(answers), dtype=object)
    truth = SpanTruth(empty, empty, answers, np.zeros(len(answers), dtype=np.int64))
    print(f"fold {args.fold} alone on {len(answers)} test rows: {task.untuned_text(task.untuned_scores(test, truth))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
