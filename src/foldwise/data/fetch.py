"""The data stage: put a competition's CSVs under ``data/<name>/`` in Kaggle layout.

Copied from an offline mirror when the data config names one already in Kaggle layout;
otherwise built by the converter that ``hub_dataset`` names in
:data:`foldwise.data.converters.CONVERTERS`: from the mirror's raw files when they are there,
else from the Hugging Face hub. Where a converter holds the test labels out, they are
written to ``solution.csv`` beside the competition files (never read by training).
"""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import pandas as pd

from ..config import DataConfig
from ..errors import FoldwiseError
from ..io import artifacts
from .converters import CONVERTERS, Converter, go_emotions_to_kaggle  # noqa: F401 (re-exported)

#: held-out test labels, in the sample submission's format, beside the competition files
SOLUTION_FILE = "solution.csv"


def _converter(cfg: DataConfig, folder: Path, files: list[str]) -> Converter:
    """The converter the data config names, or a one-line error saying what to do."""
    if cfg.hub_dataset is None:
        raise FoldwiseError(
            f"{folder}: put {', '.join(files)} here (no mirror_dir or hub_dataset configured for dataset '{cfg.name}')"
        )
    if cfg.hub_dataset not in CONVERTERS:
        raise FoldwiseError(f"data config: unknown hub_dataset '{cfg.hub_dataset}' (known: {', '.join(CONVERTERS)})")
    return CONVERTERS[cfg.hub_dataset]


def _hub_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean the hub could not be reached or read (no network, offline mode, ...).

    OSError covers ConnectionError and the requests/huggingface_hub HTTP errors; the
    others are the datasets and httpx base classes, when those packages are installed.
    """
    errors: list[type[BaseException]] = [OSError]
    for module, name in (("datasets.exceptions", "DatasetsError"), ("httpx", "HTTPError")):
        try:
            errors.append(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):
            continue
    return tuple(errors)


def write_frames(folder: Path, frames: dict[str, pd.DataFrame], files: dict[str, str], sep: str) -> None:
    """Write each frame atomically; ``solution`` first, so the competition files being
    all there means the whole set was written."""
    targets = {"solution": SOLUTION_FILE, **files} if "solution" in frames else files
    for key, name in targets.items():
        artifacts.write_with(folder / name, lambda tmp, frame=frames[key]: frame.to_csv(tmp, index=False, sep=sep))


def fetch(cfg: DataConfig, force: bool = False) -> tuple[Path, str]:
    """Make sure ``data/<name>/`` holds the competition files.

    Returns
    -------
    (folder, what happened: "present", "copied from <mirror>", "built from <mirror>"
    or "built from the hub (<hub_dataset>)")
    """
    folder = cfg.path
    files = {"train": cfg.train_file, "test": cfg.test_file, "sample_submission": cfg.sample_submission_file}
    if not force and all((folder / f).exists() for f in files.values()):
        return folder, "present"
    mirror = Path(cfg.mirror_dir) if cfg.mirror_dir else None
    if mirror is not None and all((mirror / f).exists() for f in files.values()):
        for f in files.values():
            artifacts.write_with(folder / f, lambda tmp, src=mirror / f: shutil.copyfile(src, tmp))
        return folder, f"copied from {mirror}"
    converter = _converter(cfg, folder, list(files.values()))
    if converter.reads(mirror):
        frames, how = converter.from_mirror(mirror), f"built from {mirror}"
    else:
        try:
            frames, how = converter.from_hub(), f"built from the hub ({cfg.hub_dataset})"
        except _hub_errors() as exc:
            reason = (str(exc).strip().splitlines() or [""])[0]
            raise FoldwiseError(
                f"dataset '{cfg.name}': cannot build it from the hub ({cfg.hub_dataset}): {type(exc).__name__}: "
                f"{reason} -- without network, set mirror_dir in its data config to an offline copy, or put "
                f"{', '.join(files.values())} in {folder}/"
            ) from None
    write_frames(folder, frames, files, cfg.sep)
    return folder, how
