"""Optuna studies whose objective is the kit's own cross-validated competition metric.

One study per experiment and dataset, in any storage Optuna speaks: sqlite under
``studies/`` by default, a SQLAlchemy URL (PostgreSQL) for many workers, or a journal
file on a shared filesystem. ``trials`` is the total the study should reach across
restarts. Workers send heartbeats; a worker killed mid-trial leaves a trial that the
next worker marks failed and re-queues with the same parameters.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import tempfile
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..config import ExperimentConfig, apply_overrides, read_yaml
from ..data.competition import load_competition, resolved_task
from ..data.folds import read_folds
from ..data.text import clean_texts
from ..errors import FoldwiseError
from ..experiment import load_experiment
from ..io import artifacts, paths
from ..redact import mask_secrets, mask_url, remember_url
from ..tasks import competition_task, untuned_keys
from ..tasks.metrics import Metric, get_metric

#: environment variable holding the storage URL when --storage is not given (keeps a
#: database password off the command line, out of shell history and `make`'s echo)
STORAGE_ENV = "FOLDWISE_STORAGE"


@contextlib.contextmanager
def _quiet_experimental() -> Iterator[None]:
    """Optuna labels heartbeats, stale-trial retries and some plots 'experimental'; they are
    relied on here on purpose, so the label is not repeated on every call."""
    from optuna.exceptions import ExperimentalWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        yield


#: search spaces used when the experiment YAML has no ``tune.space``
DEFAULT_SPACES: dict[str, dict[str, dict[str, Any]]] = {
    "tfidf": {
        "model.C": {"type": "float", "low": 0.25, "high": 32.0, "log": True},
        "model.alpha": {"type": "float", "low": 0.1, "high": 30.0, "log": True},
        "model.word_ngram_range": {"type": "categorical", "choices": [[1, 1], [1, 2], [1, 3]]},
        "model.char_ngram_range": {"type": "categorical", "choices": [[], [2, 4], [2, 5], [1, 6]]},
        "model.char_max_features": {"type": "int", "low": 50000, "high": 500000, "log": True},
        "model.sublinear_tf": {"type": "categorical", "choices": [True, False]},
        "model.class_weight": {"type": "categorical", "choices": [None, "balanced"]},
    },
    "transformer": {
        "model.lr": {"type": "float", "low": 1.0e-5, "high": 2.0e-4, "log": True},
        "model.head_lr": {"type": "float", "low": 1.0e-4, "high": 1.0e-2, "log": True},
        "model.weight_decay": {"type": "float", "low": 0.0, "high": 0.1},
        "model.warmup_ratio": {"type": "float", "low": 0.0, "high": 0.2},
        "model.epochs": {"type": "int", "low": 1, "high": 5},
        "model.batch_size": {"type": "categorical", "choices": [16, 32, 64]},
        "model.loss": {"type": "categorical", "choices": ["auto", "weighted_bce", "focal", "asl"]},
        "model.focal_gamma": {"type": "float", "low": 0.5, "high": 4.0},
        "model.pooling": {"type": "categorical", "choices": ["cls", "mean"]},
        "model.llrd": {"type": "float", "low": 0.7, "high": 1.0},
        "model.max_length": {"type": "categorical", "choices": [64, 128, 256]},
    },
    "seq2seq": {
        "model.lr": {"type": "float", "low": 1.0e-5, "high": 1.0e-3, "log": True},
        "model.weight_decay": {"type": "float", "low": 0.0, "high": 0.1},
        "model.warmup_ratio": {"type": "float", "low": 0.0, "high": 0.2},
        "model.epochs": {"type": "int", "low": 1, "high": 5},
        "model.batch_size": {"type": "categorical", "choices": [8, 16, 32]},
    },
    "llm": {
        "model.lr": {"type": "float", "low": 5.0e-5, "high": 1.0e-3, "log": True},
        "model.lora_r": {"type": "categorical", "choices": [8, 16, 32, 64]},
        "model.lora_alpha_over_r": {"type": "categorical", "choices": [0.5, 1.0, 2.0, 4.0]},
        "model.lora_dropout": {"type": "float", "low": 0.0, "high": 0.2},
        "model.epochs": {"type": "int", "low": 1, "high": 3},
        "model.target_modules": {
            "type": "categorical",
            "choices": ["all-linear", ["q_proj", "v_proj"], ["q_proj", "k_proj", "v_proj", "o_proj"]],
        },
    },
}


@dataclass
class Param:
    """One searched config key and its distribution."""

    key: str
    type: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: list | None = None

    def suggest(self, trial: Any) -> Any:
        """Draw a value; list-valued choices travel through Optuna as their JSON text."""
        if self.type == "float":
            return trial.suggest_float(self.key, self.low, self.high, log=self.log, step=self.step)
        if self.type == "int":
            low, high = self._bounds()
            return trial.suggest_int(self.key, int(low), int(high), log=self.log, step=int(self.step or 1))
        encoded = [_encode(c) for c in self._options()]
        return _decode(trial.suggest_categorical(self.key, encoded))

    def include(self, value: Any) -> None:
        """Widen the space to hold ``value`` (the experiment's own), so it can be trial 0."""
        if self.type == "categorical":
            if value not in self._options():
                self.choices = [*self._options(), value]
        elif value is not None and not (self.log and value <= 0):
            low, high = self._bounds()
            self.low, self.high = min(low, value), max(high, value)

    def example(self) -> Any:
        """A value inside the space (used to check the key before any trial runs)."""
        if self.type == "categorical":
            return self._options()[0]
        low, _ = self._bounds()
        return int(low) if self.type == "int" else float(low)

    def _bounds(self) -> tuple[float, float]:
        """``(low, high)`` of a numeric key (its space was checked to have them)."""
        if self.low is None or self.high is None:
            raise ValueError(f"{self.key}: a {self.type} search space needs low and high")
        return self.low, self.high

    def _options(self) -> list:
        """The choices of a categorical key (its space was checked to have them)."""
        if self.choices is None:
            raise ValueError(f"{self.key}: a categorical search space needs choices")
        return self.choices


def _encode(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, (list, dict)) else value


def _decode(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) and value[:1] in "[{" else value


def parse_space(raw: dict[str, Any], source: str) -> list[Param]:
    """Validate a ``key: {type, low, high, log | choices}`` mapping into Params."""
    params = []
    for key, spec in raw.items():
        if not isinstance(spec, dict) or spec.get("type") not in ("float", "int", "categorical"):
            raise FoldwiseError(f"{source}: search space '{key}' needs type float, int or categorical")
        unknown = set(spec) - {"type", "low", "high", "log", "step", "choices"}
        if unknown:
            raise FoldwiseError(f"{source}: search space '{key}' has unknown field '{sorted(unknown)[0]}'")
        if spec["type"] == "categorical" and not spec.get("choices"):
            raise FoldwiseError(f"{source}: search space '{key}' needs a non-empty 'choices' list")
        if spec["type"] != "categorical" and (spec.get("low") is None or spec.get("high") is None):
            raise FoldwiseError(f"{source}: search space '{key}' needs 'low' and 'high'")
        params.append(Param(key=key, **{k: v for k, v in spec.items()}))
    return params


def override_strings(values: dict[str, Any]) -> list[str]:
    """``{"model.C": 2.0}`` -> ``["model.C=2.0"]`` (values as JSON, which YAML reads)."""
    return [f"{key}={json.dumps(value)}" for key, value in values.items()]


def search_space(path: Path, cfg: ExperimentConfig) -> list[Param]:
    """The experiment's ``tune.space`` or its kind's default; every key checked up front.

    An unknown key fails here, before the first trial, with the config loader's error.
    """
    raw = cfg.tune.space
    if raw is None:
        raw = dict(DEFAULT_SPACES.get(cfg.model.kind) or {})
        untuned = untuned_keys(resolved_task(cfg.data))
        raw = {key: spec for key, spec in raw.items() if key not in untuned}
    if not raw:
        raise FoldwiseError(f"{path}: no tune.space given and no default space for kind '{cfg.model.kind}'")
    params = parse_space(raw, str(path))
    for param in params:
        load_experiment(path, override_strings({param.key: param.example()}))
        param.include(_config_value(cfg, param.key))
    return params


def _config_value(cfg: ExperimentConfig, key: str) -> Any:
    node: Any = cfg.to_dict()
    for part in key.split("."):
        node = node[part]
    return list(node) if isinstance(node, tuple) else node


def current_values(cfg: ExperimentConfig, params: list[Param]) -> dict[str, Any]:
    """The experiment's own values of the searched keys (the study's first trial)."""
    return {
        p.key: _encode(_config_value(cfg, p.key)) if p.type == "categorical" else _config_value(cfg, p.key)
        for p in params
    }


# ---------------------------------------------------------------------------
# objective


class CVObjective:
    """Optuna objective: the OOF competition metric after decisions over the first ``n_folds`` folds.

    After each fold the running score (decisions fit on the OOF rows so far) is
    reported, so a pruner can stop a bad trial after its first fold(s). The study
    maximises, so a loss (log_loss) is reported negated; summaries show it as it is.
    """

    def __init__(self, path: Path, overrides: list[str], params: list[Param], n_folds: int | None):
        from .cv import train_fold

        self._train_fold = train_fold
        self.path, self.overrides, self.params = path, overrides, params
        base = load_experiment(path, overrides)
        self.data = load_competition(base.data)
        self.task = competition_task(base.data, self.data)
        self.fold = read_folds(base.data, self.data.train_ids)
        self.folds = sorted(np.unique(self.fold))[: n_folds or None]
        self._texts: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def _clean(self, cfg: ExperimentConfig) -> tuple[np.ndarray, np.ndarray]:
        key = json.dumps(cfg.to_dict()["text"], sort_keys=True)
        if key not in self._texts:
            self._texts[key] = (
                clean_texts(self.data.train_texts, cfg.text),
                clean_texts(self.data.test_texts, cfg.text),
            )
        return self._texts[key]

    def __call__(self, trial: Any) -> float:
        import optuna

        values = {p.key: p.suggest(trial) for p in self.params}
        cfg = load_experiment(self.path, self.overrides + override_strings(values))
        train_texts, test_texts = self._clean(cfg)
        data, task = self.data, self.task
        truth = task.truth(data)
        rows_done, preds_done = [], []  # the folds trained so far: their rows and predictions
        score = 0.0
        for step, k in enumerate(self.folds):
            with tempfile.TemporaryDirectory() as workdir:
                try:
                    result = self._train_fold(
                        cfg, data, task, train_texts, test_texts[:0], self.fold, k, resume=False, workdir=Path(workdir)
                    )
                except Exception as exc:  # noqa: BLE001 - only CUDA OOM is turned into a pruned trial
                    if not _is_cuda_oom(exc):
                        raise
                    _free_cuda()
                    trial.set_user_attr("pruned_reason", f"CUDA out of memory: {str(exc).splitlines()[0]}")
                    raise optuna.TrialPruned("CUDA out of memory") from None
            rows_done.append(result.valid_rows)
            preds_done.append(result.valid_preds)
            covered = np.concatenate(rows_done)  # the running OOF: every fold trained so far, in row order
            order = np.argsort(covered, kind="stable")
            oof = task.take(task.concat(preds_done), order)
            score = task.objective(cfg.thresholds, task.take(truth, covered[order]))(oof)
            trial.report(score, step)
            if trial.should_prune():
                reason = f"running CV {metric_line(self.task.metric, score)} after fold {k}"
                trial.set_user_attr("pruned_reason", reason)
                raise optuna.TrialPruned()
        return score


def _is_cuda_oom(exc: BaseException) -> bool:
    try:
        import torch

        return isinstance(exc, torch.cuda.OutOfMemoryError) or "CUDA out of memory" in str(exc)
    except ImportError:
        return False


def _free_cuda() -> None:
    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:
        pass


# ---------------------------------------------------------------------------
# studies


def default_storage(cfg: ExperimentConfig) -> str:
    """``sqlite:///studies/<study>.db`` (the study named by :func:`study_name`)."""
    db = paths.study_db(study_name(cfg))
    db.parent.mkdir(exist_ok=True)
    return f"sqlite:///{db}"


def storage_url(storage: str | None, cfg: ExperimentConfig) -> str:
    """``--storage``, else ``$FOLDWISE_STORAGE``, else the study's sqlite file (its password,
    if any, is masked in every message from here on, the database driver's included)."""
    url = storage or os.environ.get(STORAGE_ENV) or default_storage(cfg)
    remember_url(url)
    return url


def is_journal(url: str) -> bool:
    """``journal:path`` or ``*.log``: a journal file, which has no heartbeats."""
    return url.startswith("journal:") or url.endswith(".log")


def open_storage(url: str, heartbeat: int, grace: int, max_retry: int) -> Any:
    """An Optuna storage: RDB (sqlite, PostgreSQL, ...) with heartbeats and retries of
    trials whose worker died, or a journal file (``journal:path`` or ``*.log``)."""
    from optuna.storages import JournalStorage, RDBStorage, RetryHeartbeatStaleTrialCallback
    from optuna.storages.journal import JournalFileBackend

    if is_journal(url):
        path = url.removeprefix("journal:")
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            return JournalStorage(JournalFileBackend(path))
        except OSError as exc:
            raise FoldwiseError(
                f"storage {url}: the journal file cannot be written ({exc.strerror}: "
                f"{exc.filename or path!r}); give a file in a folder you can write, e.g. "
                "journal:studies/<name>.log"
            ) from None
    _check_url(url)
    with _quiet_experimental():
        retry = RetryHeartbeatStaleTrialCallback(max_retry=max_retry)
        try:
            return RDBStorage(
                url, heartbeat_interval=heartbeat, grace_period=grace, heartbeat_stale_trial_callback=retry
            )
        except ImportError:
            raise FoldwiseError(
                f"storage {mask_url(url)}: no database driver for this URL (PostgreSQL: pip install 'psycopg[binary]')"
            ) from None


def _check_url(url: str) -> None:
    """One line, before any connection, for a URL SQLAlchemy cannot parse (a non-numeric
    port even raises a bare ValueError there)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(url)
    except ArgumentError as exc:
        raise FoldwiseError(f"storage {mask_url(url)}: {mask_secrets(str(exc))}") from None
    except ValueError as exc:
        raise FoldwiseError(
            f"storage {mask_url(url)}: invalid URL, e.g. a port that is not a number ({mask_secrets(str(exc))})"
        ) from None


def make_pruner(name: str, startup_trials: int) -> Any:
    """MedianPruner (default), Hyperband, or none."""
    import optuna

    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=startup_trials, n_warmup_steps=0)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner()
    return optuna.pruners.NopPruner()


def study_name(cfg: ExperimentConfig) -> str:
    """One study per dataset and experiment: ``<dataset>-<exp>``, or ``<exp>`` alone when it
    already starts with ``<dataset>-`` (``comp-tfidf`` on ``comp``, not ``comp-comp-tfidf``)."""
    if cfg.name.startswith(f"{cfg.data.name}-"):
        return cfg.name
    return f"{cfg.data.name}-{cfg.name}"


def finished_count(study: Any) -> int:
    """Trials that count towards the target: complete or pruned."""
    from optuna.trial import TrialState

    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))


def open_study(
    path: str | Path,
    storage: str | None = None,
    overrides: list[str] | None = None,
    heartbeat: int = 30,
    grace: int = 90,
    max_retry: int = 2,
) -> Any:
    """Create or join the experiment's study (safe when many workers start at once).

    A new study gets the experiment's current config enqueued as its first trial, so
    tuning never ends worse than the starting point.
    """
    cfg = load_experiment(path, overrides or [])
    return _open_study(
        Path(path), cfg, search_space(Path(path), cfg), storage_url(storage, cfg), heartbeat, grace, max_retry
    )


def _open_study(
    path: Path, cfg: ExperimentConfig, params: list[Param], url: str, heartbeat: int, grace: int, max_retry: int
) -> Any:
    import optuna

    def create() -> Any:
        return optuna.create_study(
            study_name=study_name(cfg),
            storage=open_storage(url, heartbeat, grace, max_retry),
            load_if_exists=True,
            direction="maximize",
            sampler=optuna.samplers.TPESampler(seed=None, n_startup_trials=cfg.tune.startup_trials),
            pruner=make_pruner(cfg.tune.pruner, cfg.tune.startup_trials),
        )

    study = _retry_on_race(create, url)
    if not study.trials:
        study.set_user_attr("experiment", str(path))
        study.enqueue_trial(current_values(cfg, params), user_attrs={"source": "current config"}, skip_if_exists=True)
    return study


class StopAtTarget:
    """Stop a worker once finished trials plus trials other workers are running reach
    ``trials``, so parallel workers do not overshoot the target.

    On storages with heartbeats, stale trials of dead workers are failed (and re-queued)
    first, so they are not counted as running. A journal file has no heartbeats: there
    only finished trials count, and parallel workers may overshoot by a trial each.
    """

    def __init__(self, trials: int, heartbeats: bool = True):
        self.trials, self.heartbeats = trials, heartbeats

    def __call__(self, study: Any, trial: Any) -> None:
        from optuna.storages import fail_stale_trials
        from optuna.trial import TrialState

        count = finished_count(study)
        if self.heartbeats:
            with _quiet_experimental():
                fail_stale_trials(study)
            count += len(study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))
        if count >= self.trials:
            study.stop()


def run_study(
    path: str | Path,
    trials: int,
    timeout: float | None = None,
    storage: str | None = None,
    overrides: list[str] | None = None,
    heartbeat: int = 30,
    grace: int = 90,
    max_retry: int = 2,
) -> Any:
    """Run (or join, or resume) the experiment's study until it holds ``trials`` finished
    (complete or pruned) trials; ``trials`` is a total across restarts and workers."""
    path, overrides = Path(path), overrides or []
    if trials < 1:
        raise FoldwiseError(f"trials must be at least 1 (the study's total), got {trials}")
    cfg = load_experiment(path, overrides)
    n_splits = cfg.data.folds.n_splits
    if cfg.tune.folds is not None and not 1 <= cfg.tune.folds <= n_splits:
        raise FoldwiseError(f"{path}: tune.folds is {cfg.tune.folds}, but {cfg.data.name} has {n_splits} folds")
    params = search_space(path, cfg)
    url = storage_url(storage, cfg)
    study = _open_study(path, cfg, params, url, heartbeat, grace, max_retry)
    if finished_count(study) >= trials:
        return study
    objective = CVObjective(path, overrides, params, cfg.tune.folds)
    with _without_optuna_trial_lines():
        study.optimize(
            objective,
            timeout=timeout,
            gc_after_trial=True,
            callbacks=[TrialLines(objective.task.metric), StopAtTarget(trials, heartbeats=not is_journal(url))],
        )
    return study


@contextlib.contextmanager
def _without_optuna_trial_lines() -> Iterator[None]:
    """Optuna's own per-trial lines show the maximised value (a loss negated); TrialLines
    prints them instead. Its warnings (a failed trial) still show."""
    import optuna

    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(max(verbosity, optuna.logging.WARNING))
    try:
        yield
    finally:
        optuna.logging.set_verbosity(verbosity)


class TrialLines:
    """One line per finished trial, its CV score as the metric reads with its direction:
    ``trial 3: CV log-loss 0.3710 (lower is better); best: trial 1, log-loss 0.3502; C=2.0``."""

    def __init__(self, metric: Metric):
        self.metric = metric

    def __call__(self, study: Any, trial: Any) -> None:
        from optuna.trial import TrialState

        if trial.state == TrialState.COMPLETE:
            best = study.best_trial
            line = (
                f"trial {trial.number}: CV {metric_line(self.metric, trial.value)}; best: trial {best.number}, "
                f"{self.metric.title} {metric_value(self.metric, best.value):.4f}; {_params_text(trial.params)}"
            )
        elif trial.state == TrialState.PRUNED:
            line = f"trial {trial.number} pruned: {trial.user_attrs.get('pruned_reason', 'by the pruner')}"
        else:
            return  # a failed trial: Optuna's warning says why
        print(line, flush=True)


def _retry_on_race(create: Any, url: str, attempts: int = 5) -> Any:
    """Workers starting together on an empty database race to create its tables and the
    study; the loser's error is harmless, so wait a moment and join what the winner made.
    An error that outlasts the retries (wrong password, no server) is one line naming the URL."""
    import random
    import time

    from sqlalchemy.exc import SQLAlchemyError

    for attempt in range(attempts):
        try:
            return create()
        except SQLAlchemyError as exc:
            if attempt == attempts - 1:
                reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
                raise FoldwiseError(f"storage {mask_url(url)}: {mask_secrets(reason)}") from None
            time.sleep(0.5 + random.random())
    raise AssertionError("unreachable")


def load_study(path: str | Path, storage: str | None = None, overrides: list[str] | None = None) -> Any:
    """The existing study of an experiment (error if none)."""
    import optuna

    cfg = load_experiment(path, overrides or [])
    url = storage_url(storage, cfg)
    try:
        return _retry_on_race(
            lambda: optuna.load_study(study_name=study_name(cfg), storage=open_storage(url, 30, 90, 0)), url, 1
        )
    except KeyError:
        raise FoldwiseError(
            f"no study '{study_name(cfg)}' in {mask_url(url)}; run `foldwise tune {path}` first"
        ) from None


def write_tuned_config(path: str | Path, study: Any) -> Path:
    """``configs/<exp>.tuned.yaml``: the experiment YAML with the best trial's values."""
    path = Path(path)
    raw = read_yaml(path)
    raw.pop("tune", None)
    raw["name"] = f"{path.stem}.tuned"
    best = {k: _decode(v) for k, v in study.best_trial.params.items()}
    apply_overrides(raw, override_strings(best))
    target = path.with_name(f"{path.stem}.tuned.yaml")
    metric = experiment_metric(path)
    header = (
        f"# {path.name} with the best of {finished_count(study)} trials of study '{study.study_name}': "
        f"CV {metric.title} {metric_value(metric, study.best_value):.4f} (trial {study.best_trial.number})\n"
    )
    artifacts.write_text(target, header + yaml.safe_dump(raw, sort_keys=False))
    load_experiment(target)  # the written file must load like any experiment
    return target


def save_study_plots(study: Any, folder: Path) -> list[Path]:
    """Optimisation history, parameter importances and slice plots as PNGs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as ovm

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    plots: dict[str, Callable[..., Any]] = {
        "history": ovm.plot_optimization_history,
        "importances": ovm.plot_param_importances,
        "slice": ovm.plot_slice,
    }
    for name, plot in plots.items():
        try:
            with _quiet_experimental(), warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                result = plot(study)
        except (ValueError, RuntimeError, ZeroDivisionError):  # too few finished trials for this plot
            continue
        axes = np.atleast_1d(result)
        fig = axes.flat[0].get_figure()
        target = folder / f"{name}.png"
        artifacts.write_with(target, lambda tmp: fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png"))
        plt.close(fig)
        written.append(target)
    return written


def state_counts(study: Any) -> dict[str, int]:
    """Trials per state, e.g. ``{"complete": 14, "pruned": 16}``."""
    counts: dict[str, int] = {}
    for t in study.get_trials(deepcopy=False):
        counts[t.state.name.lower()] = counts.get(t.state.name.lower(), 0) + 1
    return dict(sorted(counts.items()))


def study_summary(path: str | Path, study: Any, overrides: list[str] | None = None) -> dict[str, Any]:
    """What a study found: trial counts by state, the starting config's score (the trial
    queued with the current config), the best trial, and the provenance of this summary."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    start = next(
        (t for t in trials if t.user_attrs.get("source") == "current config" and t.state == TrialState.COMPLETE), None
    )
    starts, ends = (
        [t.datetime_start for t in trials if t.datetime_start],
        [t.datetime_complete for t in trials if t.datetime_complete],
    )
    best = study.best_trial
    cfg = load_experiment(path, overrides or [])
    metric = experiment_metric(path, overrides)
    return {
        "study": study.study_name,
        "experiment": str(path),
        "metric": metric.name,
        "trials": state_counts(study),
        "current_config": None
        if start is None
        else {"trial": start.number, "cv_score": metric_value(metric, start.value)},
        "best": {
            "trial": best.number,
            "cv_score": metric_value(metric, best.value),
            "params": {k: _decode(v) for k, v in best.params.items()},
        },
        "wall_seconds": (max(ends) - min(starts)).total_seconds() if starts and ends else None,
        "provenance": artifacts.provenance(cfg.seed),
    }


def experiment_metric(path: str | Path, overrides: list[str] | None = None) -> Metric:
    """The competition metric an experiment's study optimises (its ``data.metric``)."""
    data = load_experiment(path, overrides or []).data
    return get_metric(data.metric, resolved_task(data))


def metric_value(metric: Metric, objective: float) -> float:
    """A study's value (maximised) as the metric reads: a loss comes back un-negated."""
    return metric.from_objective(objective)


def metric_line(metric: Metric, objective: float) -> str:
    """A study's value as the user knows the metric, with its direction:
    ``log-loss 0.3710 (lower is better)``."""
    return f"{metric.title} {metric_value(metric, objective):.4f} ({_direction(metric)})"


def _direction(metric: Metric) -> str:
    return "higher is better" if metric.greater_is_better else "lower is better"


def _params_text(params: dict[str, Any]) -> str:
    """``C=2.0, word_ngram_range=[1, 2]``: a trial's parameters, ``model.`` left out."""
    return ", ".join(f"{k.removeprefix('model.')}={_decode(v)}" for k, v in params.items())


def trials_table(study: Any, top: int = 10, metric: Metric | None = None) -> str:
    """The best finished trials as a text table (values as ``metric`` reads them, when given)."""
    from optuna.trial import TrialState

    finished = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    finished.sort(key=lambda t: -t.value)
    named = f" (values: CV {metric.title}, {_direction(metric)})" if metric else ""
    lines = [f"study {study.study_name}: " + ", ".join(f"{n} {s}" for s, n in state_counts(study).items()) + named]
    for t in finished[:top]:
        value = metric_value(metric, t.value) if metric else t.value
        lines.append(f"  #{t.number:<4} {value:.4f}  {_params_text(t.params)}")
    return "\n".join(lines)
