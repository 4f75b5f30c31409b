"""``foldwise package <submission>``: a folder to upload as a Kaggle dataset that re-makes the
submission in a code competition (no internet at inference).

``packages/<name>/`` holds the member runs' saved fold models (adapters, not merged weights,
for LoRA runs), their configs, thresholds and run records, the submission record (blend
weights, decision, data config), the kit's own package as the inference library, a
``predict.py`` that writes ``submission.csv`` from the competition's ``test.csv``
(:mod:`foldwise.stages.reproduce`), a notebook that runs it, and ``dataset-metadata.json``
for ``kaggle datasets create``. The folder is written whole or not at all, after every fold
model loaded; a member run trained without ``save_models`` first has its fold models trained
again (:mod:`foldwise.stages.refit`).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path

from .. import progress
from ..errors import FoldwiseError
from ..io import artifacts, paths
from ..io.kaggle import kaggle_configured
from ..io.submission import submission_record
from .predict import finished_run_dir, fold_model_loader, run_data_config, run_task, saved_fold_models
from .refit import remake_fold_models
from .reproduce import RECORD

PACKAGES = Path("packages")
#: what a run folder contributes besides its fold models
RUN_FILES = ("run.json", "config.yaml", "thresholds.json")
#: what a bundle holds at its top: an earlier bundle with nothing else may be replaced by a new one
BUNDLE_FILES = (
    "runs",
    "foldwise",
    RECORD,
    "predict.py",
    "predict.ipynb",
    "dataset-metadata.json",
    "expected_submission.csv",
)
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", "checkpoint*", ".lock", ".busy")

#: the bundle's predict.py: fixed text; what differs between bundles (the submission's name, the
#: competition's file names) it reads from submission.json, as data, never pasted into code
PREDICT_PY = '''"""Re-make the submission this bundle was packaged from, offline, from a competition's test file:

    python predict.py                        # on Kaggle: the competition's files under /kaggle/input -> submission.csv
    python predict.py --test test.csv --sample sample_submission.csv --out submission.csv

Written by `foldwise package`; the code is the kit's own (./foldwise), its models ./runs, the
submission's record (name, weights, decision, data config) ./submission.json.
"""
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(HERE))

import foldwise  # noqa: E402  (this folder's copy: sys.path[0])
from foldwise.stages.reproduce import main  # noqa: E402

print(f"foldwise: {Path(foldwise.__file__).parent}", file=sys.stderr)
sys.exit(main(HERE))
'''


def build_package(name: str, out: str | Path | None = None) -> tuple[Path, int]:
    """Write the bundle of ``submissions/<name>.csv``; returns its folder and size in bytes.

    A member run trained without ``save_models`` has its fold models trained again first
    (:mod:`foldwise.stages.refit`). Refuses, in one line and before writing: a submission without
    a record (or whose CSV changed since), a fold model that does not load, and an ``out``
    folder that holds anything but an earlier bundle of this submission.
    """
    csv = paths.submission_csv(name)
    record = submission_record(csv)
    if record is None:
        raise FoldwiseError(
            f"{csv}: no submission record beside it; make it with `foldwise ensemble ... --name {name}`"
        )
    runs = [finished_run_dir(member) for member in record["members"]]
    target = Path(out) if out else PACKAGES / paths.check_name(name, "submission name")
    _check_replaceable(target, name)
    for run in runs:
        remake_fold_models(run)  # a run trained without save_models: its fold models trained again, checked
    folds = {run: saved_fold_models(run) for run in runs}
    for run in runs:
        _check_models_load(run, [f for seeds in folds[run] for f in seeds], name)
    artifacts.remove_stale_temps(target)  # a killed package's half-written bundle
    with artifacts.atomic_dir(target) as tmp:
        for run in runs:
            for file in RUN_FILES:
                if (run / file).exists():
                    _copy(run / file, tmp / "runs" / run.name / file)
            for folder in (f for seeds in folds[run] for f in seeds):  # fold_<k>/model, fold_<k>/seed_<s>/model
                shutil.copytree(folder, tmp / "runs" / run.name / folder.relative_to(run), ignore=SKIPPED)
        shutil.copytree(Path(__file__).resolve().parents[1], tmp / "foldwise", ignore=SKIPPED)
        _copy(paths.submission_companion(csv, "record"), tmp / RECORD)
        (tmp / "predict.py").write_text(PREDICT_PY)
        (tmp / "predict.ipynb").write_text(json.dumps(_notebook(name), indent=1) + "\n")
        (tmp / "dataset-metadata.json").write_text(json.dumps(_metadata(name), indent=1) + "\n")
        _copy(csv, tmp / "expected_submission.csv")  # what predict.py must re-make, to compare on Kaggle
    size = sum(f.stat().st_size for f in target.rglob("*") if f.is_file())
    return target, size


def _check_replaceable(target: Path, name: str) -> None:
    """Refuse to write the bundle over anything but a new or empty folder, or an earlier bundle of
    the same submission holding only the files a bundle has (those alone are replaced)."""
    if not target.exists():
        return
    if not target.is_dir():
        raise FoldwiseError(f"{target}: a file, not a folder; give --out a new or empty folder for the bundle")
    entries = sorted(entry.name for entry in target.iterdir())
    if not entries:
        return
    foreign = [entry for entry in entries if entry not in BUNDLE_FILES]
    made_for = _bundled_submission(target)
    if foreign or made_for != name:
        why = (
            f"{foreign[0]} is not a bundle file"
            if foreign
            else f"it is the bundle of {made_for}"
            if made_for
            else f"it has no {RECORD}"
        )
        raise FoldwiseError(
            f"{target}: not empty and not a bundle of {name} ({why}); package replaces the whole "
            "folder, so give --out a new or empty folder"
        )


def _bundled_submission(folder: Path) -> str | None:
    """The submission whose bundle ``folder`` is (from its record), or None."""
    try:
        return str(artifacts.read_json(folder / RECORD)["name"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _check_models_load(run: Path, folders: list[Path], name: str) -> None:
    """Load every fold model once before the bundle is written: a truncated or damaged file is one
    line here, not an EOFError in the Kaggle notebook."""
    info = artifacts.read_json(run / "run.json")
    load = fold_model_loader(run, run_task(run, run_data_config(run), info))
    for folder in folders:
        try:
            load(folder)
        except FoldwiseError:
            raise
        except Exception as exc:  # whatever a damaged file raises: EOFError, UnpicklingError, safetensors' errors
            reason = (str(exc).strip().splitlines() or ["no message"])[0]
            raise FoldwiseError(
                f"{folder}: this fold model does not load ({type(exc).__name__}: {reason}); delete "
                f"the folder and `foldwise package {name}` trains it again"
            ) from None


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def _notebook(name: str) -> dict:
    """A one-cell Kaggle notebook: attach the bundle as a dataset, run its predict.py."""
    source = [
        "import glob, subprocess, sys\n",
        f"bundle = glob.glob('/kaggle/input/*/predict.py')[0]  # the dataset `foldwise package {name}` made\n",
        "subprocess.run([sys.executable, bundle, '--out', '/kaggle/working/submission.csv'], check=True)\n",
    ]
    return {
        "cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _metadata(name: str) -> dict:
    """``dataset-metadata.json`` for ``kaggle datasets create`` (the owner from KAGGLE_USERNAME)."""
    owner = os.environ.get("KAGGLE_USERNAME") or "<your-kaggle-username>"
    slug = f"foldwise-{name}".lower().replace("_", "-").replace("+", "-").replace(".", "-")
    return {"title": f"foldwise {name}"[:50], "id": f"{owner}/{slug}"[:200], "licenses": [{"name": "CC0-1.0"}]}


def upload(bundle: Path, message: str) -> tuple[bool, str]:
    """``kaggle datasets create`` (first time) or ``version`` the bundle; without the CLI, the command to run."""
    meta = json.loads((bundle / "dataset-metadata.json").read_text())
    if "<your-kaggle-username>" in meta["id"]:
        raise FoldwiseError(f"{bundle}/dataset-metadata.json: set KAGGLE_USERNAME (or edit its id) before uploading")
    create = ["kaggle", "datasets", "create", "-p", str(bundle), "--dir-mode", "zip"]
    version = ["kaggle", "datasets", "version", "-p", str(bundle), "--dir-mode", "zip", "-m", message]
    if not kaggle_configured():
        return False, shlex.join(create)
    exists = subprocess.run(["kaggle", "datasets", "status", meta["id"]], capture_output=True).returncode == 0
    command = version if exists else create
    progress.write(f"$ {shlex.join(command)}")
    if subprocess.run(command).returncode != 0:
        raise FoldwiseError(f"`{shlex.join(command)}` failed (see its message above)")
    return True, shlex.join(command)
