"""Old module names (before the modules were grouped by stage) keep importing.

``import foldwise.metrics`` or ``from foldwise.cv import run_cv`` in a user's script or
notebook still works: the old name is the new module itself (one module object, so
patches and isinstance checks see the same thing). New code imports the new names.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

#: old module name -> its module now
MOVED = {f"foldwise.{old}": f"foldwise.{new}" for old, new in {
    "folds": "data.folds", "converters": "data.converters", "fetch": "data.fetch",
    "labels": "data.labels", "text": "data.text",
    "metrics": "tasks.metrics", "decisions": "tasks.decisions", "thresholds": "tasks.thresholds",
    "evaluation": "tasks.evaluation", "calibration": "tasks.calibration", "ensemble": "tasks.ensemble",
    "backbone": "models.backbone", "model_files": "models.model_files",
    "training": "train.training", "batching": "train.batching", "losses": "train.losses",
    "distributed": "train.distributed",
    "cv": "stages.cv", "make_submission": "stages.make_submission", "predict": "stages.predict",
    "tuning": "stages.tuning", "benchmarks": "stages.benchmarks",
    "artifacts": "io.artifacts", "submission": "io.submission", "report": "io.report", "runs": "io.runs",
    "paths": "io.paths", "kaggle": "io.kaggle",
}.items()}


class _Loader(importlib.abc.Loader):
    def create_module(self, spec):
        module = importlib.import_module(MOVED[spec.name])
        self.own_spec = module.__spec__  # the import system stamps the old name's spec on it next
        return module

    def exec_module(self, module):
        module.__spec__ = self.own_spec  # the new module ran when it was imported; keep its own spec


class MovedModuleFinder(importlib.abc.MetaPathFinder):
    """Finds an old module name and hands back the module it moved to."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, _Loader())


def install() -> None:
    """Put the finder on ``sys.meta_path`` once."""
    if not any(isinstance(finder, MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.append(MovedModuleFinder())
