"""Wall time of a 12-trial TF-IDF study with one worker vs two workers on one PostgreSQL study.

    .venv/bin/python bench/tune_workers.py --storage postgresql://postgres:foldwise@127.0.0.1/foldwise_test
    (`bash .ci/postgres.sh` starts a local server and prints such a URL)

Each worker fits with one core (model.n_jobs=1), so two workers on a 2-core machine
can run two trials at once. Both runs use fresh studies with the same settings;
the ratio is measured in this run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import uuid


def run_workers(n_workers: int, args: argparse.Namespace) -> float:
    name = f"bench-{n_workers}w-{uuid.uuid4().hex[:6]}"
    command = [sys.executable, "-m", "foldwise.cli", "tune", args.experiment, "--trials", str(args.trials),
               "--storage", args.storage, "--set", f"name={name}", "--set", "model.n_jobs=1",
               "--set", f"data.max_train_rows={args.rows}", "--set", f"tune.folds={args.folds}"]
    start = time.perf_counter()
    workers = [subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for _ in range(n_workers)]
    codes = [w.wait() for w in workers]
    if any(codes):
        raise SystemExit(f"error: a worker exited with {codes}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", required=True, help="PostgreSQL URL shared by the workers")
    parser.add_argument("--experiment", default="configs/tfidf.yaml")
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--rows", type=int, default=12000, help="GoEmotions training rows used")
    parser.add_argument("--folds", type=int, default=3, help="folds in the objective")
    args = parser.parse_args()
    one = run_workers(1, args)
    two = run_workers(2, args)
    print(f"{args.trials}-trial TF-IDF study, {args.rows} GoEmotions rows, {args.folds}-fold objective")
    print(f"1 worker : {one:7.1f} s")
    print(f"2 workers: {two:7.1f} s")
    print(f"speed-up : {one / two:.2f}x")


if __name__ == "__main__":
    main()
