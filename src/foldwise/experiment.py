"""Experiment and dataset configs as the stages load them: YAML files, their ``data:``
section, ``--set`` overrides, the model kind's keys, and the checks that need the task and
metric registries (which sit above :mod:`foldwise.config`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .config import (
    CONFIGS_DIR,
    ConfigSource,
    DataConfig,
    ExperimentConfig,
    apply_overrides,
    build,
    describe_keys,
    parse_override,
    read_yaml,
    set_key,
)
from .errors import FoldwiseError
from .io import paths
from .models import MODEL_KINDS, model_config_class
from .tasks import metrics  # noqa: F401  (registers "data.metric fits data.task" and data.metric's help)


def _names_dataset(parts: list[str], value: Any) -> bool:
    """Whether an override picks a dataset by name: ``data=<name>`` or ``data.name=<name>``."""
    return parts in (["data"], ["data", "name"]) and isinstance(value, str)


def resolve_data_section(data: Any, configs_dir: Path, source: str = "config") -> dict[str, Any]:
    """Turn ``data: <name>`` into the mapping from ``<configs_dir>/data/<name>.yaml``."""
    if isinstance(data, str):
        section = read_yaml(configs_dir / "data" / f"{paths.check_name(data, f'{source}: data')}.yaml")
        section.setdefault("name", data)
        return section
    if not isinstance(data, (dict, type(None))):
        raise FoldwiseError(f"{source}: 'data' must be a dataset name or a mapping, got {data!r}")
    return dict(data or {})


def _load_data_config(path: str | Path, overrides: list[str] | None = None) -> DataConfig:
    """Load a dataset config file (``configs/data/<name>.yaml``; its stem is the default name)."""
    raw = read_yaml(path)
    raw.setdefault("name", Path(path).stem)
    config = build(DataConfig, apply_overrides(raw, overrides or []), ConfigSource(path, overrides or []))
    paths.check_name(config.name, f"{path}: name")
    return config


def load_dataset_config(
    spec: str | Path, overrides: list[str] | None = None, configs_dir: Path = CONFIGS_DIR
) -> DataConfig:
    """The dataset named by ``spec``: a dataset name, a data YAML, or an experiment YAML.

    A name means ``<configs_dir>/data/<name>.yaml``. An experiment YAML (one with a
    ``model:`` key) gives its ``data:`` section without ``max_train_rows``, so that folds
    always cover the whole training set. ``overrides`` are data keys (``folds.n_splits=10``).
    """
    path = Path(spec)
    if path.suffix not in (".yaml", ".yml"):
        path = configs_dir / "data" / f"{paths.check_name(str(spec), 'dataset')}.yaml"
    raw = read_yaml(path)
    if "model" not in raw:
        return _load_data_config(path, overrides)
    section = resolve_data_section(raw.get("data"), path.parent, str(path))
    section.pop("max_train_rows", None)
    return build(
        DataConfig,
        apply_overrides(section, overrides or []),
        ConfigSource(path, overrides or [], "data."),
        prefix="data.",
    )


def load_dataset_configs(
    specs: list[str], overrides: list[str] | None = None, configs_dir: Path = CONFIGS_DIR
) -> list[DataConfig]:
    """The distinct datasets named by ``specs`` (see :func:`load_dataset_config`), in order."""
    configs: list[DataConfig] = []
    for spec in specs:
        cfg = load_dataset_config(spec, overrides, configs_dir)
        if cfg not in configs:
            configs.append(cfg)
    return configs


def load_experiment(path: str | Path, overrides: list[str] | None = None) -> ExperimentConfig:
    """Load an experiment YAML, resolve its data section, apply overrides, validate.

    ``data=<name>`` and ``data.name=<name>`` overrides pick ``configs/data/<name>.yaml``
    (beside the experiment) like ``data: <name>`` in the YAML; the other overrides,
    ``data.*`` ones included, apply on top of it whatever their order.

    Parameters
    ----------
    path : experiment YAML file; its stem is the default experiment name.
    overrides : ``["model.C=2", "data.max_train_rows=500"]`` style strings.
    """
    path = Path(path)
    raw = read_yaml(path)
    raw.setdefault("name", path.stem)
    parsed = [parse_override(item) for item in overrides or []]
    for parts, value in parsed:
        if _names_dataset(parts, value):
            raw["data"] = value
    raw["data"] = resolve_data_section(raw.get("data"), path.parent, str(path))
    for parts, value in parsed:
        if not _names_dataset(parts, value):
            set_key(raw, parts, value, "--set")
    source = ConfigSource(
        path, [item for item, (parts, value) in zip(overrides or [], parsed) if not _names_dataset(parts, value)]
    )
    model_raw = raw.pop("model", None)
    if model_raw is None or (isinstance(model_raw, dict) and "kind" not in model_raw):
        raise FoldwiseError(f"{source.of('model.kind')}: missing key 'model.kind'")
    if not isinstance(model_raw, dict):
        raise FoldwiseError(f"{source.of('model')}: 'model' must be a mapping with a 'kind' key, got {model_raw!r}")
    model_raw = dict(model_raw)
    kind = model_raw.pop("kind")
    config = build(ExperimentConfig, raw, source)
    paths.check_name(config.name, f"{source.of('name')}: name")  # names become runs/, folds/ and studies/ paths
    paths.check_name(config.data.name, f"{source.of('data.name')}: data.name")
    model_cls = model_config_class(kind, source=source.of("model.kind"))
    config.model = build(model_cls, model_raw, source, prefix="model.")
    config.source = {"file": str(path), "overrides": list(overrides or [])}
    return config


def keys_kinds(overrides: list[str], kind: str | None = None) -> list[str]:
    """The model kinds whose keys ``foldwise config --keys`` lists without an experiment:
    ``kind`` ('all' for every kind), else ``--set model.kind=<kind>``, else every kind."""
    named = [value for parts, value in map(parse_override, overrides) if parts == ["model", "kind"]]
    chosen = kind or (str(named[-1]) if named else "all")
    kinds = list(MODEL_KINDS) if chosen == "all" else [chosen]
    for k in kinds:
        model_config_class(k, source="--kind" if kind else "--set model.kind")  # an unknown kind is refused
    return kinds


def experiment_keys(kinds: list[str]) -> list[tuple[str, str, str]]:
    """(key, default, help) rows of every experiment key, then the ``model.*`` keys of each
    kind in ``kinds``, each kind's group opening with its ``model.kind`` row."""
    rows = [row for row in describe_keys(ExperimentConfig) if row[0] != "model"]
    for kind in kinds:
        for key, default, text in describe_keys(model_config_class(kind), "model."):
            if key == "model.kind":
                text = f"one of {', '.join(MODEL_KINDS)}; the model.* keys below are for '{kind}'"
            rows.append((key, default, text))
    return rows
