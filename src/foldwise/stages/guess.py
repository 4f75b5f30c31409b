"""A competition's data config guessed from its files: what ``foldwise init`` writes.

Each setting is a :class:`Guess` with the reason it was made and whether it is sure; the
YAML that :func:`render_yaml` writes carries the reasons as comments, and the unsure ones
say what else it could be. The guesses:

- the files: ``train``/``test``/``sample`` in their names (CSV or TSV);
- the id column: the sample column whose values are the test rows' (``test_id_column``
  beside train's own ``id_column`` when train names its id otherwise);
- text columns: columns of train and test holding free text (several words, mostly
  distinct); two of one kind (named alike, of similar length and words) are a
  ``text_pair``, any other two are joined and asked about;
- the labels: the sample's columns when train has them (0/1 columns, or one column of
  class names), or the train-only column whose values name the sample's columns;
- the task: ``regression`` for target columns of numbers (one not whole, or whole numbers of
  many values; several: ``label_columns``), ``ordinal`` for whole numbers of a few levels (essay
  scores 1..6; unsure, since classes may be named by numbers)
  (:func:`foldwise.tasks.regression.guess.guess_kind`); what ``data.task: auto`` infers for
  labels; ``span`` when a text target is a piece of a text column in nearly every row, else
  ``generation``;
- the metric, which the task kind guesses from the sample's values (fractions: a metric on
  probabilities; :func:`foldwise.tasks.guess_metric`); always marked unsure, since only the
  competition's Evaluation page knows, and a blind guess when every cell of the sample is the
  same 0 or 1 (the submission format is then ``auto``: it follows the metric).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ..config import DataConfig
from ..data.competition import infer_task, refuse_regression
from ..errors import FoldwiseError
from ..io.tables import read_csv
from ..tasks.regression.guess import guess_kind

#: a text column's values have at least this many words on average, and mostly differ
MIN_TEXT_WORDS, MIN_DISTINCT_SHARE = 3.0, 0.5
#: a text target is a span of the context in at least this share of rows
SPAN_SHARE = 0.9
#: a column with at most this many distinct values is categorical (a sentiment, a keyword)
MAX_CATEGORIES = 20
#: two text columns are one pair's sides when named alike (question1/question2, sentence_a/sentence_b,
#: or roles below), their mean lengths are within this ratio and they share this much vocabulary
PAIR_LENGTH_RATIO, PAIR_SHARED_WORDS = 3.0, 0.3
PAIR_SAMPLE_ROWS = 20_000  # the first train rows measured
PAIR_SUFFIX = re.compile(r"[_ -]?([0-9]+|[ab]|left|right|first|second)$")
PAIR_ROLES = ({"anchor", "target"}, {"premise", "hypothesis"}, {"query", "passage"})
SEPARATORS = {".csv": ",", ".tsv": "\t"}
FILE_WORDS = {
    "sample": ("sample_submission", "samplesubmission", "sample", "submission"),
    "train": ("train",),
    "test": ("test",),
}


@dataclass
class Guess:
    """One data-config setting, why it was chosen, and whether the files settle it."""

    key: str
    value: Any
    reason: str
    sure: bool = True


@dataclass
class ConfigGuess:
    """The settings of a data config guessed from a competition's files, in YAML order."""

    name: str
    guesses: list[Guess] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # comment lines above the settings
    short_columns: list[str] = field(default_factory=list)  # input columns of short or repeated values

    def add(self, key: str, value: Any, reason: str, sure: bool = True) -> None:
        self.guesses.append(Guess(key, value, reason, sure))

    def get(self, key: str, default: Any = None) -> Any:
        return next((g.value for g in self.guesses if g.key == key), default)

    def mapping(self) -> dict[str, Any]:
        """The settings as a data-config mapping (what the YAML holds)."""
        return {"name": self.name, **{g.key: g.value for g in self.guesses}}


def competition_files(folder: Path) -> dict[str, Path]:
    """``{"train", "test", "sample"}`` -> the competition file of that role in ``folder``
    (searched recursively; the shortest name wins among several candidates)."""
    found = sorted(
        (
            p
            for p in folder.rglob("*")
            if p.suffix.lower() in SEPARATORS
            and p.is_file()
            and not any(part.startswith(".") for part in p.relative_to(folder).parts)
        ),
        key=lambda p: (len(p.relative_to(folder).parts), len(p.name), p.name),
    )
    files: dict[str, Path] = {}
    for role in ("sample", "train", "test"):  # the sample first: 'sample_submission' never counts as a test file
        stem_words = FILE_WORDS[role]
        candidates = [
            p
            for p in found
            if p not in files.values() and any(word in p.stem.lower().replace("-", "_") for word in stem_words)
        ]
        if candidates:
            files[role] = candidates[0]
    missing = [role for role in ("train", "test", "sample") if role not in files]
    if missing:
        names = ", ".join(str(p.relative_to(folder)) for p in found) or "no CSV or TSV files"
        what = {"sample": "sample_submission", "train": "train", "test": "test"}[missing[0]]
        raise FoldwiseError(f"{folder}: no {what} file among the competition's files ({names})")
    return files


def guess_config(folder: Path, name: str) -> ConfigGuess:
    """Every data-config setting for the competition files in ``folder`` (see the module docstring)."""
    files = competition_files(folder)
    sep = SEPARATORS[files["train"].suffix.lower()]
    frames = {role: read_csv(path, sep) for role, path in files.items()}
    train, test, sample = frames["train"], frames["test"], frames["sample"]
    guess = ConfigGuess(name)
    for role, key in (("train", "train_file"), ("test", "test_file"), ("sample", "sample_submission_file")):
        relative = str(files[role].relative_to(folder))
        if relative != {"train": "train.csv", "test": "test.csv", "sample": "sample_submission.csv"}[role]:
            guess.add(key, relative, f"the {role} file ({len(frames[role]):,} rows)")
    if sep != ",":
        guess.add("sep", sep, "the files are tab-separated (.tsv)")
    train_id, id_column = _guess_id(guess, train, test, sample, files["sample"])
    targets = [c for c in sample.columns if c != id_column]
    texts, others = _text_columns(train, test, exclude={train_id, id_column, *targets})
    guess.short_columns = others
    if not texts:
        raise FoldwiseError(
            f"{files['test']}: no column holds free text (columns: {', '.join(test.columns)}); "
            "foldwise needs at least one text column"
        )
    _guess_labels(guess, train, sample, id_column, targets, texts, others, files["train"])
    _guess_metric(guess, sample, id_column, targets)
    if guess.get("kaggle_competition") is None:
        guess.add("kaggle_competition", name, "the slug `foldwise submit` uploads to")
    return guess


def _guess_id(
    guess: ConfigGuess, train: pd.DataFrame, test: pd.DataFrame, sample: pd.DataFrame, sample_path: Path
) -> tuple[str, str]:
    """(train's id column, the test and sample id column): one name in all three files, or
    train's own (``id``) beside test's (``test_id``) as older competitions have them."""
    for column in sample.columns:
        if column in test.columns and set(sample[column]) == set(test[column]):
            rows = f"the sample's values are the {len(test):,} test rows'"
            if column in train.columns:
                guess.add("id_column", column, f"in train, test and the sample; {rows}")
                return column, column
            train_id = _train_id(train, test)
            if train_id is None:
                guess.add("id_column", column, f"in test and the sample (not in train: add one); {rows}", sure=False)
                return column, column
            guess.add("id_column", train_id, f"train's id column (distinct values; train has no '{column}')")
            guess.add("test_id_column", column, f"the id of test and the sample, and of submissions; {rows}")
            return train_id, column
    column = str(sample.columns[0])
    same_values = [c for c in test.columns if set(test[c]) == set(sample[column])]
    if same_values:  # e.g. 'Id' in the sample, 'ID' in train and test
        raise FoldwiseError(
            f"{sample_path}: the id column '{column}' is called '{same_values[0]}' in test"
            f"{' and train' if same_values[0] in train.columns else ''}; foldwise reads one id "
            f"name in test and the sample: rename one header, then init again"
        )
    guess.add("id_column", column, "the sample's first column (its values do not match a test column)", sure=False)
    return column, column


def _train_id(train: pd.DataFrame, test: pd.DataFrame) -> str | None:
    """Train's own id column when test's is not in train: a train-only column named like an id
    ('id', 'ID', 'row_id') whose values are distinct, the first such; None if there is none."""
    for column in train.columns:
        named = column.lower() == "id" or column.lower().endswith(("_id", "id"))
        if column not in test.columns and named and train[column].notna().all() and train[column].is_unique:
            return column
    return None


def _words(values: pd.Series) -> float:
    return float(values.str.split().str.len().mean()) if len(values) else 0.0


def _text_columns(train: pd.DataFrame, test: pd.DataFrame, exclude: set[str]) -> tuple[list[str], list[str]]:
    """(free-text columns, other columns) shared by train and test, in the test file's order."""
    texts: list[str] = []
    others: list[str] = []
    for column in test.columns:
        if column in exclude or column not in train.columns:
            continue
        values = test[column].dropna().astype(str)
        is_text = (
            _words(values) >= MIN_TEXT_WORDS
            and values.nunique() > MIN_DISTINCT_SHARE * len(values)
            and pd.to_numeric(values, errors="coerce").isna().mean() > 0.5
        )
        (texts if is_text else others).append(column)
    return texts, others


def _is_01(values: pd.Series) -> bool:
    return set(values.dropna().str.strip()) <= {"0", "1"}


def _guess_labels(
    guess: ConfigGuess,
    train: pd.DataFrame,
    sample: pd.DataFrame,
    id_column: str,
    targets: list[str],
    texts: list[str],
    others: list[str],
    train_path: Path,
) -> None:
    """Text columns, label keys and task (the task as ``data.task: auto`` infers it for labels)."""
    if not targets:
        raise FoldwiseError(f"sample submission: no column besides the id '{id_column}'")
    unread = f"; not read: {', '.join(others)} (short or repeated values)" if others else ""
    if len(targets) == 1 and targets[0] in train.columns and _is_text_target(train[targets[0]]):
        _guess_text_target(guess, train, targets[0], texts, others)
        return
    _add_text_columns(guess, train, texts, unread)
    if all(t in train.columns for t in targets):
        numbers = guess_kind(train, sample, targets)
        if numbers is not None:
            if len(targets) > 1:
                guess.add("label_columns", targets, "the sample's columns, numbers in train, each a target")
            guess.add("task", numbers.kind, numbers.why, sure=numbers.sure)
            return
        if len(targets) == 1 and not _is_01(train[targets[0]]):
            refuse_regression(train[targets[0]], train_path, targets[0])
            guess.add("label_column", targets[0], "train's column of the sample's one target, holding class names")
        else:
            guess.notes.append(
                f"labels: the sample's {_count(targets, 'column')} ({_shown(targets)}), 0/1 in train "
                "(label_columns defaults to the sample's columns)"
            )
    else:
        column = _label_source(train, targets, id_column, set(texts) | set(others) | {guess.get("id_column")})
        if column is None:
            raise FoldwiseError(
                f"{train_path}: no column holds the sample's targets ({_shown(targets)}), nor "
                "names them; write label_columns or label_column in the data config by hand"
            )
        numbers = guess_kind(train, sample, [column]) if len(targets) == 1 else None
        if numbers is not None and numbers.kind == "regression":  # whole numbers: classes, as before
            guess.add("target_column", column, f"the train-only column; the sample calls its target '{targets[0]}'")
            guess.add("task", numbers.kind, numbers.why)
            return
        guess.add(
            "label_column",
            column,
            f"the train-only column whose values name the sample's {len(targets)} columns"
            if len(targets) > 1
            else f"the train-only column; the sample calls its target '{targets[0]}'",
            sure=len(targets) > 1,
        )
        if len(targets) > 1:
            guess.add("label_names", targets, "the sample's columns, in its order")
    known = {
        k: v for k, v in guess.mapping().items() if k in ("id_column", "test_id_column", "label_column", "label_names")
    }
    task, reason = infer_task(DataConfig(**known), train, sample, train_path)
    guess.add("task", task, reason.removeprefix("inferred: "))


def _count(items: list, noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def _shown(names: list[str], count: int = 4) -> str:
    return ", ".join(names[:count]) + (f", ... ({len(names)} in all)" if len(names) > count else "")


def _add_text_columns(guess: ConfigGuess, train: pd.DataFrame, texts: list[str], unread: str) -> None:
    """``text_pair`` for two text columns of one kind (named alike, of similar length and words),
    ``text_columns`` for the others (two of them asked about in a note)."""
    words = "free text"
    if len(texts) != 2:
        guess.add("text_columns", texts, f"{words}{unread}")
        return
    alike = _pair_likeness(train, texts)
    if alike is not None:
        guess.add(
            "text_pair",
            texts,
            f"a pair of one kind ({alike}): models see the two sides apart, and TF-IDF their overlap{unread}",
        )
        return
    guess.add("text_columns", texts, f"two {words} columns, joined{unread}", sure=False)
    guess.notes.append(
        f"two text columns: a sentence pair ({texts[0]} / {texts[1]}: premise and hypothesis, "
        "two questions)? then write `text_pair: [" + ", ".join(texts) + "]` instead of "
        "text_columns, so that models see the two sides apart"
    )


def _pair_likeness(train: pd.DataFrame, columns: list[str]) -> str | None:
    """Why two text columns are the two sides of one pair (question1/question2), or None: their
    names differ only by a number, letter or side (or are a known pair of roles), their mean
    lengths are within PAIR_LENGTH_RATIO, and they share PAIR_SHARED_WORDS of the smaller vocabulary."""
    first, second = (name.lower() for name in columns)
    numbered = PAIR_SUFFIX.sub("", first) == PAIR_SUFFIX.sub("", second)
    if not numbered and {first, second} not in PAIR_ROLES:
        return None
    sides = [train[c].iloc[:PAIR_SAMPLE_ROWS].dropna().astype(str) for c in columns]
    lengths = [_words(side) for side in sides]
    vocabularies = [set(side.str.lower().str.split().explode().dropna()) for side in sides]
    shared = len(vocabularies[0] & vocabularies[1]) / max(1, min(len(v) for v in vocabularies))
    if max(lengths) > PAIR_LENGTH_RATIO * max(min(lengths), 1e-9) or shared < PAIR_SHARED_WORDS:
        return None
    names = "names differing by a number or letter" if numbered else "a known pair of roles"
    return f"{names}; {lengths[0]:.0f} and {lengths[1]:.0f} words on average; {shared:.0%} shared words"


def _is_text_target(values: pd.Series) -> bool:
    """A target column of free text (an answer, a summary) rather than class names."""
    values = values.dropna().astype(str)
    numbers = pd.to_numeric(values, errors="coerce").notna().mean() if len(values) else 0.0
    return (
        bool(len(values))
        and numbers < 0.5
        and (
            _words(values) >= MIN_TEXT_WORDS or values.nunique() > max(MAX_CATEGORIES, MIN_DISTINCT_SHARE * len(values))
        )
    )


def _guess_text_target(
    guess: ConfigGuess, train: pd.DataFrame, target: str, texts: list[str], others: list[str]
) -> None:
    """A text target: a span of one text column (extractive QA, Tweet Sentiment Extraction), else generation."""
    answers = train[target].fillna("").astype(str).str.strip()
    for context in texts:
        inside = np.mean([a in c for a, c in zip(answers, train[context].fillna("").astype(str)) if a])
        if inside >= SPAN_SHARE:
            questions = [c for c in texts + others if c != context]
            guess.add("task", "span", f"'{target}' is a piece of '{context}' in {inside:.0%} of train rows")
            guess.add("context_column", context, "the text holding the answers")
            guess.add("answer_column", target, "the sample's target column, a piece of the context")
            if questions:
                guess.add(
                    "question_column",
                    questions[0],
                    "the other input column (a question, a sentiment)",
                    sure=len(questions) == 1,
                )
            return
    guess.add("task", "generation", f"'{target}' holds free text that is not a piece of an input column")
    guess.add("text_columns", texts, "the inputs the target is written from")
    guess.add("target_column", target, "the sample's target column, free text in train")


def _label_source(train: pd.DataFrame, targets: list[str], id_column: str, inputs: set[str]) -> str | None:
    """The train-only column holding the labels of the sample's targets: the one naming them
    (class names as the sample's probability columns), else the only train-only column."""
    candidates = [c for c in train.columns if c != id_column and c not in inputs and c not in targets]
    for column in candidates:
        if set(targets) <= set(train[column].dropna().str.strip()):
            return column
    return candidates[0] if len(candidates) == 1 and len(targets) == 1 else None


def _guess_metric(guess: ConfigGuess, sample: pd.DataFrame, id_column: str, targets: list[str]) -> None:
    """The metric the task kind guesses from the sample (:func:`foldwise.tasks.guess_metric`), with
    the submission format it implies; always unsure, and blind where the sample says nothing."""
    from ..tasks import SampleFacts, guess_metric

    facts = SampleFacts(
        sample,
        id_column,
        targets,
        one_label_column=guess.get("label_column") is not None and len(targets) == 1,
        label_names=guess.get("label_names"),
        short_question=guess.get("question_column") in guess.short_columns,
    )
    made = guess_metric(guess.get("task"), facts)
    certainty = (
        "unsure, read the Evaluation page"
        if made.constant is None
        else f"a blind guess, read the Evaluation page (the sample's cells are all {made.constant}, "
        "which say nothing of the metric)"
    )
    guess.add("metric", made.metric, f"{certainty}: {made.why}", sure=False)
    if made.submission_format is not None:
        guess.add("submission_format", *made.submission_format)


def render_yaml(guess: ConfigGuess, header: list[str]) -> str:
    """The data config as YAML: ``header`` comment lines, the notes, then one setting a line with
    its reason (``# unsure: ...`` for guesses to check)."""
    lines = [f"# {line}" for line in header] + [f"# {note}" for note in guess.notes]
    settings: list[tuple[str, Any, str, bool]] = [("name", guess.name, "data/<name>/, folds/<name>.csv", True)]
    settings += [(g.key, g.value, g.reason, g.sure) for g in guess.guesses]
    settings.append(("folds", {"n_splits": 5, "seed": 42}, "written once by `foldwise folds`", True))
    for key, value, reason, sure in settings:
        text = yaml.safe_dump({key: value}, default_flow_style=True, width=10_000, allow_unicode=True).strip()
        text = text[1:-1] if text.startswith("{") else text  # {key: value} -> key: value
        mark = "" if sure or reason.startswith("unsure") else "unsure: "
        lines.append(f"{text}  # {mark}{reason}")
    return "\n".join(lines) + "\n"
