"""Train one fold with an older commit and with this checkout; are the predictions the same?

    .venv/bin/python bench/same_predictions.py --base 15f6698 --config configs/minilm.yaml \
        --set data.max_train_rows=3000 --fold 0

Proves a refactor left a model's results alone without retraining every fold: both
versions run ``foldwise data``, ``folds`` and ``train --folds`` in their own temporary
project (beside a link to ``../shared``, so the offline mirror is found), with this
checkout's Python environment, and the fold's OOF and test probabilities are compared.
Prints each array's largest absolute difference and both wall times; exits 1 when they differ.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]


def export_commit(commit: str, dest: Path) -> None:
    """``src/`` and ``configs/`` of ``commit`` into ``dest``."""
    dest.mkdir(parents=True)
    proc = subprocess.run(["git", "-C", str(REPO), "archive", commit, "src", "configs"], capture_output=True)
    if proc.returncode != 0:
        raise SystemExit(f"error: --base {commit}: not a commit of {REPO} with src/ and configs/")
    archive = proc.stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)


def train_fold(code: Path, project: Path, config: str, overrides: list[str], fold: int) -> float:
    """Run data, folds and one fold of ``train`` with ``code``'s sources; the train wall seconds."""
    shutil.copytree(code / "configs", project / "configs")
    env = {**os.environ, "PYTHONPATH": str(code / "src")}
    cli = [sys.executable, "-m", "foldwise.cli"]
    data = yaml.safe_load((project / config).read_text())["data"]

    def stage(*args: str) -> None:
        if subprocess.run([*cli, *args], cwd=project, env=env).returncode != 0:
            raise SystemExit(f"error: `foldwise {' '.join(args)}` failed with the code of {code}")

    stage("data", data)
    stage("folds", data)
    start = time.perf_counter()
    stage("train", config, *[arg for o in overrides for arg in ("--set", o)], "--folds", str(fold))
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", required=True, help="the older commit")
    parser.add_argument("--config", required=True, help="experiment config, e.g. configs/minilm.yaml")
    parser.add_argument("--set", action="append", default=[], dest="overrides", help="key=value, repeatable")
    parser.add_argument("--fold", type=int, default=0)
    args = parser.parse_args()
    if not (REPO / args.config).is_file():
        raise SystemExit(f"error: --config {args.config}: no such file in {REPO}")

    tmp = Path(tempfile.mkdtemp(prefix="same-predictions-"))
    try:
        (tmp / "shared").symlink_to((REPO.parent / "shared").resolve())
        export_commit(args.base, tmp / "base-code")
        experiment = Path(args.config).stem
        seconds, arrays = {}, {}
        for name, code in (("base", tmp / "base-code"), ("head", REPO)):
            project = tmp / name
            project.mkdir()
            seconds[name] = train_fold(code, project, args.config, args.overrides, args.fold)
            with np.load(project / "runs" / experiment / f"fold_{args.fold}.npz") as npz:
                arrays[name] = {k: npz[k] for k in npz.files}
        same = arrays["base"].keys() == arrays["head"].keys()
        for key, base in arrays["base"].items():
            head = arrays["head"].get(key)
            if head is None or head.shape != base.shape:
                print(f"{key}: shapes differ")
                same = False
            elif base.dtype.kind == "f":
                diff = float(np.abs(base - head).max())
                print(f"{key} {base.shape}: largest absolute difference {diff:.3g}")
                same &= diff == 0.0
            else:
                equal = bool((base == head).all())
                print(f"{key} {base.shape}: {'equal' if equal else 'DIFFERENT'}")
                same &= equal
        print(
            f"train wall: base {seconds['base']:.1f} s, head {seconds['head']:.1f} s "
            f"(head/base {seconds['head'] / seconds['base']:.2f})"
        )
        print("identical predictions" if same else "predictions differ")
        return 0 if same else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
