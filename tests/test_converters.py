"""The four auxiliary benchmarks built as Kaggle competitions, from the mirror and the hub."""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, SHARED_GOEMOTIONS
from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

from foldwise.data import converters
from foldwise.data.competition import load_competition
from foldwise.data.converters import CONVERTERS, held_out_rows, split_genres
from foldwise.data.fetch import fetch
from foldwise.data.folds import assign_folds
from foldwise.errors import FoldwiseError
from foldwise.experiment import load_dataset_config

#: the offline data mirror: FOLDWISE_SHARED_DATA, else the folder holding the GoEmotions mirror
SHARED_DATA = Path(os.environ.get("FOLDWISE_SHARED_DATA") or SHARED_GOEMOTIONS.parent)

#: benchmark -> (mirror folder, raw files)
MIRRORS = {
    "ag_news": ("ag_news", ("test.csv", "classes.txt")),
    "mnli": ("mnli", ("multinli_1.0_dev_matched.csv", "multinli_1.0_dev_mismatched.csv")),
    "movie_genres": ("movie_genres", ("imdb_movies.csv",)),
    "semeval_ec": ("semeval2018_ec", ("2018-E-c-En-train.txt", "2018-E-c-En-dev.txt", "2018-E-c-En-test.txt")),
}
SEMEVAL = [
    "anger",
    "anticipation",
    "disgust",
    "fear",
    "joy",
    "love",
    "optimism",
    "pessimism",
    "sadness",
    "surprise",
    "trust",
]


def mirror_slice(tmp_path: Path, name: str, lines: int = 200) -> Path:
    """A mirror folder holding the first ``lines`` lines of each of a benchmark's raw files."""
    folder, files = MIRRORS[name]
    source = SHARED_DATA / folder
    if not source.is_dir():
        pytest.skip(f"offline data mirror not found at {source} (clone beside ../shared, or set FOLDWISE_SHARED_DATA)")
    target = tmp_path / "mirror" / folder
    target.mkdir(parents=True)
    for file in files:
        with open(source / file, "rb") as handle:
            head = b"".join(handle.readline() for _ in range(lines if file != "classes.txt" else 100))
        (target / file).write_bytes(head)
    return target


def benchmark_config(name: str, tmp_path: Path, mirror: Path):
    """The shipped configs/data/<name>.yaml, writing under tmp_path and reading ``mirror``."""
    return load_dataset_config(
        REPO / "configs" / "data" / f"{name}.yaml", [f"dir={tmp_path}/data/{{name}}", f"mirror_dir={mirror}"]
    )


def one_line_error(call, *args) -> str:
    with pytest.raises(FoldwiseError) as info:
        call(*args)
    message = str(info.value)
    assert "\n" not in message
    return message


# ---------------------------------------------------------------------------
# from the mirror (a slice of each raw file)


def test_ag_news_from_mirror_is_cv_only(tmp_path):
    mirror = mirror_slice(tmp_path, "ag_news")
    cfg = benchmark_config("ag_news", tmp_path, mirror)
    folder, how = fetch(cfg)
    assert how == f"built from {mirror}"
    train = pd.read_csv(folder / "train.csv", dtype=str)
    raw = pd.read_csv(mirror / "test.csv", header=None, dtype=str)
    assert list(train.columns) == ["id", "text", "label"] and len(train) == 200
    assert train["id"].tolist() == [str(i) for i in range(200)]
    assert train["text"][0] == f"{raw[1][0]} {raw[2][0]}"  # title + description
    classes = ["World", "Sports", "Business", "Sci/Tech"]
    assert train["label"].tolist() == [classes[int(c) - 1] for c in raw[0]]
    assert (folder / "test.csv").read_text().split() == ["id,text"]
    assert (folder / "sample_submission.csv").read_text().split() == ["id,label"]
    assert not (folder / "solution.csv").exists()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an empty test set loads cleanly (no dtype warnings)
        data = load_competition(cfg)
    assert len(data.test_ids) == 0 and data.label_names == sorted(classes)
    assert sorted(set(assign_folds(data.labels, "classes", 5, 42))) == [0, 1, 2, 3, 4]


def test_mnli_from_mirror_drops_unlabelled_and_holds_test_labels_out(tmp_path):
    mirror = mirror_slice(tmp_path, "mnli", lines=301)
    cfg = benchmark_config("mnli", tmp_path, mirror)
    folder, _ = fetch(cfg)
    raw = {s: pd.read_csv(mirror / f"multinli_1.0_dev_{s}.csv", dtype=str) for s in ("matched", "mismatched")}
    gold = {s: frame[frame["label"] != "-"].reset_index(drop=True) for s, frame in raw.items()}
    assert all(len(gold[s]) < 300 for s in gold)  # the slice does hold '-' rows to drop
    train = pd.read_csv(folder / "train.csv", dtype=str)
    assert list(train.columns) == ["id", "premise", "hypothesis", "label"]
    assert train["id"].tolist() == [f"matched-{i}" for i in range(len(gold["matched"]))]
    assert train["premise"].tolist() == gold["matched"]["sentence1"].tolist()
    assert "-" not in set(train["label"])
    test = pd.read_csv(folder / "test.csv", dtype=str)
    assert list(test.columns) == ["id", "premise", "hypothesis"]  # no labels
    solution = pd.read_csv(folder / "solution.csv", dtype=str)
    assert list(solution.columns) == ["id", "label"] and solution["id"].tolist() == test["id"].tolist()
    assert solution["label"].tolist() == gold["mismatched"]["label"].tolist()
    sample = pd.read_csv(folder / "sample_submission.csv", dtype=str)
    assert list(sample.columns) == ["id", "label"] and sample["id"].tolist() == test["id"].tolist()
    assert set(sample["label"]) == {train["label"].value_counts().idxmax()}
    data = load_competition(cfg)
    assert data.label_names == ["contradiction", "entailment", "neutral"] and data.labels.sum() == len(train)


def test_movie_genres_from_mirror_holds_a_stratified_15_percent_out(tmp_path):
    mirror = mirror_slice(tmp_path, "movie_genres", lines=2001)
    frames = CONVERTERS["movie_genres"].from_mirror(mirror)
    raw = pd.read_csv(mirror / "imdb_movies.csv", dtype=str)
    kept = raw[raw["genre"].notna() & ~raw.duplicated()]
    train, test, solution = frames["train"], frames["test"], frames["solution"]
    assert len(train) + len(test) == len(kept) < 2000  # rows without genre and duplicates dropped
    assert abs(len(test) / len(kept) - 0.15) <= 0.01
    assert list(train.columns) == ["id", "title", "genre", "overview"]
    assert train["genre"].tolist() == kept.loc[train["id"].astype(int), "genre"].tolist()  # as in the file
    assert "\xa0" in "".join(train["genre"])
    assert list(test.columns) == ["id", "title", "overview"]
    genres = list(solution.columns[1:])
    assert genres == sorted(genres) and {"Science Fiction", "TV Movie", "Drama"} <= set(genres)
    assert solution["id"].tolist() == test["id"].tolist()
    expected = kept.set_index(kept.index.astype(str)).loc[test["id"], "genre"].map(split_genres)
    assert [[g for g in genres if row[g]] for _, row in solution.iterrows()] == [sorted(v) for v in expected]
    assert list(frames["sample_submission"].columns) == ["id", *genres]
    assert frames["sample_submission"][genres].to_numpy().sum() == 0
    again = CONVERTERS["movie_genres"].from_mirror(mirror)  # deterministic
    assert again["test"]["id"].tolist() == test["id"].tolist()


def test_semeval_from_mirror_joins_train_and_dev(tmp_path):
    mirror = mirror_slice(tmp_path, "semeval_ec", lines=101)
    cfg = benchmark_config("semeval_ec", tmp_path, mirror)
    folder, _ = fetch(cfg)
    train = pd.read_csv(folder / "train.csv", dtype=str)
    assert list(train.columns) == ["id", "text", *SEMEVAL] and len(train) == 200
    assert train["id"][0] == "2017-En-21441" and train["id"][100].startswith("2018-En-")  # dev after train
    test = pd.read_csv(folder / "test.csv", dtype=str)
    assert list(test.columns) == ["id", "text"] and len(test) == 100
    sample = pd.read_csv(folder / "sample_submission.csv")
    assert list(sample.columns) == ["id", *SEMEVAL] and sample[SEMEVAL].to_numpy().sum() == 0
    assert not (folder / "solution.csv").exists()  # the official test labels are not public here
    data = load_competition(cfg)
    assert data.labels.shape == (200, 11) and data.label_names == SEMEVAL


def test_bad_mirror_value_is_one_line_and_nothing_is_written(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "classes.txt").write_text("World\nSports\nBusiness\nSci/Tech\n")
    (mirror / "test.csv").write_text('"3","a title","a text"\n"7","other","text"\n')
    cfg = load_dataset_config(
        REPO / "configs" / "data" / "ag_news.yaml", [f"dir={tmp_path}/data/{{name}}", f"mirror_dir={mirror}"]
    )
    message = one_line_error(fetch, cfg)
    assert message == f"{mirror / 'test.csv'}: row 2: column 'class' has '7', expected one of ['1', '2', '3', '4']"
    assert not (tmp_path / "data").exists()


def test_semeval_label_other_than_0_1_is_refused(tmp_path):
    mirror = mirror_slice(tmp_path, "semeval_ec", lines=5)
    path = mirror / "2018-E-c-En-dev.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("\t0", "\t2", 1), encoding="utf-8")
    message = one_line_error(CONVERTERS["semeval_ec"].from_mirror, mirror)
    assert re.fullmatch(
        rf"{re.escape(str(path))}: row 2: column '[a-z]+' has '2', expected one of \['0', '1'\]", message
    )


# ---------------------------------------------------------------------------
# the split behind movie_genres, on a synthetic label matrix


def test_held_out_rows_is_seeded_sized_and_stratified():
    rng = np.random.default_rng(0)
    labels = (rng.random((3000, 8)) < np.linspace(0.03, 0.5, 8)).astype(int)
    mask = held_out_rows(labels, 0.15, seed=42)
    assert abs(mask.mean() - 0.15) <= 0.01
    assert np.array_equal(mask, held_out_rows(labels, 0.15, seed=42))
    assert not np.array_equal(mask, held_out_rows(labels, 0.15, seed=7))
    share = labels[mask].sum(axis=0) / labels.sum(axis=0)
    assert np.abs(share - 0.15).max() <= 0.02  # every label, rare ones too, keeps its share


def test_split_genres_reads_comma_and_non_breaking_space():
    assert split_genres("Science Fiction,\xa0Adventure,\xa0Action") == ["Science Fiction", "Adventure", "Action"]


# ---------------------------------------------------------------------------
# from the hub (an in-memory DatasetDict with the hub's schema; no network)


@pytest.fixture
def fake_hub(monkeypatch):
    """Make ``converters.load_hub`` return a given DatasetDict; records the request."""
    calls = []

    def install(splits: DatasetDict):
        def load(path, name=None, **options):
            calls.append((path, name, options))
            return splits

        monkeypatch.setattr(converters, "load_hub", load)
        return calls

    return install


def test_ag_news_from_hub(fake_hub):
    features = Features(
        {"text": Value("string"), "label": ClassLabel(names=["World", "Sports", "Business", "Sci/Tech"])}
    )
    calls = fake_hub(
        DatasetDict(
            train=Dataset.from_dict({"text": ["unused"], "label": [0]}, features=features),
            test=Dataset.from_dict(
                {"text": ["Oil up prices rise", "Cup final goal"], "label": [2, 1]}, features=features
            ),
        )
    )
    frames = CONVERTERS["ag_news"].from_hub()
    assert calls[0][0] == "fancyzhx/ag_news"
    assert frames["train"].to_dict("list") == {
        "id": ["0", "1"],
        "text": ["Oil up prices rise", "Cup final goal"],
        "label": ["Business", "Sports"],
    }
    assert frames["test"].empty and list(frames["sample_submission"].columns) == ["id", "label"]


def test_mnli_from_hub(fake_hub):
    features = Features(
        {
            "premise": Value("string"),
            "hypothesis": Value("string"),
            "label": ClassLabel(names=["entailment", "neutral", "contradiction"]),
            "idx": Value("int32"),
        }
    )

    def split(labels):
        n = len(labels)
        return Dataset.from_dict(
            {
                "premise": [f"p{i}" for i in range(n)],
                "hypothesis": [f"h{i}" for i in range(n)],
                "label": labels,
                "idx": list(range(n)),
            },
            features=features,
        )

    calls = fake_hub(DatasetDict(validation_matched=split([0, 2, 1]), validation_mismatched=split([1, -1, 2])))
    frames = CONVERTERS["mnli"].from_hub()
    assert calls[0][:2] == ("nyu-mll/glue", "mnli")
    assert frames["train"]["label"].tolist() == ["entailment", "contradiction", "neutral"]
    assert frames["test"].to_dict("list") == {
        "id": ["mismatched-0", "mismatched-1"],
        "premise": ["p0", "p2"],
        "hypothesis": ["h0", "h2"],
    }
    assert frames["solution"].to_dict("list") == {
        "id": ["mismatched-0", "mismatched-1"],
        "label": ["neutral", "contradiction"],
    }


def test_semeval_from_hub(fake_hub):
    features = Features({"ID": Value("string"), "Tweet": Value("string"), **{e: Value("bool") for e in SEMEVAL}})

    def split(prefix, n, on):
        return Dataset.from_dict(
            {
                "ID": [f"{prefix}{i}" for i in range(n)],
                "Tweet": [f"tweet {i}" for i in range(n)],
                **{e: [on and e == "joy"] * n for e in SEMEVAL},
            },
            features=features,
        )

    calls = fake_hub(
        DatasetDict(train=split("tr", 2, True), validation=split("va", 1, False), test=split("te", 3, False))
    )
    frames = CONVERTERS["semeval_ec"].from_hub()
    assert calls[0][0] == "SemEvalWorkshop/sem_eval_2018_task_1"
    train = frames["train"]
    assert list(train.columns) == ["id", "text", *SEMEVAL] and train["id"].tolist() == ["tr0", "tr1", "va0"]
    assert train["joy"].tolist() == [1, 1, 0] and train[SEMEVAL].to_numpy().sum() == 2
    assert list(frames["test"].columns) == ["id", "text"] and "solution" not in frames


def test_movie_genres_has_no_hub_copy(tmp_path):
    cfg = load_dataset_config(
        REPO / "configs" / "data" / "movie_genres.yaml",
        [f"dir={tmp_path}/data/{{name}}", f"mirror_dir={tmp_path}/absent"],
    )
    message = one_line_error(fetch, cfg)
    assert message.startswith("movie_genres: no canonical copy on the Hugging Face hub")
    assert not (tmp_path / "data").exists()
