"""Every path the kit writes, in one place (all relative to the working directory, but for
the per-user cache: :func:`cache_root`).

Experiment, submission, study and dataset names become file and folder names here, so
each is checked to be a plain name first: a name such as ``../x`` or ``/abs/x`` would
otherwise write outside the project (or over another run's files).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import FoldwiseError

RUNS = Path("runs")
SUBMISSIONS = Path("submissions")
FOLDS = Path("folds")
STUDIES = Path("studies")

_NAME = re.compile(r"[A-Za-z0-9_.+-]+")

#: files ``ensemble`` writes beside ``submissions/<name>.csv``, by suffix
SUBMISSION_COMPANIONS = {"record": ".json", "probabilities": ".probs.csv", "plot": ".per_class_f1.png"}
#: the leaderboard scores recorded by ``foldwise lb``: {submission: [{"score", "recorded_at", ...}]}
LEADERBOARD = SUBMISSIONS / "leaderboard.json"
#: CV against LB, redrawn by ``foldwise lb``
CV_VS_LB_PLOT = SUBMISSIONS / "cv_vs_lb.png"


def is_name(value: str) -> bool:
    """True for a plain name: letters, digits and ``-_.+``, not ``.`` or ``..``."""
    return bool(_NAME.fullmatch(value)) and value not in (".", "..")


def check_name(value: str, what: str) -> str:
    """Return ``value`` if it is a plain name (see :func:`is_name`); else a one-line error.

    ``what`` says whose name it is, e.g. ``"experiment name"`` or ``"configs/x.yaml: name"``.
    """
    if not isinstance(value, str) or not is_name(value):
        raise FoldwiseError(
            f"{what} {value!r} is not a valid name: use letters, digits and -_.+ (no path separators, not '.' or '..')"
        )
    return value


def cache_root() -> Path:
    """The per-user cache (``$FOLDWISE_CACHE``, default ``~/.cache/foldwise``): converted
    models, ``precision.json`` (what ``precision: auto`` measured on this machine)."""
    return Path(os.environ.get("FOLDWISE_CACHE") or Path.home() / ".cache" / "foldwise")


def run_dir(experiment: str) -> Path:
    """``runs/<experiment>/``: config, per-fold files, OOF and test probabilities, metrics."""
    return RUNS / check_name(experiment, "experiment name")


def fold_file(experiment: str, fold: int) -> Path:
    """One fold's validation and test probabilities (``.npz``) beside its JSON record."""
    return run_dir(experiment) / f"fold_{fold}.npz"


def fold_dir(experiment: str, fold: int) -> Path:
    """A fold's working folder: epoch checkpoint while training, saved model after."""
    return run_dir(experiment) / f"fold_{fold}"


def submission_csv(name: str) -> Path:
    """``submissions/<name>.csv``, the file to upload.

    A name whose CSV would be another submission's companion file (``small.probs`` ->
    ``small.probs.csv``, the probabilities of ``small``), or one of whose files would be the
    kit's own (``leaderboard`` -> ``leaderboard.json``, the recorded LB scores), is refused.
    """
    check_name(name, "submission name")
    for kit_file in (LEADERBOARD, CV_VS_LB_PLOT):
        if kit_file.name in (f"{name}.csv", *(name + suffix for suffix in SUBMISSION_COMPANIONS.values())):
            raise FoldwiseError(
                f"submission name {name!r}: {kit_file} is the kit's own file, which this "
                "submission's files would overwrite; choose another name"
            )
    for what, suffix in SUBMISSION_COMPANIONS.items():
        stem = suffix.removesuffix(".csv")
        if stem != suffix and name.endswith(stem) and name != stem:
            raise FoldwiseError(
                f"submission name {name!r} ends in {stem!r}: submissions/{name}.csv is the "
                f"{what} file of submission {name.removesuffix(stem)!r}; choose another name"
            )
    return SUBMISSIONS / f"{name}.csv"


def submission_companion(csv: Path, what: str) -> Path:
    """A file written beside a submission CSV: ``what`` is a key of :data:`SUBMISSION_COMPANIONS`."""
    return csv.with_suffix(SUBMISSION_COMPANIONS[what])


def submission_lock(name: str) -> Path:
    """``submissions/.<name>.lock``: held while a submission and its companions are written."""
    return SUBMISSIONS / f".{check_name(name, 'submission name')}.lock"


def folds_csv(dataset: str) -> Path:
    """``folds/<dataset>.csv`` (``id,fold``), written once per dataset."""
    return FOLDS / f"{check_name(dataset, 'dataset name')}.csv"


def study_dir(study: str) -> Path:
    """``studies/<study>/``: a study's summary and plots."""
    return STUDIES / check_name(study, "study name")


def study_db(study: str) -> Path:
    """``studies/<study>.db``, the default sqlite storage of a study."""
    return STUDIES / f"{check_name(study, 'study name')}.db"
