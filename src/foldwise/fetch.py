"""The data stage: put a competition's CSVs under ``data/<name>/`` in Kaggle layout.

Copied from an offline mirror when the data config names one that exists; otherwise
built from the Hugging Face hub by a converter registered in :data:`HUB_CONVERTERS`.
"""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from . import artifacts
from .config import DataConfig
from .errors import FoldwiseError


def go_emotions_to_kaggle(splits: Any) -> dict[str, pd.DataFrame]:
    """Convert the hub's ``go_emotions/simplified`` DatasetDict to Kaggle CSV frames.

    ``train`` + ``validation`` become train.csv (``id,text`` + 28 0/1 label columns),
    ``test`` texts become test.csv (``id,text``), and sample_submission.csv holds the
    test ids with every label 0.

    Parameters
    ----------
    splits : mapping with "train", "validation", "test" datasets having ``id``, ``text``
        and ``labels`` (a list of class indices whose feature carries the label names).
    """
    names = list(splits["train"].features["labels"].feature.names)

    def labelled(split) -> pd.DataFrame:
        rows = split.to_dict()
        frame = pd.DataFrame({"id": rows["id"], "text": rows["text"]})
        for j, name in enumerate(names):
            frame[name] = [int(j in labels) for labels in rows["labels"]]
        return frame

    train = pd.concat([labelled(splits["train"]), labelled(splits["validation"])], ignore_index=True)
    test_rows = splits["test"].to_dict()
    test = pd.DataFrame({"id": test_rows["id"], "text": test_rows["text"]})
    sample = pd.DataFrame(0, index=range(len(test)), columns=names)
    sample.insert(0, "id", test["id"])
    return {"train": train, "test": test, "sample_submission": sample}


def _load_go_emotions() -> dict[str, pd.DataFrame]:
    from datasets import load_dataset

    return go_emotions_to_kaggle(load_dataset("google-research-datasets/go_emotions", "simplified"))


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


#: hub_dataset value -> function returning {"train", "test", "sample_submission"} frames
HUB_CONVERTERS: dict[str, Callable[[], dict[str, pd.DataFrame]]] = {
    "go_emotions": _load_go_emotions,
}


def fetch(cfg: DataConfig, force: bool = False) -> tuple[Path, str]:
    """Make sure ``data/<name>/`` holds the competition files.

    Returns
    -------
    (folder, what happened: "present", "copied from <mirror>" or "built from the hub")
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
    if cfg.hub_dataset is None:
        raise FoldwiseError(f"{folder}: put {', '.join(files.values())} here (no mirror_dir or hub_dataset "
                            f"configured for dataset '{cfg.name}')")
    if cfg.hub_dataset not in HUB_CONVERTERS:
        raise FoldwiseError(f"data config: unknown hub_dataset '{cfg.hub_dataset}' "
                            f"(known: {', '.join(HUB_CONVERTERS)})")
    try:
        frames = HUB_CONVERTERS[cfg.hub_dataset]()
    except _hub_errors() as exc:
        reason = (str(exc).strip().splitlines() or [""])[0]
        raise FoldwiseError(
            f"dataset '{cfg.name}': cannot build it from the hub ({cfg.hub_dataset}): {type(exc).__name__}: "
            f"{reason} -- without network, set mirror_dir in its data config to an offline copy, or put "
            f"{', '.join(files.values())} in {folder}/") from None
    for key, f in files.items():
        artifacts.write_with(folder / f, lambda tmp, frame=frames[key]: frame.to_csv(tmp, index=False, sep=cfg.sep))
    return folder, f"built from the hub ({cfg.hub_dataset})"
