"""Typed experiment configuration: dataclasses, YAML loading and ``--set`` overrides.

An experiment YAML holds only what differs from the defaults below. ``data`` is either
a mapping or the name of a file under ``<configs>/data/`` (``data: goemotions``).
``model.kind`` picks the model's own dataclass from :mod:`foldwise.models`. A key that
no dataclass declares is an error naming the key and the file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from .errors import FoldwiseError


def option(text: str, default: Any = dataclasses.MISSING, **kwargs: Any) -> Any:
    """A dataclass field with help text (shown by ``foldwise config --help-keys``)."""
    if isinstance(default, (list, dict)):
        value = default
        return field(default_factory=lambda: type(value)(value), metadata={"help": text}, **kwargs)
    return field(default=default, metadata={"help": text}, **kwargs)


@dataclass
class FoldsConfig:
    """How the training rows are split into K folds (written once to ``folds/``)."""

    n_splits: int = option("number of folds K", 5)
    seed: int = option("shuffle seed of the fold split", 42)


@dataclass
class DataConfig:
    """Where a competition's CSVs live and how to read ids, texts and labels."""

    name: str = option("dataset name: data/<name>/ and folds/<name>.csv", "goemotions")
    dir: str = option("folder with the competition files ('{name}' is replaced)", "data/{name}")
    train_file: str = option("training CSV inside dir", "train.csv")
    test_file: str = option("test CSV inside dir", "test.csv")
    sample_submission_file: str = option("sample submission CSV inside dir", "sample_submission.csv")
    sep: str = option("column separator of the CSV files", ",")
    id_column: str = option("id column, shared by train, test and sample submission", "id")
    text_columns: list[str] = option("text column(s); several are joined with text_joiner", ["text"])
    text_joiner: str = option("separator placed between several text columns", " | ")
    task: Literal["multilabel", "multiclass"] = option("multilabel (sigmoid) or multiclass (softmax)", "multilabel")
    label_columns: list[str] | None = option(
        "0/1 label columns in train; default: the sample submission's columns but the id", None)
    label_column: str | None = option(
        "one train column holding label names or indices (a list for multilabel, e.g. "
        "\"['joy', 'love']\" or '3 17'); use instead of label_columns", None)
    label_names: list[str] | None = option(
        "label names in order, for label_column; default: the sample submission's columns", None)
    missing_text: Literal["error", "fill"] = option("empty or NaN text: refuse, or fill with fill_text", "error")
    fill_text: str = option("replacement for empty text when missing_text is 'fill'", "")
    max_train_rows: int | None = option("small-data switch: keep only the first N training rows", None)
    folds: FoldsConfig = field(default_factory=FoldsConfig)
    mirror_dir: str | None = option("offline copy of the files that `foldwise data` copies from", None)
    hub_dataset: str | None = option("built-in converter (foldwise.converters) that `foldwise data` runs on "
                                     "mirror_dir's raw files, or on the hub copy without them", None)
    kaggle_competition: str | None = option("competition slug for `foldwise submit`", None)

    @property
    def path(self) -> Path:
        """The folder holding the competition files."""
        return Path(self.dir.format(name=self.name))


@dataclass
class TextConfig:
    """Text cleaning steps, each off by default."""

    strip_urls: bool = option("replace URLs with a space", False)
    strip_users: bool = option("remove @user mentions and Reddit u/user names", False)
    demojize: bool = option("emoji to text, e.g. :red_heart: (emoji.demojize)", False)
    normalize_whitespace: bool = option("collapse runs of white space and trim", False)
    lowercase: bool = option("lower-case the text", False)


@dataclass
class ThresholdConfig:
    """How probabilities become 0/1 labels (fit on out-of-fold predictions only)."""

    mode: Literal["per_class", "global", "fixed"] = option(
        "per_class: each label's F1-optimal cut; global: one cut for all; fixed: value", "per_class")
    value: float = option("the cut for mode 'fixed'", 0.5)
    at_least_one: bool = option("a row with no label above its cut gets its best label", False)


@dataclass
class TuneConfig:
    """How `foldwise tune` searches this experiment (see foldwise.tuning)."""

    folds: int | None = option("objective over the first k folds (None: all folds)", None)
    pruner: Literal["median", "hyperband", "none"] = option("stops bad trials after their first fold(s)", "median")
    startup_trials: int = option("random trials before TPE and the pruner take over", 5)
    space: dict[str, Any] | None = option(
        "key -> {type: float|int|categorical, low, high, log, step, choices}; default per model kind", None)


@dataclass
class ExperimentConfig:
    """One experiment: data, text cleaning, model, thresholds and seed."""

    name: str = option("experiment name: runs/<name>/", "experiment")
    seed: int = option("seed for model initialisation and sampling", 42)
    save_models: bool = option("keep each fold's fitted model under runs/<exp>/fold_<k>/model/ "
                               "(needed by `foldwise predict`)", False)
    data: DataConfig = field(default_factory=DataConfig)
    text: TextConfig = field(default_factory=TextConfig)
    model: Any = None  # the dataclass registered for model.kind
    thresholds: ThresholdConfig = field(default_factory=ThresholdConfig)
    tune: TuneConfig = field(default_factory=TuneConfig)

    def to_dict(self) -> dict[str, Any]:
        """The resolved config as plain data (what is saved as config.yaml)."""
        return dataclasses.asdict(self)

    def training_fingerprint(self) -> str:
        """Hash of everything that changes a fold's predictions.

        Thresholds and submission settings are post-processing and do not count, so
        changing them reuses trained folds.
        """
        resolved = self.to_dict()
        data = {k: v for k, v in resolved["data"].items()
                if k not in ("mirror_dir", "hub_dataset", "kaggle_competition")}
        payload = {"data": data, "text": resolved["text"], "model": resolved["model"], "seed": self.seed}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------
# building dataclasses from plain data, strictly

def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _coerce(value: Any, tp: Any, key: str, source: str) -> Any:
    """Check ``value`` against the annotation ``tp``; return it (ints widen to float)."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(tp)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(value, option, key, source)
            except FoldwiseError as exc:
                errors.append(str(exc))
        raise errors[0] if len(errors) == 1 else FoldwiseError(
            f"{source}: key '{key}' has value {value!r}, expected {_type_name(tp)}")
    if origin is dict:
        if not isinstance(value, dict):
            raise FoldwiseError(f"{source}: key '{key}' must be a mapping, got {value!r}")
        return value
    if origin is Literal:
        choices = typing.get_args(tp)
        if value not in choices:
            raise FoldwiseError(f"{source}: key '{key}' is {value!r}, expected one of {list(choices)}")
        return value
    if origin is list:
        if isinstance(value, tuple):
            value = list(value)
        if not isinstance(value, list):
            raise FoldwiseError(f"{source}: key '{key}' must be a list, got {value!r}")
        (item_tp,) = typing.get_args(tp) or (Any,)
        return [_coerce(v, item_tp, f"{key}[{i}]", source) for i, v in enumerate(value)]
    if dataclasses.is_dataclass(tp):
        return build(tp, value, source, prefix=key + ".")
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp is float and isinstance(value, str):
        try:  # YAML 1.1 reads 1e-4 (no dot) as a string
            return float(value)
        except ValueError:
            pass
    if tp in (int, float, str, bool):
        if not isinstance(value, tp) or (tp is int and isinstance(value, bool)):
            raise FoldwiseError(f"{source}: key '{key}' has value {value!r}, expected {tp.__name__}")
        return value
    return value


def build(cls: type, raw: Any, source: str, prefix: str = "") -> Any:
    """Build dataclass ``cls`` from a mapping, refusing unknown keys and wrong types."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise FoldwiseError(f"{source}: '{prefix.rstrip('.') or 'config'}' must be a mapping, got {raw!r}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise FoldwiseError(
            f"{source}: unknown key '{prefix}{unknown[0]}' (known keys: {', '.join(sorted(known))})")
    kwargs = {name: _coerce(value, hints[name], prefix + name, source) for name, value in raw.items()}
    return cls(**kwargs)


# ---------------------------------------------------------------------------
# YAML files and --set overrides

def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping, with a one-line error for a missing or malformed file."""
    path = Path(path)
    if not path.is_file():
        raise FoldwiseError(f"{path}: config file not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise FoldwiseError(f"{path}:{where} invalid YAML ({getattr(exc, 'problem', exc)})") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise FoldwiseError(f"{path}: expected a mapping of keys at the top level")
    return raw


def apply_overrides(raw: dict[str, Any], overrides: list[str], source: str = "--set") -> dict[str, Any]:
    """Apply ``key.sub=value`` strings to a nested mapping (values parsed as YAML)."""
    for item in overrides:
        if "=" not in item:
            raise FoldwiseError(f"{source}: '{item}' is not of the form key=value")
        dotted, text = item.split("=", 1)
        value = yaml.safe_load(text) if text.strip() else ""
        node = raw
        parts = dotted.strip().split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                raise FoldwiseError(f"{source}: '{dotted}' goes through '{part}', which is not a mapping")
            node = child
        node[parts[-1]] = value
    return raw


def resolve_data_section(data: Any, configs_dir: Path) -> dict[str, Any]:
    """Turn ``data: <name>`` into the mapping from ``<configs_dir>/data/<name>.yaml``."""
    if isinstance(data, str):
        return read_yaml(configs_dir / "data" / f"{data}.yaml")
    return dict(data or {})


def load_data_config(path: str | Path, overrides: list[str] | None = None) -> DataConfig:
    """Load a dataset config file (``configs/data/<name>.yaml``)."""
    raw = apply_overrides(read_yaml(path), overrides or [])
    return build(DataConfig, raw, str(path))


def load_experiment(path: str | Path, overrides: list[str] | None = None) -> ExperimentConfig:
    """Load an experiment YAML, resolve its data section, apply overrides, validate.

    Parameters
    ----------
    path : experiment YAML file; its stem is the default experiment name.
    overrides : ``["model.C=2", "data.max_train_rows=500"]`` style strings.
    """
    from .models import model_config_class  # models import config; avoid a cycle

    path = Path(path)
    raw = read_yaml(path)
    raw.setdefault("name", path.stem)
    raw["data"] = resolve_data_section(raw.get("data"), path.parent)
    raw = apply_overrides(raw, overrides or [])
    model_raw = dict(raw.pop("model", None) or {})
    kind = model_raw.pop("kind", None)
    if kind is None:
        raise FoldwiseError(f"{path}: missing key 'model.kind'")
    config = build(ExperimentConfig, raw, str(path))
    model_cls = model_config_class(kind, source=str(path))
    config.model = build(model_cls, model_raw, str(path), prefix="model.")
    return config


def to_yaml(config: ExperimentConfig | DataConfig) -> str:
    """The resolved config as YAML text."""
    data = dataclasses.asdict(config)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def describe_keys(cls: type, prefix: str = "") -> list[tuple[str, str, str]]:
    """(key, default, help) rows for a config dataclass, nested ones flattened."""
    rows = []
    for f in dataclasses.fields(cls):
        hint = typing.get_type_hints(cls)[f.name]
        if dataclasses.is_dataclass(hint):
            rows += describe_keys(hint, prefix + f.name + ".")
            continue
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = None
        rows.append((prefix + f.name, repr(default), f.metadata.get("help", "")))
    return rows
