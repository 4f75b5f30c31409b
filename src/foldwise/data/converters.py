"""Dataset converters: a public dataset's raw files -> a competition in Kaggle layout.

Each dataset has one :class:`Converter` in :data:`CONVERTERS` with two sources that
return the same frames: its raw files in the offline mirror (``from_mirror(folder)``)
and its public copy on the Hugging Face hub (``from_hub()``, via ``datasets.load_dataset``).
The frames are ``train``, ``test`` and ``sample_submission`` and, where the test labels
are held out, ``solution`` (ids and labels in the sample submission's format; written
beside the competition files and never read by training). Adding a dataset is one
function per source plus one registry line; :mod:`foldwise.data.fetch` writes the frames.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import FoldwiseError
from ..io.tables import read_csv
from .competition import _require_columns

Frames = dict[str, pd.DataFrame]

#: seed and share of the fixed held-out test split of movie_genres
MOVIE_GENRES_SEED = 42
MOVIE_GENRES_TEST_SHARE = 0.15


@dataclass(frozen=True)
class Converter:
    """How one dataset becomes competition frames, from the mirror or from the hub.

    Attributes
    ----------
    from_hub : builds the frames from the public hub copy.
    from_mirror : builds the frames from a mirror folder holding ``mirror_files``
        (None: the dataset has no raw-mirror layout).
    mirror_files : the raw files ``from_mirror`` reads inside the mirror folder.
    """

    from_hub: Callable[[], Frames]
    from_mirror: Callable[[Path], Frames] | None = None
    mirror_files: tuple[str, ...] = ()

    def reads(self, mirror: Path | None) -> bool:
        """Whether ``mirror`` holds every raw file this converter's mirror source needs."""
        return (
            self.from_mirror is not None
            and mirror is not None
            and all((mirror / name).is_file() for name in self.mirror_files)
        )


def load_hub(path: str, name: str | None = None, **options: Any) -> Any:
    """``datasets.load_dataset(path, name, **options)``: the one place that reaches the hub."""
    from datasets import load_dataset

    return load_dataset(path, name, **options)


# ---------------------------------------------------------------------------
# shared pieces


def _check_values(frame: pd.DataFrame, column: str, allowed: list[str], path: Path, header: bool = True) -> None:
    """Refuse a value of ``column`` outside ``allowed``, naming the file row."""
    bad = ~frame[column].isin(allowed).to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise FoldwiseError(
            f"{path}: row {row + 1 + header}: column '{column}' has "
            f"{frame[column].iloc[row]!r}, expected one of {allowed}"
        )


def _class_names(split: Any, column: str = "label") -> list[str]:
    """A hub split's ``ClassLabel`` column as class names (-1, "no label", becomes None)."""
    feature = split.features[column]
    return [feature.int2str(v) if v >= 0 else None for v in split[column]]


def _sample_submission(ids: pd.Series, targets: dict[str, Any]) -> pd.DataFrame:
    """``id`` plus one column per target, each filled with its placeholder value."""
    frame = pd.DataFrame({"id": ids.to_numpy()})
    for column, value in targets.items():
        frame[column] = value
    return frame


def _single_label_competition(train: pd.DataFrame, test: pd.DataFrame) -> Frames:
    """Frames of a single-label competition (``id``, text columns, ``label``).

    A labelled ``test`` has its labels held out in ``solution``; the sample submission
    is ``id,label`` holding the most common training class (ties: first by name).
    """
    texts = [c for c in train.columns if c not in ("id", "label")]
    counts = train["label"].value_counts()
    majority = sorted(counts.index[counts == counts.max()])[0]
    frames = {
        "train": train.reset_index(drop=True),
        "test": test[["id", *texts]].reset_index(drop=True),
        "sample_submission": _sample_submission(test["id"], {"label": majority}),
    }
    if "label" in test.columns:
        frames["solution"] = test[["id", "label"]].reset_index(drop=True)
    return frames


def _binary_competition(train: pd.DataFrame, test: pd.DataFrame, labels: list[str]) -> Frames:
    """Frames of a multi-label competition with one 0/1 column per label.

    A test frame that holds the label columns has them held out in ``solution``; the
    sample submission holds every label 0.
    """
    texts = [c for c in test.columns if c not in ("id", *labels)]
    frames = {
        "train": train.reset_index(drop=True),
        "test": test[["id", *texts]].reset_index(drop=True),
        "sample_submission": _sample_submission(test["id"], dict.fromkeys(labels, 0)),
    }
    if set(labels) <= set(test.columns):
        frames["solution"] = test[["id", *labels]].reset_index(drop=True)
    return frames


# ---------------------------------------------------------------------------
# GoEmotions: the mirror is already in Kaggle layout (fetch copies it)


def go_emotions_to_kaggle(splits: Any) -> Frames:
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


def go_emotions_from_hub() -> Frames:
    """GoEmotions (simplified: 27 emotions + neutral) from the hub."""
    return go_emotions_to_kaggle(load_hub("google-research-datasets/go_emotions", "simplified"))


# ---------------------------------------------------------------------------
# AG News: 5-fold CV on the 7,600 rows of the official test split (the mirror has no
# train split); test.csv and the sample submission are empty.


def ag_news_competition(texts: list[str], classes: list[str]) -> Frames:
    """Frames from the test split's texts ("title description") and class names in file order.

    Ids are the row numbers of the split; train.csv is ``id,text,label``, test.csv
    (``id,text``) and sample_submission.csv (``id,label``) have no rows.
    """
    train = pd.DataFrame({"id": [str(i) for i in range(len(texts))], "text": texts, "label": classes})
    return _single_label_competition(train, pd.DataFrame(columns=["id", "text"]))


def ag_news_from_mirror(mirror: Path) -> Frames:
    """``test.csv`` (no header: class 1-4, title, description) and ``classes.txt``."""
    names = [line.strip() for line in (mirror / "classes.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
    path = mirror / "test.csv"
    raw = read_csv(path, header=None, names=["class", "title", "description"])
    _check_values(raw, "class", [str(i + 1) for i in range(len(names))], path, header=False)
    texts = raw["title"].fillna("") + " " + raw["description"].fillna("")  # as the hub joins them
    return ag_news_competition(texts.tolist(), [names[int(c) - 1] for c in raw["class"]])


def ag_news_from_hub() -> Frames:
    """The hub's ``fancyzhx/ag_news`` test split (its ``text`` is "title description")."""
    test = load_hub("fancyzhx/ag_news")["test"]
    return ag_news_competition(list(test["text"]), _class_names(test))


# ---------------------------------------------------------------------------
# MNLI: train = dev-matched, test = dev-mismatched (labels held out in solution.csv)

MNLI_LABELS = ["entailment", "neutral", "contradiction"]


def mnli_competition(matched: pd.DataFrame, mismatched: pd.DataFrame) -> Frames:
    """Frames from the two dev splits (``premise``, ``hypothesis``, ``label``; None: no gold label).

    Rows without a gold label are dropped. pairID repeats within dev-mismatched, so the
    ids are ``matched-<n>`` / ``mismatched-<n>``, n counting the labelled rows of the split
    in file order (the same n as GLUE's ``idx``).
    """

    def labelled(frame: pd.DataFrame, split: str) -> pd.DataFrame:
        kept = frame[frame["label"].notna()].reset_index(drop=True)
        kept.insert(0, "id", [f"{split}-{i}" for i in range(len(kept))])
        return kept[["id", "premise", "hypothesis", "label"]]

    return _single_label_competition(labelled(matched, "matched"), labelled(mismatched, "mismatched"))


def mnli_from_mirror(mirror: Path) -> Frames:
    """``multinli_1.0_dev_{matched,mismatched}.csv`` (pairID,sentence1,sentence2,label; '-' dropped)."""

    def split(name: str) -> pd.DataFrame:
        path = mirror / f"multinli_1.0_dev_{name}.csv"
        raw = read_csv(path)
        _require_columns(raw, ["sentence1", "sentence2", "label"], path)
        _check_values(raw, "label", [*MNLI_LABELS, "-"], path)
        return pd.DataFrame(
            {
                "premise": raw["sentence1"],
                "hypothesis": raw["sentence2"],
                "label": raw["label"].where(raw["label"] != "-"),
            }
        )

    return mnli_competition(split("matched"), split("mismatched"))


def mnli_from_hub() -> Frames:
    """The hub's GLUE ``mnli`` validation_matched / validation_mismatched splits."""
    splits = load_hub("nyu-mll/glue", "mnli")

    def split(name: str) -> pd.DataFrame:
        data = splits[name]
        return pd.DataFrame({"premise": data["premise"], "hypothesis": data["hypothesis"], "label": _class_names(data)})

    return mnli_competition(split("validation_matched"), split("validation_mismatched"))


# ---------------------------------------------------------------------------
# Movie genres (IMDb-style file): a fixed, seeded 15 % held out, multilabel-stratified


def split_genres(cell: str) -> list[str]:
    """The genres of a cell such as "Drama,\\xa0Action" (a comma, then a non-breaking space)."""
    return [g.strip() for g in cell.split(",") if g.strip()]


def held_out_rows(labels: np.ndarray, share: float, seed: int) -> np.ndarray:
    """Boolean mask of the rows held out as test, stratified on a 0/1 label matrix.

    Uses iterative stratification (iterstrat's MultilabelStratifiedShuffleSplit), as
    :mod:`foldwise.data.folds` does for its K folds; deterministic for a given seed.
    """
    from iterstrat.ml_stratifiers import MultilabelStratifiedShuffleSplit

    splitter = MultilabelStratifiedShuffleSplit(n_splits=1, test_size=share, random_state=seed)
    _, test = next(splitter.split(np.zeros(len(labels)), labels))
    mask = np.zeros(len(labels), dtype=bool)
    mask[test] = True
    return mask


def movie_genres_competition(movies: pd.DataFrame) -> Frames:
    """Frames from ``id,title,genre,overview`` rows (genre a comma-separated list).

    train.csv keeps the genre list column as in the source; the held-out test rows'
    genres go to solution.csv as one 0/1 column per genre (sorted by name), the format
    of the sample submission.
    """
    genres = movies["genre"].map(split_genres)
    names = sorted({g for row in genres for g in row})
    onehot = pd.DataFrame([[int(n in row) for n in names] for row in genres], columns=names, index=movies.index)
    test = held_out_rows(onehot.to_numpy(), MOVIE_GENRES_TEST_SHARE, MOVIE_GENRES_SEED)
    held_out = pd.concat([movies.loc[test, ["id", "title", "overview"]], onehot[test]], axis=1)
    return _binary_competition(movies[~test], held_out, names)


def movie_genres_from_mirror(mirror: Path) -> Frames:
    """``imdb_movies.csv`` (names, genre, overview); ids are the file's 0-based data rows.

    Rows without a genre and exact duplicate rows (after the first) are dropped.
    """
    path = mirror / "imdb_movies.csv"
    raw = read_csv(path)
    _require_columns(raw, ["names", "genre", "overview"], path)
    movies = pd.DataFrame(
        {
            "id": [str(i) for i in range(len(raw))],
            "title": raw["names"],
            "genre": raw["genre"],
            "overview": raw["overview"],
        }
    )
    kept = movies["genre"].notna() & ~movies.duplicated(["title", "genre", "overview"])
    return movie_genres_competition(movies[kept])


def movie_genres_from_hub() -> Frames:
    """No canonical hub copy of this IMDb-style file exists: a one-line error."""
    raise FoldwiseError(
        "movie_genres: no canonical copy on the Hugging Face hub; put imdb_movies.csv "
        "(names, genre, overview) in the folder named by mirror_dir"
    )


# ---------------------------------------------------------------------------
# SemEval-2018 Task 1 E-c (English): 5-fold CV on train + dev; test tweets unlabelled


def semeval_ec_competition(labelled: list[pd.DataFrame], test: pd.DataFrame, emotions: list[str]) -> Frames:
    """Frames from labelled ``id,text`` + 0/1 emotion frames (concatenated) and the test tweets."""
    train = pd.concat(labelled, ignore_index=True)
    return _binary_competition(train, test[["id", "text"]], emotions)


def semeval_ec_from_mirror(mirror: Path) -> Frames:
    """``2018-E-c-En-{train,dev,test}.txt`` (tab-separated: ID, Tweet, 11 emotions; test: NONE)."""

    def split(name: str) -> tuple[pd.DataFrame, list[str]]:
        path = mirror / f"2018-E-c-En-{name}.txt"
        raw = read_csv(path, sep="\t", quoting=csv.QUOTE_NONE)
        _require_columns(raw, ["ID", "Tweet"], path)
        emotions = [c for c in raw.columns if c not in ("ID", "Tweet")]
        if name != "test":
            for emotion in emotions:
                _check_values(raw, emotion, ["0", "1"], path)
        return raw.rename(columns={"ID": "id", "Tweet": "text"}), emotions

    (train, emotions), (dev, _), (test, _) = split("train"), split("dev"), split("test")
    return semeval_ec_competition([train, dev], test, emotions)


def semeval_ec_from_hub() -> Frames:
    """The hub's ``subtask5.english`` (read from its parquet export: the repo's loading
    script no longer runs under ``datasets`` 4+); boolean emotions become 0/1."""
    splits = load_hub(
        "SemEvalWorkshop/sem_eval_2018_task_1", data_dir="subtask5.english", revision="refs/convert/parquet"
    )
    emotions = [c for c in splits["train"].column_names if c not in ("ID", "Tweet")]

    def split(name: str) -> pd.DataFrame:
        frame = splits[name].to_pandas().rename(columns={"ID": "id", "Tweet": "text"})
        return frame.astype({e: int for e in emotions})

    return semeval_ec_competition([split("train"), split("validation")], split("test"), emotions)


# ---------------------------------------------------------------------------
# Two benchmarks of other competition shapes, built from the same raw files:
# MNLI as a binary task (entailment or not), AG News with a held-out split scored by log loss

#: seed and share of the fixed held-out test split of ag_news_heldout
AG_NEWS_HELDOUT_SEED = 42
AG_NEWS_HELDOUT_SHARE = 0.15


def entailment_competition(frames: Frames) -> Frames:
    """MNLI's frames as a binary competition: ``entailment`` is 1 for entailment, 0 for
    neutral or contradiction (the two-class formulation of RTE); sample ``id,entailment``."""

    def binary(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.drop(columns="label")
        out["entailment"] = (frame["label"] == "entailment").astype(int)
        return out

    train = binary(frames["train"])
    test = frames["test"].merge(frames["solution"], on="id", how="left", validate="one_to_one")
    return _binary_competition(train, binary(test), ["entailment"])


def ag_news_heldout_competition(frames: Frames) -> Frames:
    """AG News' 7,600 rows with a fixed, seeded, stratified 15 % held out as test, laid out
    like a log-loss competition: the sample holds one probability column per class (the
    class priors), the solution one 0/1 column per class."""
    train = frames["train"]
    names = sorted(train["label"].unique())
    onehot = pd.DataFrame({n: (train["label"] == n).astype(int) for n in names})
    test = held_out_rows(onehot.to_numpy(), AG_NEWS_HELDOUT_SHARE, AG_NEWS_HELDOUT_SEED)
    held_out = pd.concat([train.loc[test, ["id", "text"]], onehot[test]], axis=1)
    priors = {n: round(float(onehot[n][~test].mean()), 4) for n in names}
    return {
        "train": train[~test].reset_index(drop=True),
        "test": held_out[["id", "text"]].reset_index(drop=True),
        "sample_submission": _sample_submission(held_out["id"], priors),
        "solution": held_out[["id", *names]].reset_index(drop=True),
    }


# ---------------------------------------------------------------------------
# SQuAD v1.1: extractive QA. train = a seeded subset of whole train articles; test = the
# full dev set, its gold answers held out in solution.csv (JSON lists of all gold texts)

#: questions the train subset reaches at least, and the seed of the article shuffle
SQUAD_TRAIN_ROWS = 6000
SQUAD_SEED = 42
#: squad_small: the train questions its seeded article subset reaches, and the dev questions it holds out
SQUAD_SMALL_TRAIN_ROWS = 2000
SQUAD_SMALL_TEST_ROWS = 1000
#: the sample submission's answer placeholder (not empty, so the CSV has no empty cells)
SQUAD_PLACEHOLDER = "answer"
SQUAD_FILES = ("train-v1.1.json", "dev-v1.1.json")
#: the columns of the flat question frames both sources produce
SQUAD_QUESTION_COLUMNS = ["id", "title", "question", "context", "answer_texts", "answer_starts"]
#: a carriage return not followed by a line feed: pandas' to_csv leaves it unquoted
_LONE_CR = re.compile(r"\r(?!\n)")


def squad_questions(articles: Any, source: str) -> pd.DataFrame:
    """Flatten SQuAD's ``data`` list (articles -> paragraphs -> qas) to one row per question.

    Parameters
    ----------
    articles : the JSON's ``data`` list: ``{"title", "paragraphs": [{"context", "qas":
        [{"id", "question", "answers": [{"text", "answer_start"}, ...]}]}]}``.
    source : the file (or split) named in errors.

    Returns
    -------
    DataFrame with :data:`SQUAD_QUESTION_COLUMNS` in file order (``answer_texts`` and
    ``answer_starts`` are lists, one entry per gold answer).
    """

    def field(record: Any, key: str, kind: type, where: str) -> Any:
        if not isinstance(record, dict) or key not in record:
            raise FoldwiseError(f"{source}: {where}: missing key '{key}'")
        value = record[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise FoldwiseError(f"{source}: {where}: key '{key}' is {type(value).__name__}, expected {kind.__name__}")
        return value

    if not isinstance(articles, list):
        raise FoldwiseError(f"{source}: 'data' is {type(articles).__name__}, expected a list of articles")
    rows = []
    for a, article in enumerate(articles):
        title = field(article, "title", str, f"article {a}")
        for p, paragraph in enumerate(field(article, "paragraphs", list, f"article {a} ('{title}')")):
            where = f"article {a} ('{title}') paragraph {p}"
            context = field(paragraph, "context", str, where)
            for q, qa in enumerate(field(paragraph, "qas", list, where)):
                qid = field(qa, "id", str, f"{where} question {q}")
                answers = field(qa, "answers", list, f"question '{qid}'")
                rows.append(
                    (
                        qid,
                        title,
                        field(qa, "question", str, f"question '{qid}'"),
                        context,
                        [field(x, "text", str, f"question '{qid}' answer {i}") for i, x in enumerate(answers)],
                        [field(x, "answer_start", int, f"question '{qid}' answer {i}") for i, x in enumerate(answers)],
                    )
                )
    return pd.DataFrame(rows, columns=SQUAD_QUESTION_COLUMNS)


def _check_squad(questions: pd.DataFrame, source: str, spans: bool) -> None:
    """Refuse repeated ids, questions without an answer, a lone carriage return (the CSV
    writer would leave it unquoted) and, with ``spans``, a first answer that is not the
    context slice at its ``answer_start``; errors name the question id."""
    repeated = questions["id"].duplicated()
    if repeated.any():
        raise FoldwiseError(f"{source}: question id '{questions['id'][repeated].iloc[0]}' appears twice")
    for row in questions.itertuples(index=False):
        if not row.answer_texts:
            raise FoldwiseError(f"{source}: question '{row.id}' has no answer")
        for column in ("title", "question", "context"):
            if _LONE_CR.search(getattr(row, column)):
                raise FoldwiseError(
                    f"{source}: question '{row.id}': {column} holds a lone carriage return "
                    "(\\r without \\n), which the CSV writer leaves unquoted"
                )
        if spans:
            text, start = row.answer_texts[0], row.answer_starts[0]
            if not text or row.context[start : start + len(text)] != text:
                raise FoldwiseError(
                    f"{source}: question '{row.id}': answer {text!r} is not the context at answer_start {start}"
                )


def squad_train_articles(titles: pd.Series, rows: int = SQUAD_TRAIN_ROWS, seed: int = SQUAD_SEED) -> list[str]:
    """The titles of the seeded article subset, in file order.

    Articles (one per title, in order of first appearance) are shuffled with ``seed`` and
    taken whole until their questions number at least ``rows`` (all of them if fewer).

    Parameters
    ----------
    titles : the title of each question, in file order.
    """
    counts = titles.value_counts(sort=False).reindex(titles.unique())
    order = np.random.default_rng(seed).permutation(len(counts))
    reached = np.flatnonzero(np.cumsum(counts.to_numpy()[order]) >= rows)
    taken = order[: reached[0] + 1] if len(reached) else order
    return counts.index[np.sort(taken)].tolist()


def squad_competition(
    train: pd.DataFrame,
    dev: pd.DataFrame,
    sources: tuple[str, str] = ("train", "dev"),
    rows: int = SQUAD_TRAIN_ROWS,
    seed: int = SQUAD_SEED,
) -> Frames:
    """Frames of an extractive-QA competition from SQuAD's flat train and dev questions.

    Parameters
    ----------
    train, dev : frames with :data:`SQUAD_QUESTION_COLUMNS` (see :func:`squad_questions`).
    sources : names of the two inputs for error messages.
    rows, seed : the train subset (see :func:`squad_train_articles`).

    Returns
    -------
    ``train`` (``id,title,question,context,answer_text,answer_start``: the subset's
    questions in file order with their first gold answer), ``test`` (``id,title,question,
    context``: every dev question), ``sample_submission`` (``id,answer_text`` holding
    :data:`SQUAD_PLACEHOLDER`) and ``solution`` (``id,answer_text``: a JSON list of every
    gold answer text of the question, repeats kept in order).
    """
    kept = train[train["title"].isin(squad_train_articles(train["title"], rows, seed))].reset_index(drop=True)
    _check_squad(kept, sources[0], spans=True)
    _check_squad(dev, sources[1], spans=False)
    subset = kept[["id", "title", "question", "context"]].copy()
    subset["answer_text"] = [texts[0] for texts in kept["answer_texts"]]
    subset["answer_start"] = pd.Series([starts[0] for starts in kept["answer_starts"]], dtype=int)
    test = dev[["id", "title", "question", "context"]].reset_index(drop=True)
    golds = [json.dumps(texts, ensure_ascii=False) for texts in dev["answer_texts"]]
    return {
        "train": subset,
        "test": test,
        "sample_submission": _sample_submission(test["id"], {"answer_text": SQUAD_PLACEHOLDER}),
        "solution": pd.DataFrame({"id": test["id"].to_numpy(), "answer_text": golds}),
    }


def squad_small_competition(
    train: pd.DataFrame, dev: pd.DataFrame, sources: tuple[str, str] = ("train", "dev")
) -> Frames:
    """:func:`squad_competition` sized for generating answers on a CPU: the first articles of
    the same seeded shuffle until :data:`SQUAD_SMALL_TRAIN_ROWS` questions (a subset of the
    ``squad`` benchmark's train), and a seeded :data:`SQUAD_SMALL_TEST_ROWS` of the dev
    questions, in file order, as the test."""
    rows = min(SQUAD_SMALL_TEST_ROWS, len(dev))
    sample = np.sort(np.random.default_rng(SQUAD_SEED).choice(len(dev), rows, replace=False))
    return squad_competition(train, dev.iloc[sample].reset_index(drop=True), sources, rows=SQUAD_SMALL_TRAIN_ROWS)


def squad_from_mirror(mirror: Path, build: Callable[..., Frames] = squad_competition) -> Frames:
    """``train-v1.1.json`` and ``dev-v1.1.json`` in SQuAD's JSON schema, made into frames by
    ``build`` (:func:`squad_competition` or :func:`squad_small_competition`)."""

    def questions(name: str) -> pd.DataFrame:
        path = mirror / name
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise FoldwiseError(f"{path}: cannot parse JSON ({str(exc).splitlines()[0]})") from None
        if not isinstance(document, dict) or "data" not in document:
            raise FoldwiseError(f"{path}: missing key 'data' (not a SQuAD file)")
        return squad_questions(document["data"], str(path))

    return build(
        questions(SQUAD_FILES[0]),
        questions(SQUAD_FILES[1]),
        (str(mirror / SQUAD_FILES[0]), str(mirror / SQUAD_FILES[1])),
    )


def squad_hub_questions(split: Any) -> pd.DataFrame:
    """A hub split (``id, title, context, question, answers: {text, answer_start}``) as
    :data:`SQUAD_QUESTION_COLUMNS` rows."""
    answers = split["answers"]
    return pd.DataFrame(
        {
            "id": split["id"],
            "title": split["title"],
            "question": split["question"],
            "context": split["context"],
            "answer_texts": [list(a["text"]) for a in answers],
            "answer_starts": [[int(s) for s in a["answer_start"]] for a in answers],
        },
        columns=SQUAD_QUESTION_COLUMNS,
    )


def squad_from_hub(build: Callable[..., Frames] = squad_competition) -> Frames:
    """The hub's ``rajpurkar/squad`` train and validation splits (articles by title), made
    into frames by ``build``."""
    splits = load_hub("rajpurkar/squad")
    return build(
        squad_hub_questions(splits["train"]),
        squad_hub_questions(splits["validation"]),
        ("rajpurkar/squad train", "rajpurkar/squad validation"),
    )


#: the XSum files of the mirror: the validation subset is cross-validated, the test subset held out
XSUM_FILES = ("validation_subset_979.jsonl", "test_subset_1000.jsonl")
#: the placeholder summary of the XSum sample submission
XSUM_PLACEHOLDER = "summary"


def xsum_competition(train: pd.DataFrame, test: pd.DataFrame, sources: tuple[str, str] = ("train", "test")) -> Frames:
    """Frames of a summarization competition from XSum rows (``id, document, summary``).

    Returns ``train`` (``id,document,summary``), ``test`` (``id,document``),
    ``sample_submission`` (``id,summary``) and ``solution`` (``id,summary``). A row without
    a document or summary, a repeated id, or a lone carriage return is refused by id.
    """
    for frame, source in ((train, sources[0]), (test, sources[1])):
        _require_columns(frame, ["id", "document", "summary"], Path(source))
        repeated = frame["id"].duplicated()
        if repeated.any():
            raise FoldwiseError(f"{source}: id '{frame['id'][repeated].iloc[0]}' appears twice")
        for row in frame.itertuples(index=False):
            for column in ("document", "summary"):
                value = getattr(row, column)
                if not isinstance(value, str) or not value.strip():
                    raise FoldwiseError(f"{source}: id '{row.id}': empty {column}")
                if _LONE_CR.search(value):
                    raise FoldwiseError(f"{source}: id '{row.id}': {column} holds a lone carriage return")
    train = train[["id", "document", "summary"]].astype({"id": str}).reset_index(drop=True)
    test = test[["id", "document", "summary"]].astype({"id": str}).reset_index(drop=True)
    return {
        "train": train,
        "test": test[["id", "document"]],
        "sample_submission": _sample_submission(test["id"], {"summary": XSUM_PLACEHOLDER}),
        "solution": test[["id", "summary"]],
    }


def xsum_from_mirror(mirror: Path) -> Frames:
    """The two JSON-lines subsets (``document``, ``summary``, ``id`` per line)."""

    def rows(name: str) -> pd.DataFrame:
        path = mirror / name
        try:
            return pd.DataFrame(
                [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            )
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise FoldwiseError(f"{path}: cannot parse JSON lines ({str(exc).splitlines()[0]})") from None

    return xsum_competition(
        rows(XSUM_FILES[0]), rows(XSUM_FILES[1]), (str(mirror / XSUM_FILES[0]), str(mirror / XSUM_FILES[1]))
    )


def xsum_from_hub() -> Frames:
    """The hub's ``EdinburghNLP/xsum`` validation split (cross-validated) and test split (held out)."""
    splits = load_hub("EdinburghNLP/xsum")

    def frame(split: Any) -> pd.DataFrame:
        return pd.DataFrame({"id": split["id"], "document": split["document"], "summary": split["summary"]})

    return xsum_competition(
        frame(splits["validation"]), frame(splits["test"]), ("EdinburghNLP/xsum validation", "EdinburghNLP/xsum test")
    )


# ---------------------------------------------------------------------------
# Scored targets: STS-B (a 0-5 similarity score per sentence pair; a seeded 20 % held out,
# stratified on score quantiles) and SemEval-2018 V-oc (a valence level -3..3 per tweet; CV only)

#: GLUE's STS-B training split: the pairs the mirror's two files hold together, and its columns
STSB_FILES = ("train.tsv", "dev.tsv")
STSB_PAIRS = 5749
STSB_COLUMNS = (
    "index",
    "genre",
    "filename",
    "year",
    "old_index",
    "source1",
    "source2",
    "sentence1",
    "sentence2",
    "score",
)
#: seed, share and score quantile bins of the held-out test split of stsb
STSB_SEED = 42
STSB_TEST_SHARE = 0.2
STSB_BINS = 10
#: SemEval-2018 Task 1 V-oc (English) training file, its columns and valence levels
VOC_FILE = "2018-Valence-oc-En-train.txt"
VOC_COLUMNS = ("ID", "Tweet", "Affect Dimension", "Intensity Class")
VOC_LEVELS = tuple(range(-3, 4))


def tsv_rows(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    """A tab-separated file without header or quoting (a quote is text) as text columns.

    The frame's index is the file's line number (1-based), which errors name. A line with
    another number of fields than ``columns`` is refused in one line naming file and row.
    """
    if not path.is_file():
        raise FoldwiseError(f"{path}: file not found")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FoldwiseError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    rows = [line.removesuffix("\r").split("\t") for line in text.removesuffix("\n").split("\n")] if text else []
    for number, fields in enumerate(rows, start=1):
        if len(fields) != len(columns):
            raise FoldwiseError(
                f"{path}: row {number}: {len(fields)} tab-separated fields, expected {len(columns)} "
                f"({', '.join(columns)})"
            )
    return pd.DataFrame(rows, columns=list(columns), index=pd.RangeIndex(1, len(rows) + 1))


def _refuse_row(frame: pd.DataFrame, bad: pd.Series, path: Path, column: str, expected: str) -> None:
    """Refuse the first row where ``bad`` holds, naming the file, its row (the frame's index) and cell."""
    if bad.any():
        row = bad.index[bad.to_numpy()][0]
        raise FoldwiseError(f"{path}: row {row}: column '{column}' has {frame.at[row, column]!r}, expected {expected}")


def held_out_on_quantiles(values: np.ndarray, share: float, seed: int, bins: int) -> np.ndarray:
    """Boolean mask of the rows held out as test (``ceil(share * n)`` of them), stratified on
    ``bins`` quantile bins of ``values`` so that both sides keep the same distribution.

    The bins hold equal counts of the values' ranks (ties broken by row order, so that many
    tied scores never leave a bin too small to split), and are fewer where either side has
    fewer rows than ``bins``; deterministic for a given seed and row order (scikit-learn's
    StratifiedShuffleSplit).
    """
    from sklearn.model_selection import StratifiedShuffleSplit

    n = len(values)
    held = math.ceil(share * n)
    ranks = pd.Series(values).rank(method="first").to_numpy() - 1
    codes = (ranks * max(1, min(bins, held, n - held)) // max(n, 1)).astype(int)
    splitter = StratifiedShuffleSplit(n_splits=1, test_size=share, random_state=seed)
    _, test = next(splitter.split(np.zeros(n), codes))
    mask = np.zeros(n, dtype=bool)
    mask[test] = True
    return mask


def stsb_competition(pairs: pd.DataFrame, source: str) -> Frames:
    """Frames of a regression competition from STS-B pairs (``index`` the GLUE row index,
    ``sentence1``, ``sentence2``, ``score`` a float).

    Pairs are put in GLUE order, ids are ``stsb-<index>``, and a seeded, score-stratified
    :data:`STSB_TEST_SHARE` is held out: train.csv ``id,sentence1,sentence2,score``, test.csv
    ``id,sentence1,sentence2``, solution.csv ``id,score`` and a sample submission ``id,score``
    holding the train mean. A repeated index is refused, naming ``source``.
    """
    repeated = pairs["index"].duplicated()
    if repeated.any():
        raise FoldwiseError(f"{source}: GLUE index {pairs['index'][repeated].iloc[0]} appears twice")
    pairs = pairs.sort_values("index", kind="stable")
    frame = pd.DataFrame(
        {
            "id": [f"stsb-{i}" for i in pairs["index"]],
            "sentence1": pairs["sentence1"].to_numpy(),
            "sentence2": pairs["sentence2"].to_numpy(),
            "score": pairs["score"].astype(float).to_numpy(),
        }
    )
    test = held_out_on_quantiles(frame["score"].to_numpy(), STSB_TEST_SHARE, STSB_SEED, STSB_BINS)
    train, held = frame[~test].reset_index(drop=True), frame[test].reset_index(drop=True)
    return {
        "train": train,
        "test": held[["id", "sentence1", "sentence2"]],
        "sample_submission": _sample_submission(held["id"], {"score": round(float(train["score"].mean()), 4)}),
        "solution": held[["id", "score"]],
    }


def stsb_from_mirror(mirror: Path) -> Frames:
    """``train.tsv`` + ``dev.tsv`` (no header, :data:`STSB_COLUMNS`): together GLUE's STS-B
    training split, :data:`STSB_PAIRS` pairs; a bad index or score (not 0-5) is refused by row."""
    frames = []
    for name in STSB_FILES:
        path = mirror / name
        raw = tsv_rows(path, STSB_COLUMNS)
        _refuse_row(raw, ~raw["index"].str.fullmatch(r"\d+"), path, "index", "a GLUE row index (0, 1, ...)")
        score = pd.to_numeric(raw["score"], errors="coerce")
        _refuse_row(raw, ~score.between(0, 5), path, "score", "a number from 0 to 5")
        frames.append(raw.assign(index=raw["index"].astype(int), score=score))
    pairs = pd.concat(frames, ignore_index=True)
    source = f"{mirror}/{{{','.join(STSB_FILES)}}}"
    if len(pairs) != STSB_PAIRS:
        raise FoldwiseError(f"{source}: {len(pairs)} pairs, expected {STSB_PAIRS:,} (GLUE's STS-B training split)")
    return stsb_competition(pairs, source)


def stsb_from_hub() -> Frames:
    """The hub's GLUE ``stsb`` train split (``idx`` is the GLUE index, ``label`` the score)."""
    train = load_hub("nyu-mll/glue", "stsb")["train"]
    pairs = pd.DataFrame(
        {
            "index": train["idx"],
            "sentence1": train["sentence1"],
            "sentence2": train["sentence2"],
            "score": train["label"],
        }
    )
    return stsb_competition(pairs, "nyu-mll/glue stsb train")


def semeval_voc_competition(tweets: pd.DataFrame) -> Frames:
    """Frames of a cross-validated ordinal competition from ``id,text,valence`` rows
    (valence an integer level): train.csv as given; test.csv (``id,text``) and the sample
    submission (``id,valence``) have no rows. A repeated id is refused."""
    repeated = tweets["id"].duplicated()
    if repeated.any():
        raise FoldwiseError(f"semeval_voc: tweet id '{tweets['id'][repeated].iloc[0]}' appears twice")
    return {
        "train": tweets[["id", "text", "valence"]].astype({"valence": int}).reset_index(drop=True),
        "test": pd.DataFrame(columns=["id", "text"]),
        "sample_submission": _sample_submission(pd.Series([], dtype=str), {"valence": 0}),
    }


def semeval_voc_from_mirror(mirror: Path) -> Frames:
    """:data:`VOC_FILE` (no header; a header line starting "ID" is skipped: ID, Tweet,
    Affect Dimension, Intensity Class such as "-2: moderately negative ..."); the valence is
    the class's level, -3..3. Another dimension or level is refused by row."""
    path = mirror / VOC_FILE
    raw = tsv_rows(path, VOC_COLUMNS)
    if len(raw) and raw["ID"].iloc[0] == "ID":
        raw = raw.iloc[1:]
    _refuse_row(raw, raw["Affect Dimension"] != "valence", path, "Affect Dimension", "'valence' (a V-oc file)")
    levels = raw["Intensity Class"].str.extract(r"^(-?\d+):", expand=False)
    _refuse_row(
        raw,
        ~levels.isin([str(v) for v in VOC_LEVELS]),
        path,
        "Intensity Class",
        f"'<level>: <words>' with a level from {VOC_LEVELS[0]} to {VOC_LEVELS[-1]}",
    )
    return semeval_voc_competition(pd.DataFrame({"id": raw["ID"], "text": raw["Tweet"], "valence": levels}))


def semeval_voc_from_hub() -> Frames:
    """No hub copy of V-oc exists (the hub's SemEval-2018 Task 1 holds subtask 5, E-c, only): a one-line error."""
    raise FoldwiseError(
        "semeval_voc: no copy of SemEval-2018 V-oc on the Hugging Face hub (SemEvalWorkshop/sem_eval_2018_task_1 "
        f"holds only E-c); put {VOC_FILE} (ID, Tweet, Affect Dimension, Intensity Class) in the folder named by "
        "mirror_dir"
    )


#: data config ``hub_dataset`` value -> its converter
CONVERTERS: dict[str, Converter] = {
    "go_emotions": Converter(from_hub=go_emotions_from_hub),
    "ag_news": Converter(ag_news_from_hub, ag_news_from_mirror, ("test.csv", "classes.txt")),
    "mnli": Converter(
        mnli_from_hub, mnli_from_mirror, ("multinli_1.0_dev_matched.csv", "multinli_1.0_dev_mismatched.csv")
    ),
    "mnli_entailment": Converter(
        lambda: entailment_competition(mnli_from_hub()),
        lambda mirror: entailment_competition(mnli_from_mirror(mirror)),
        ("multinli_1.0_dev_matched.csv", "multinli_1.0_dev_mismatched.csv"),
    ),
    "ag_news_heldout": Converter(
        lambda: ag_news_heldout_competition(ag_news_from_hub()),
        lambda mirror: ag_news_heldout_competition(ag_news_from_mirror(mirror)),
        ("test.csv", "classes.txt"),
    ),
    "movie_genres": Converter(movie_genres_from_hub, movie_genres_from_mirror, ("imdb_movies.csv",)),
    "semeval_ec": Converter(
        semeval_ec_from_hub, semeval_ec_from_mirror, tuple(f"2018-E-c-En-{s}.txt" for s in ("train", "dev", "test"))
    ),
    "squad": Converter(squad_from_hub, squad_from_mirror, SQUAD_FILES),
    "squad_small": Converter(
        lambda: squad_from_hub(squad_small_competition),
        lambda mirror: squad_from_mirror(mirror, squad_small_competition),
        SQUAD_FILES,
    ),
    "xsum": Converter(xsum_from_hub, xsum_from_mirror, XSUM_FILES),
    "stsb": Converter(stsb_from_hub, stsb_from_mirror, STSB_FILES),
    "semeval_voc": Converter(semeval_voc_from_hub, semeval_voc_from_mirror, (VOC_FILE,)),
}
