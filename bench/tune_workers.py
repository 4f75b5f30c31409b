"""Wall time of a 12-trial TF-IDF study with one worker vs two workers on one PostgreSQL study.

    .venv/bin/python bench/tune_workers.py --storage postgresql://postgres:foldwise@127.0.0.1:5432/foldwise_test
    (`bash .ci/postgres.sh` starts a local server and prints such a URL)

Both runs evaluate the same work: the current config plus 11 parameter sets drawn once
from the experiment's search space (seeded) are queued in each fresh study, pruning is off, and every
worker runs with one thread (model.n_jobs=1, OMP/BLAS threads 1), so two workers on a
2-core machine can run two trials at once. The ratio is measured in this run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid

import optuna

from foldwise.experiment import load_experiment
from foldwise.stages.tuning import current_values, open_study, search_space

ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


def parameter_sets(experiment: str, n: int, seed: int) -> list[dict]:
    """The experiment's current values, then ``n - 1`` sets drawn at random (seeded) from
    its search space: the trials each run's study holds."""
    cfg = load_experiment(experiment)
    params = search_space(experiment, cfg)
    scratch = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    sets = [current_values(cfg, params)]
    for _ in range(n - 1):
        trial = scratch.ask()
        for p in params:
            p.suggest(trial)
        sets.append(trial.params)
    return sets


def _canonical(sets: list[dict]) -> list[str]:
    return sorted(json.dumps(values, sort_keys=True) for values in sets)


def run_workers(n_workers: int, args: argparse.Namespace, parameter_sets: list[dict]) -> float:
    """Seconds for ``n_workers`` processes to finish a fresh study that holds ``parameter_sets``."""
    overrides = [
        f"name=bench-{n_workers}w-{uuid.uuid4().hex[:6]}",
        "model.n_jobs=1",
        "tune.pruner=none",
        f"data.max_train_rows={args.rows}",
        f"tune.folds={args.folds}",
    ]
    study = open_study(args.experiment, args.storage, overrides)  # queues the current config (= the first set)
    for values in parameter_sets[1:]:
        study.enqueue_trial(values)
    command = [
        sys.executable,
        "-m",
        "foldwise.cli",
        "tune",
        args.experiment,
        "--trials",
        str(len(parameter_sets)),
        "--storage",
        args.storage,
    ]
    for override in overrides:
        command += ["--set", override]
    env = {**os.environ, **ONE_THREAD}
    start = time.perf_counter()
    workers = [
        subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for _ in range(n_workers)
    ]
    for worker in workers:
        if worker.wait() != 0:
            raise SystemExit(f"error: a worker exited with {worker.returncode}: {worker.stderr.read()[-1500:]}")
    seconds = time.perf_counter() - start
    done = [
        t
        for t in optuna.load_study(study_name=study.study_name, storage=args.storage).trials
        if t.state == optuna.trial.TrialState.COMPLETE
    ]
    if _canonical([t.params for t in done]) != _canonical(parameter_sets):
        raise SystemExit(f"error: the {n_workers}-worker study did not run exactly the queued parameter sets")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", required=True, help="PostgreSQL URL shared by the workers")
    parser.add_argument("--experiment", default="configs/tfidf.yaml")
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--rows", type=int, default=8000, help="GoEmotions training rows used")
    parser.add_argument("--folds", type=int, default=3, help="folds in the objective")
    parser.add_argument("--seed", type=int, default=0, help="seed for drawing the parameter sets")
    args = parser.parse_args()
    sets = parameter_sets(args.experiment, args.trials, args.seed)
    one = run_workers(1, args, sets)
    two = run_workers(2, args, sets)
    print(
        f"{args.trials}-trial TF-IDF study (the same {args.trials} parameter sets in both runs), "
        f"{args.rows} GoEmotions rows, {args.folds}-fold objective, one thread per worker"
    )
    print(f"1 worker : {one:7.1f} s")
    print(f"2 workers: {two:7.1f} s")
    print(f"speed-up : {one / two:.2f}x")


if __name__ == "__main__":
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    main()
