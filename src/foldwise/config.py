"""Typed experiment configuration: dataclasses, YAML loading and ``--set`` overrides.

An experiment YAML holds only what differs from the defaults below. ``data`` is either
a mapping or the name of a file under ``<configs>/data/`` (``data: goemotions``).
``model.kind`` picks the model's own dataclass from :mod:`foldwise.models`. A key that
no dataclass declares, a value of the wrong type or out of its bounds is an error naming
the key and the file, raised while loading, before anything is written.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import operator
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import yaml

from .errors import FoldwiseError
from .io import paths

#: the folder of experiment YAMLs; dataset configs live in its data/ subfolder
CONFIGS_DIR = Path("configs")

#: bound keyword of :func:`option` -> (comparison that must hold, its symbol in messages)
BOUNDS: dict[str, tuple[Callable[[Any, Any], bool], str]] = {
    "gt": (operator.gt, ">"),
    "ge": (operator.ge, ">="),
    "lt": (operator.lt, "<"),
    "le": (operator.le, "<="),
}


def option(
    text: str | Callable[[], str],
    default: Any = dataclasses.MISSING,
    *,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    **kwargs: Any,
) -> Any:
    """A dataclass field with help text (shown by ``foldwise config --keys``; a function of no
    arguments for help made from a registry when shown) and optional bounds.

    ``gt``/``ge``/``lt``/``le`` bound a number (or each number of a list); :func:`build`
    refuses a value outside them, naming the key. None always passes.
    """
    bounds = {name: bound for name, bound in (("gt", gt), ("ge", ge), ("lt", lt), ("le", le)) if bound is not None}
    metadata = {"help": text, "bounds": bounds}
    if isinstance(default, (list, dict)):
        value = default
        return field(default_factory=lambda: type(value)(value), metadata=metadata, **kwargs)
    return field(default=default, metadata=metadata, **kwargs)


@dataclass
class FoldsConfig:
    """How the training rows are split into K folds (written once to ``folds/``)."""

    n_splits: int = option("number of folds K", 5, ge=2)
    seed: int = option("shuffle seed of the fold split", 42)
    group_column: str | None = option(
        "train column whose equal values stay in one fold (e.g. an NLI premise that comes with "
        "several hypotheses); None: rows are split one by one",
        None,
    )


#: checks across data keys that layers above add (the metric registry: "the metric fits the
#: task"; each task kind: its own keys): ``(cfg) -> [(key, problem), ...]``, run by
#: :meth:`DataConfig.validate`
DATA_CHECKS: list[Callable[[DataConfig], list[tuple[str, str]]]] = []

#: help texts that layers above make (the metric registry lists ``data.metric``'s choices)
GENERATED_HELP: dict[str, Callable[[], str]] = {}


def _registered(what: object) -> None:
    """Refuse to check or describe a data config before the registries above filled their part:
    a data config built with only this module imported would skip those checks silently."""
    if not what:
        raise RuntimeError(
            "the task and metric registries are not loaded: import foldwise.experiment (or foldwise.tasks) "
            "before building or describing a DataConfig"
        )


def _metric_help() -> str:
    """``data.metric``'s help: the metric registry's list (:mod:`foldwise.tasks.metrics` fills it in)."""
    _registered(GENERATED_HELP)
    return GENERATED_HELP["data.metric"]()


@dataclass
class DataConfig:
    """Where a competition's CSVs live and how to read ids, texts and labels."""

    name: str = option("dataset name: data/<name>/ and folds/<name>.csv", "goemotions")
    dir: str = option("folder with the competition files ('{name}' is replaced)", "data/{name}")
    train_file: str = option("training CSV inside dir", "train.csv")
    test_file: str = option("test CSV inside dir", "test.csv")
    sample_submission_file: str = option("sample submission CSV inside dir", "sample_submission.csv")
    sep: str = option("column separator of the CSV files", ",")
    encoding: str | None = option("text encoding of the CSV files, e.g. latin-1 (None: UTF-8)", None)
    id_column: str = option(
        "id column of train (and of test and the sample submission, unless test_id_column names theirs)", "id"
    )
    test_id_column: str | None = option(
        "id column of test and the sample submission when it differs from train's (train 'id', test "
        "'test_id'); submissions use it; None: id_column",
        None,
    )
    text_columns: list[str] = option("text column(s); several are joined with text_joiner", ["text"])
    text_joiner: str = option("separator placed between several text columns (empty ones are left out)", " | ")
    text_pair: list[str] | None = option(
        "two text columns [first, second] read as a sentence pair (NLI, paraphrase): each model sees "
        "both sides apart; use instead of several text_columns",
        None,
    )
    task: Literal["auto", "multilabel", "multiclass", "binary", "span", "generation", "regression", "ordinal"] = option(
        "auto: inferred from the files (real numbers: regression; one 0/1 label column: binary; one "
        "label per row: multiclass; else multilabel), said when data loads; multilabel (a sigmoid per "
        "label), multiclass (softmax), binary (one 0/1 target), span (the answer is a piece of the "
        "context: extractive QA), generation (the target is free text: answers, summaries, rewrites), "
        "regression (one or several numbers per text), ordinal (integer scores decided by cut points "
        "fit on OOF: essay scores)",
        "auto",
    )
    metric: str = option(_metric_help, "macro_f1")
    submission_format: Literal["auto", "binary", "probabilities", "label", "label_list"] = option(
        "auto: inferred from the sample submission; binary: a 0/1 column per label; probabilities: a "
        "probability column per label; label: one column of class names; label_list: one column of "
        "space-separated label names",
        "auto",
    )
    question_column: str | None = option(
        "task span: the question (or sentiment, or any prompt) column; the answer is found in the context", None
    )
    context_column: str | None = option("task span: the column whose text holds the answer", None)
    answer_column: str | None = option(
        "task span: the answer text column of train (also the submission's column)", None
    )
    answer_start_column: str | None = option(
        "task span: the answer's first character in the context (None: found by searching the context)", None
    )
    text_template: str | None = option(
        "the model's input text made from columns, e.g. 'question: {question} context: {context}' "
        "(any task; its {column} names are the text columns read, instead of text_columns)",
        None,
    )
    target_column: str | None = option(
        "task generation: the train column holding the target text (the submission's column is the "
        "sample's one non-id column); tasks regression and ordinal: the train column of the one target "
        "(several: label_columns)",
        None,
    )
    allow_empty_answers: bool = option(
        "task generation: a submission may hold an empty text (else one is refused, naming its row)", False
    )
    label_columns: list[str] | None = option(
        "0/1 label columns in train (tasks regression and ordinal: the target columns); default: the "
        "sample submission's columns but the id",
        None,
    )
    label_column: str | None = option(
        "one train column holding label names or indices (a list for multilabel, e.g. "
        "\"['joy', 'love']\" or '3 17'); use instead of label_columns",
        None,
    )
    label_names: list[str] | None = option(
        "label names in order, for label_column; default: the sample submission's columns", None
    )
    positive_label: str | None = option(
        "binary competitions whose label_column holds two names (e.g. ham/spam): the one that is 1 "
        "(task auto then infers binary); None: the column holds 0/1",
        None,
    )
    label_separator: str = option(
        "how label_column separates names: 'auto' (lists like \"['a', 'b']\" are read as lists; else the "
        "first of '|', ',', ';' found in the column, else white space), 'whitespace', or the separator itself",
        "auto",
    )
    missing_text: Literal["error", "fill"] = option(
        "a row with no text (every text column empty or NaN; either side of a text_pair): refuse, "
        "or fill with fill_text",
        "error",
    )
    fill_text: str = option("replacement for empty text when missing_text is 'fill'", "")
    max_train_rows: int | None = option("small-data switch: keep only the first N training rows", None, ge=1)
    folds: FoldsConfig = field(default_factory=FoldsConfig)
    mirror_dir: str | None = option("offline copy of the files that `foldwise data` copies from", None)
    hub_dataset: str | None = option(
        "built-in converter (foldwise.data.converters) that `foldwise data` runs on "
        "mirror_dir's raw files, or on the hub copy without them",
        None,
    )
    kaggle_competition: str | None = option("competition slug for `foldwise submit`", None)

    def validate(self) -> list[tuple[str, str]]:
        """(key, problem) pairs: a metric that is unknown or does not fit ``task``; a
        text_pair that does not name two columns, or comes with several text_columns; a
        positive_label without a label_column, or with a task other than binary."""
        problems = self._registered_problems() + self._text_pair_problems() + self._template_problems()
        if self.positive_label is not None and not self.label_column:
            problems.append(
                (
                    "positive_label",
                    f"is {self.positive_label!r}, but no label_column names the train column that holds it",
                )
            )
        if self.positive_label is not None and self.task not in ("auto", "binary"):
            problems.append(
                ("positive_label", f"is {self.positive_label!r}, which is for task binary, not {self.task}")
            )
        return problems

    def _registered_problems(self) -> list[tuple[str, str]]:
        """What the layers above check (the metric fits the task; each task kind's own keys)."""
        _registered(DATA_CHECKS)
        return [problem for check in DATA_CHECKS for problem in check(self)]

    @property
    def path(self) -> Path:
        """The folder holding the competition files."""
        return Path(self.dir.format(name=paths.check_name(self.name, "dataset name")))

    @property
    def submission_id_column(self) -> str:
        """The id column of test, the sample submission and every submission: ``test_id_column``,
        else ``id_column``."""
        return self.test_id_column or self.id_column

    @property
    def input_columns(self) -> list[str]:
        """The columns training reads as text: the pair's two, the template's, else text_columns."""
        if self.pair_columns is not None:
            return list(self.pair_columns)
        if self.text_template is not None:
            return self.template_columns
        return list(self.text_columns)

    @property
    def template_columns(self) -> list[str] | None:
        """The columns ``text_template`` names, in order of first use (None without a template)."""
        if self.text_template is None:
            return None
        import string

        names = [field for _, field, _, _ in string.Formatter().parse(self.text_template) if field is not None]
        return list(dict.fromkeys(names))

    def _template_problems(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        if self.text_template is None:
            return problems
        try:
            columns = self.template_columns
        except ValueError as exc:
            return problems + [("text_template", f"is {self.text_template!r}, not a valid template ({exc})")]
        bad = [name for name in columns if not name or name.isdigit() or "." in name or "[" in name]
        if not columns or bad:
            problems.append(
                (
                    "text_template",
                    f"is {self.text_template!r}: it must name columns as {{column}} "
                    "(no positional {} fields, no attribute or index access)",
                )
            )
        elif self.pair_columns is not None:
            problems.append(("text_template", "makes one text; it cannot be used with text_pair or task span"))
        return problems

    @property
    def pair_columns(self) -> list[str] | None:
        """The two columns read as a pair: ``text_pair``, or a span task's question and context
        (their keys belong to task span, which refuses them elsewhere)."""
        if self.question_column is not None and self.context_column is not None:
            return [self.question_column, self.context_column]
        return self.text_pair

    def _text_pair_problems(self) -> list[tuple[str, str]]:
        if self.text_pair is None:
            return []
        if len(self.text_pair) != 2:
            return [("text_pair", f"is {self.text_pair!r}, must name exactly two columns [first, second]")]
        if len(self.text_columns) > 1:
            return [
                (
                    "text_pair",
                    f"and text_columns {self.text_columns!r} both set: set text_pair or several text_columns, not both",
                )
            ]
        return []


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
    """How predictions become decisions: probabilities 0/1 labels, numbers clipped or cut into
    levels (fit on out-of-fold predictions only)."""

    mode: Literal["auto", "per_class", "global", "fixed"] = option(
        "auto: the metric's own search (per-class cuts for multilabel, argmax for multiclass); per_class: "
        "a cut per label; global: one cut for all; fixed: value (the untuned rule)",
        "auto",
    )
    value: float = option("the cut for mode 'fixed'", 0.5, ge=0, le=1)
    at_least_one: bool | None = option(
        "a row with no label above its cut gets its best label; None: kept if it raises the metric on "
        "OOF (metrics scored per row or on pooled counts; never for macro_f1's per-class cuts)",
        None,
    )
    class_bias: bool = option("multiclass: fit a per-class bias on log probabilities on OOF", False)
    clip: bool = option("regression and ordinal: clip predictions to the range of the training targets", True)


@dataclass
class TuneConfig:
    """How `foldwise tune` searches this experiment (see foldwise.stages.tuning)."""

    folds: int | None = option("objective over the first k folds (None: all folds)", None, ge=1)
    pruner: Literal["median", "hyperband", "none"] = option("stops bad trials after their first fold(s)", "median")
    startup_trials: int = option("random trials before TPE and the pruner take over", 5, ge=0)
    space: dict[str, Any] | None = option(
        "key -> {type: float|int|categorical, low, high, log, step, choices}; default per model kind", None
    )


@dataclass
class DistillConfig:
    """Knowledge distillation from a finished teacher run (see foldwise.stages.teachers)."""

    teacher: str | None = option(
        "a finished run (runs/<teacher>/, trained with save_models: true on the same data "
        "and folds) whose fold-k models' probabilities are fold k's soft labels; "
        "None: no distillation",
        None,
    )
    weight: float = option(
        "training targets = (1 - weight) * labels + weight * the teacher's fold-k prediction "
        "(the loss mixes hard and soft targets in that proportion)",
        0.5,
        ge=0.0,
        le=1.0,
    )
    teacher_sha256: str | None = option(
        "set by train: the hash of the teacher's fold models (part of the fingerprint)", None
    )


@dataclass
class PseudoLabelConfig:
    """Pseudo-labelling from a finished submission's test predictions (see foldwise.stages.teachers)."""

    teacher: str | None = option(
        "a finished submission (submissions/<teacher>.csv, fit or mean blend) whose "
        "confident test rows join training; None: no pseudo-labels",
        None,
    )
    mode: Literal["hard", "soft"] = option(
        "hard: the teacher's decisions; soft: its probabilities (numbers: its unclipped predictions)", "hard"
    )
    min_agreement: float = option(
        "the confidence cut is the lowest at which the teacher's OOF decisions on rows "
        "that confident match the truth this often (chosen without the fold's own rows); numbers "
        "(regression, ordinal): the share of test rows added, those the teacher's fold models agree on most",
        0.95,
        gt=0.0,
        le=1.0,
    )
    teacher_sha256: str | None = option("set by train: the teacher submission's hash (part of the fingerprint)", None)


@dataclass
class RemoteConfig:
    """How `foldwise remote kaggle` runs this experiment in a Kaggle kernel (see foldwise.stages.remote)."""

    gpu: bool = option("the kernel gets a GPU", True)
    internet: bool = option(
        "the kernel has internet: it pip-installs what the kit needs beyond Kaggle's image "
        "(and pkg: weights); off where a competition forbids it",
        True,
    )
    per_fold: bool = option("one kernel per fold (a kernel stops after 12 hours)", False)
    private: bool = option("the kernel is private", True)


@dataclass
class ExperimentConfig:
    """One experiment: data, text cleaning, model, thresholds and seed."""

    name: str = option("experiment name: runs/<name>/", "experiment")
    seed: int = option("seed for model initialisation and sampling", 42)
    seeds: list[int] | None = option(
        "multi-seed averaging: each fold trains once per seed and its validation and test predictions are "
        "averaged (the task's combine: mean probabilities, MBR for texts); replaces seed",
        None,
    )
    save_models: bool = option(
        "keep each fold's fitted model under runs/<exp>/fold_<k>/model/ (needed by `foldwise predict`)", False
    )
    data: DataConfig = field(default_factory=DataConfig)
    text: TextConfig = field(default_factory=TextConfig)
    model: Any = None  # the dataclass registered for model.kind
    thresholds: ThresholdConfig = field(default_factory=ThresholdConfig)
    tune: TuneConfig = field(default_factory=TuneConfig)
    remote: RemoteConfig = field(default_factory=RemoteConfig)
    distill: DistillConfig = field(default_factory=DistillConfig)
    pseudo_labels: PseudoLabelConfig = field(default_factory=PseudoLabelConfig)
    #: where :func:`load_experiment` read it: {"file": the YAML, "overrides": the --set strings};
    #: recorded in run.json so that `ensemble` re-reads the current post-processing keys
    source: ClassVar[dict[str, Any] | None] = None

    def validate(self) -> list[tuple[str, str]]:
        """Rules across keys: each seed of ``seeds`` once (a repeated seed trains the same model
        again, and every seed then predicts the same, which says nothing about seed noise)."""
        repeated = sorted({seed for seed in self.seeds or [] if self.seeds.count(seed) > 1})
        if repeated:
            return [("seeds", f"lists seed {repeated[0]} more than once ({self.seeds}); list distinct seeds")]
        return []

    def to_dict(self) -> dict[str, Any]:
        """The resolved config as plain data (what is saved as config.yaml)."""
        return dataclasses.asdict(self)

    def training_fingerprint(self, data_sha256: str | None = None) -> str:
        """Hash of everything that changes a fold's predictions.

        Thresholds and submission settings are post-processing and do not count, so
        changing them reuses trained folds. ``data_sha256`` (``CompetitionData.content_sha256``)
        is appended as ``<config hash>-<data hash>``, so :func:`fingerprint_change` can
        tell a changed config from changed data.
        """
        payload = training_settings(self.to_dict())
        config_hash = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
        return config_hash if data_sha256 is None else f"{config_hash}-{data_sha256}"


def concrete_task(task: str, n_labels: int) -> str:
    """``data.task`` where data was not loaded to infer it: ``auto`` counts as binary for one
    label column, else multilabel (loading the data infers it properly, see
    :func:`foldwise.data.competition.infer_task`)."""
    if task != "auto":
        return task
    return "binary" if n_labels == 1 else "multilabel"


def fingerprint_change(old: str | None, new: str) -> str:
    """What differs between two training fingerprints, for messages: "another config", ..."""
    old_config, _, old_data = (old or "").partition("-")
    new_config, _, new_data = new.partition("-")
    changed = []
    if old_config != new_config:
        changed.append("another config")
    if old_data != new_data:
        changed.append("other data (ids, texts or labels changed since)")
    return " and ".join(changed) or "the same config and data"


#: data keys that never change a fold's predictions: where the files come from, and how
#: predictions are decided, scored and submitted afterwards
POST_TRAINING_DATA_KEYS = (
    "mirror_dir",
    "hub_dataset",
    "kaggle_competition",
    "metric",
    "submission_format",
    "allow_empty_answers",
)


def training_settings(resolved: dict[str, Any]) -> dict[str, Any]:
    """The part of a resolved config (``ExperimentConfig.to_dict()`` or a saved config.yaml)
    that changes a fold's predictions: data (but where it is fetched from and how it is
    scored), text, model, seed.

    Keys left at None are dropped, so adding an optional key to the config (default None)
    keeps the fingerprints of runs trained before it.
    """
    data = {k: v for k, v in (resolved.get("data") or {}).items() if k not in POST_TRAINING_DATA_KEYS}
    teachers = {
        key: resolved.get(key) for key in ("distill", "pseudo_labels") if (resolved.get(key) or {}).get("teacher")
    }  # absent unless used: older fingerprints stay
    return _without_none(
        {
            "data": data,
            "text": resolved.get("text"),
            "model": resolved.get("model"),
            "seed": resolved.get("seed"),
            "seeds": resolved.get("seeds"),
            **teachers,
        }
    )


def _without_none(value: Any) -> Any:
    """A nested mapping without the keys whose value is None."""
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    return value


def changed_settings(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """``["model.C 4.0 -> 8.0", ...]``: the keys whose values differ between two nested mappings."""
    flat_before, flat_after = _flatten(before), _flatten(after)
    return [
        f"{key} {flat_before.get(key)!r} -> {flat_after.get(key)!r}"
        for key in sorted(set(flat_before) | set(flat_after))
        if flat_before.get(key) != flat_after.get(key)
    ]


def _flatten(mapping: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[prefix + key] = value
    return flat


# ---------------------------------------------------------------------------
# building dataclasses from plain data, strictly


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


class ConfigSource(str):
    """The file a config is read from (as text), with the ``--set`` items laid over it: an
    error about a key that an override set names the override, not the file.

    ``prefix`` is put before the override keys (``data.`` when the overrides are data keys
    and the config an experiment's).
    """

    overrides: dict[str, str]

    def __new__(cls, path: str | Path, overrides: list[str], prefix: str = "") -> ConfigSource:
        source = super().__new__(cls, str(path))
        source.overrides = {prefix + ".".join(parse_override(item)[0]): item for item in overrides}
        return source

    def of(self, key: str) -> str:
        """``--set <item>`` when an override set ``key`` (or a mapping holding it, or a key
        inside it), else the file."""
        for dotted, item in reversed(self.overrides.items()):  # the last override of a key wins
            if key == dotted or key.startswith((dotted + ".", dotted + "[")) or dotted.startswith(key + "."):
                return f"--set {item}"
        return str(self)


def _at(source: str, key: str) -> str:
    """Where the value of ``key`` came from, for an error message about it."""
    return source.of(key) if isinstance(source, ConfigSource) else source


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
                errors.append(exc)
        raise (
            errors[0]
            if len(errors) == 1
            else FoldwiseError(f"{_at(source, key)}: key '{key}' has value {value!r}, expected {_type_name(tp)}")
        )
    if origin is dict:
        if not isinstance(value, dict):
            raise FoldwiseError(f"{_at(source, key)}: key '{key}' must be a mapping, got {value!r}")
        return value
    if origin is Literal:
        choices = typing.get_args(tp)
        if value not in choices:
            raise FoldwiseError(f"{_at(source, key)}: key '{key}' is {value!r}, expected one of {list(choices)}")
        return value
    if origin is list:
        if isinstance(value, tuple):
            value = list(value)
        if not isinstance(value, list):
            raise FoldwiseError(f"{_at(source, key)}: key '{key}' must be a list, got {value!r}")
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
            raise FoldwiseError(f"{_at(source, key)}: key '{key}' has value {value!r}, expected {tp.__name__}")
        return value
    return value


def build(cls: type, raw: Any, source: str, prefix: str = "") -> Any:
    """Build dataclass ``cls`` from a mapping, refusing unknown keys, wrong types, numbers
    outside their ``option(...)`` bounds, and what the class's ``validate()`` (if any) reports:
    a list of (key, problem) pairs for rules across keys."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise FoldwiseError(
            f"{_at(source, prefix.rstrip('.'))}: '{prefix.rstrip('.') or 'config'}' must be a mapping, got {raw!r}"
        )
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise FoldwiseError(
            f"{_at(source, prefix + unknown[0])}: unknown key '{prefix}{unknown[0]}' "
            f"(known keys: {', '.join(sorted(known))})"
        )
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for name, value in raw.items():
        kwargs[name] = _coerce(value, hints[name], prefix + name, source)
        _check_bounds(kwargs[name], fields[name].metadata.get("bounds", {}), prefix + name, source)
    built = cls(**kwargs)
    problems = built.validate() if hasattr(built, "validate") else []  # rules across keys
    if problems:
        key, problem = problems[0]
        raise FoldwiseError(f"{_at(source, prefix + key)}: key '{prefix}{key}' {problem}")
    return built


def _check_bounds(value: Any, bounds: dict[str, float], key: str, source: str) -> None:
    """Refuse a number (or a number in a list) outside the field's ``option(..., ge=...)`` bounds."""
    for item in value if isinstance(value, list) else [value]:
        if not isinstance(item, (int, float)) or isinstance(item, bool):
            continue
        for name, bound in bounds.items():
            holds, symbol = BOUNDS[name]
            if not holds(item, bound):
                raise FoldwiseError(f"{_at(source, key)}: key '{key}' is {value!r}, must be {symbol} {bound}")


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


def parse_override(item: str, source: str = "--set") -> tuple[list[str], Any]:
    """``"model.C=2"`` -> (["model", "C"], 2): the dotted key and its value parsed as YAML."""
    if "=" not in item:
        raise FoldwiseError(f"{source}: '{item}' is not of the form key=value")
    dotted, text = item.split("=", 1)
    try:
        value = yaml.safe_load(text) if text.strip() else ""
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise FoldwiseError(f"{source}: '{item}': the value is not valid YAML ({problem})") from None
    return dotted.strip().split("."), value


def set_key(raw: dict[str, Any], parts: list[str], value: Any, source: str) -> None:
    """Set ``raw[parts[0]][parts[1]]... = value``, creating missing mappings on the way."""
    node = raw
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise FoldwiseError(f"{source}: '{'.'.join(parts)}' goes through '{part}', which is not a mapping")
        node = child
    node[parts[-1]] = value


def apply_overrides(raw: dict[str, Any], overrides: list[str], source: str = "--set") -> dict[str, Any]:
    """Apply ``key.sub=value`` strings to a nested mapping (values parsed as YAML)."""
    for item in overrides:
        set_key(raw, *parse_override(item, source), source)
    return raw


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
        bounds = " and ".join(f"{BOUNDS[name][1]} {bound}" for name, bound in f.metadata.get("bounds", {}).items())
        text = f.metadata.get("help", "")
        text = text() if callable(text) else text
        rows.append((prefix + f.name, repr(default), text + (f" ({bounds})" if bounds else "")))
    return rows
