"""Each bad input gets a one-line error naming the file, row or column."""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED_GOEMOTIONS, toy_frames, write_competition

import foldwise.tasks  # noqa: F401  (DataConfig.validate runs the task and metric registries' checks)
from foldwise.config import DataConfig
from foldwise.data.competition import load_competition
from foldwise.errors import FoldwiseError


def cfg_for(folder, **kwargs) -> DataConfig:
    return DataConfig(name="toy", dir=str(folder), **kwargs)


def make(tmp_path, mutate_train=None, mutate_test=None, sample=None):
    train, test = toy_frames()
    if sample is None:  # from the unmodified frames, so a dropped label column is noticed
        sample = pd.DataFrame({"id": test["id"], "joy": 0, "anger": 0, "fear": 0})
    if mutate_train:
        mutate_train(train)
    if mutate_test:
        mutate_test(test)
    return write_competition(tmp_path / "c", train, test, sample)


def load_error(folder, **kwargs) -> str:
    with pytest.raises(FoldwiseError) as info:
        load_competition(cfg_for(folder, **kwargs))
    message = str(info.value)
    assert "\n" not in message
    return message


def test_valid_competition_loads(toy_competition):
    data = load_competition(cfg_for(toy_competition))
    assert data.label_names == ["joy", "anger", "fear"]
    assert data.labels.shape == (60, 3) and set(data.labels.ravel()) <= {0, 1}
    assert list(data.test_ids[:2]) == ["s0", "s1"]
    assert data.train_texts[0].startswith("I am")


def test_missing_file(tmp_path):
    folder = make(tmp_path)
    (folder / "test.csv").unlink()
    assert "test.csv: file not found" in load_error(folder)


def test_missing_column(tmp_path):
    folder = make(tmp_path, mutate_train=lambda t: t.pop("fear"))
    assert "train.csv: missing column 'fear'" in load_error(folder)


def test_missing_text_column(tmp_path):
    folder = make(tmp_path)
    assert "missing column 'body'" in load_error(folder, text_columns=["body"])


def test_empty_text_refused_or_filled(tmp_path):
    folder = make(tmp_path, mutate_train=lambda t: t.__setitem__("text", t["text"].where(t.index != 4, "")))
    assert "train.csv: row 6: empty or missing text in column 'text'" in load_error(folder)
    data = load_competition(cfg_for(folder, missing_text="fill", fill_text="[empty]"))
    assert data.train_texts[4] == "[empty]"


def tweet_columns(frame: pd.DataFrame) -> None:
    """Kaggle's tweet layout: optional keyword and location beside the text, mostly blank."""
    frame["keyword"] = np.where(frame.index % 3 == 0, "flood", "")
    frame["location"] = ""


TWEET_COLUMNS = ["keyword", "location", "text"]


def test_blank_extra_text_columns_join_as_empty(tmp_path):
    folder = make(tmp_path, mutate_train=tweet_columns, mutate_test=tweet_columns)
    texts = pd.read_csv(folder / "train.csv")["text"]
    data = load_competition(cfg_for(folder, text_columns=TWEET_COLUMNS))
    assert data.train_texts[0] == f"flood | {texts[0]}"  # the blank location leaves no dangling " | "
    assert data.train_texts[1] == texts[1]


def test_a_row_misses_text_only_when_every_text_column_is_empty(tmp_path):
    def blank_row_4(frame):
        tweet_columns(frame)
        frame.loc[4, ["keyword", "text"]] = ["", "  "]

    folder = make(tmp_path, mutate_train=blank_row_4, mutate_test=tweet_columns)
    assert "train.csv: row 6: empty or missing text in every text column (keyword, location, text)" in load_error(
        folder, text_columns=TWEET_COLUMNS
    )
    data = load_competition(cfg_for(folder, text_columns=TWEET_COLUMNS, missing_text="fill", fill_text="[empty]"))
    assert data.train_texts[4] == "[empty]" and data.train_texts[3].startswith("flood | I am")


def test_duplicate_ids(tmp_path):
    folder = make(tmp_path, mutate_train=lambda t: t.__setitem__("id", t["id"].where(t.index != 7, "t3")))
    assert "train.csv: row 9: duplicate id 't3'" in load_error(folder)


def test_label_values_other_than_0_1(tmp_path):
    folder = make(tmp_path, mutate_train=lambda t: t.__setitem__("joy", t["joy"].where(t.index != 2, 2)))
    assert "train.csv: row 4: label column 'joy' has value '2', expected 0 or 1" in load_error(folder)


def test_test_ids_must_match_sample(tmp_path):
    train, test = toy_frames()
    sample = pd.DataFrame({"id": [f"s{i}" for i in range(9)] + ["zzz"], "joy": 0, "anger": 0, "fear": 0})
    folder = write_competition(tmp_path / "c", train, test, sample)
    message = load_error(folder)
    assert "sample_submission.csv: ids differ" in message and "'s9'" in message


def test_label_list_column_names_and_indices(tmp_path):
    train, test = toy_frames()
    names = ["joy", "anger", "fear"]
    as_names = train[names].apply(lambda r: str([n for n in names if r[n]]), axis=1)
    as_indices = train[names].apply(lambda r: " ".join(str(j) for j, n in enumerate(names) if r[n]), axis=1)
    expected = train[names].to_numpy()
    for column in (as_names, as_indices):
        listed = train[["id", "text"]].assign(labels=column)
        folder = write_competition(
            tmp_path / "l", listed, test, pd.DataFrame({"id": test["id"], "joy": 0, "anger": 0, "fear": 0})
        )
        data = load_competition(cfg_for(folder, label_column="labels"))
        assert (data.labels == expected).all()


def test_unknown_label_name(tmp_path):
    train, test = toy_frames()
    listed = train[["id", "text"]].assign(labels=["['joy']"] * 59 + ["['bliss']"])
    folder = write_competition(
        tmp_path / "l", listed, test, pd.DataFrame({"id": test["id"], "joy": 0, "anger": 0, "fear": 0})
    )
    message = load_error(folder, label_column="labels")
    assert "train.csv: row 61: unknown label 'bliss' in column 'labels'" in message
    assert "'joy', 'anger', 'fear'" in message  # the known names
    assert "JSON/Python list" in message and "'|', ',', ';' or white space" in message  # the accepted formats


def test_multiclass_single_target_column(tmp_path):
    train, test = toy_frames()
    single = train[["id", "text"]].assign(label=["pos" if i % 2 else "neg" for i in range(len(train))])
    sample = pd.DataFrame({"id": test["id"], "label": "neg"})
    folder = write_competition(tmp_path / "m", single, test, sample)
    data = load_competition(cfg_for(folder, task="multiclass", label_column="label"))
    assert data.label_names == ["neg", "pos"]
    assert (data.labels.sum(axis=1) == 1).all()


def test_max_train_rows_small_data_switch(toy_competition):
    assert len(load_competition(cfg_for(toy_competition, max_train_rows=25)).train_ids) == 25


#: the TMDB/IMDb movie-genre files of the shared mirror ("Drama,\xa0Science Fiction" label lists)
MOVIE_GENRES = Path(os.environ.get("FOLDWISE_MOVIE_GENRES_MIRROR") or SHARED_GOEMOTIONS.parent / "movie_genres")
NBSP = "\u00a0"


def genre_competition(folder, cells: list[str], names: list[str]):
    """A competition whose ``genre`` column holds ``cells``; the sample's columns are ``names``."""
    train = pd.DataFrame(
        {"id": [f"m{i}" for i in range(len(cells))], "text": [f"movie {i}" for i in range(len(cells))], "genre": cells}
    )
    test = pd.DataFrame({"id": ["x0", "x1"], "text": ["a film", "another film"]})
    sample = pd.DataFrame({"id": test["id"], **{name: 0 for name in names}})
    return write_competition(folder, train, test, sample)


def test_real_movie_genre_lists_with_multi_word_names(tmp_path):
    if not (MOVIE_GENRES / "imdb_movies.csv").exists():
        pytest.skip(f"movie-genre mirror not found at {MOVIE_GENRES} (set FOLDWISE_MOVIE_GENRES_MIRROR)")
    movies = pd.read_csv(MOVIE_GENRES / "imdb_movies.csv", dtype=str, keep_default_na=False, nrows=400)
    cells = movies["genre"].tolist()
    # expected, read independently: names separated by "," and U+00A0 in this file
    rows = [{name.strip() for name in cell.split(",") if name.strip()} for cell in cells]
    names = sorted(set().union(*rows))
    assert "Science Fiction" in names and any(NBSP in cell for cell in cells)  # the case this test is about
    folder = genre_competition(tmp_path / "imdb", cells, names)
    data = load_competition(cfg_for(folder, label_column="genre"))
    expected = np.array([[name in row for name in names] for row in rows], dtype=np.uint8)
    assert data.label_names == names and (data.labels == expected).all()


@pytest.mark.parametrize(
    "cells, setting",
    [
        ([f"Drama,{NBSP}Science Fiction", "Science Fiction", "Action"], "auto"),  # one single name: same rule
        (["Drama|Science Fiction", "Science Fiction", "Action"], "auto"),
        (["Drama; Science Fiction", "Science Fiction", "Action"], "auto"),
        (['["Drama", "Science Fiction"]', "['Science Fiction']", "['Action']"], "auto"),
        (["Drama / Science Fiction", "Science Fiction", "Action"], "/"),
        (["0 1", "1", "2"], "auto"),
    ],
)
def test_label_list_formats_with_multi_word_names(tmp_path, cells, setting):
    names = ["Drama", "Science Fiction", "Action"]
    folder = genre_competition(tmp_path / "g", cells * 4, names)
    data = load_competition(cfg_for(folder, label_column="genre", label_separator=setting))
    assert data.labels[:3].tolist() == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]


def test_label_names_are_stripped_like_cells(tmp_path):
    folder = genre_competition(tmp_path / "g", ["Drama, Science Fiction", "Action"] * 3, ["a", "b", "c"])
    names = [f"Drama{NBSP}", f" Science{NBSP}Fiction", "'Action'"]
    data = load_competition(cfg_for(folder, label_column="genre", label_names=names))
    assert data.labels[:2].tolist() == [[1, 1, 0], [0, 0, 1]]


def test_multiclass_multi_word_class_names(tmp_path):
    train, test = toy_frames()
    single = train[["id", "text"]].assign(label=["Science Fiction" if i % 2 else "Drama" for i in range(len(train))])
    folder = write_competition(tmp_path / "m", single, test, pd.DataFrame({"id": test["id"], "label": "Drama"}))
    data = load_competition(cfg_for(folder, task="multiclass", label_column="label"))
    assert data.label_names == ["Drama", "Science Fiction"] and data.labels[1].tolist() == [0, 1]


def test_unknown_label_names_the_separator_used(tmp_path):
    folder = genre_competition(tmp_path / "g", ["Drama, Action", "Drama"] * 3, ["Drama", "Action"])
    message = load_error(folder, label_column="genre", label_names=["Drama", "Comedy"])
    assert "unknown label 'Action'" in message and "split on ','" in message


def test_constant_label_column_warns(tmp_path, capsys):
    folder = make(tmp_path, mutate_train=lambda t: t.__setitem__("fear", 0))
    load_competition(cfg_for(folder))
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("warning: ")
    assert "'fear' (0 in every row)" in err and "'joy'" not in err
    load_competition(cfg_for(make(tmp_path / "ok")))
    assert capsys.readouterr().err == ""


def test_text_template_fills_columns_by_name_for_any_task(tmp_path):
    from foldwise.data.competition import texts_of

    frame = pd.DataFrame({"title": ["Rain", None], "body": ["Wet {day}.", "Sun."], "other": ["x", "y"]})
    cfg = DataConfig(text_template="{title}: {body}", missing_text="fill", fill_text="?")
    assert cfg.input_columns == ["title", "body"]
    # values go in as they are ("{day}" stays), an empty column is fill_text
    assert texts_of(frame, cfg, Path("train.csv")).tolist() == ["Rain: Wet {day}.", "?: Sun."]
    with pytest.raises(
        FoldwiseError, match=r"train.csv: row 3: empty or missing text in every text column \(title, body\)"
    ):
        texts_of(frame.assign(body=["a", " "]), DataConfig(text_template="{title}: {body}"), Path("train.csv"))
    assert DataConfig(text_template="{0} and {a.b}").validate()[0][0] == "text_template"
    assert DataConfig(text_template="{a}", text_pair=["a", "b"]).validate()[-1][0] == "text_template"


def quora_layout(tmp_path) -> Path:
    """Train's id is 'id', test's and the sample's 'test_id' (Quora Question Pairs)."""
    train, test = toy_frames()
    test = test.rename(columns={"id": "test_id"})
    sample = pd.DataFrame({"test_id": test["test_id"], "joy": 0, "anger": 0, "fear": 0})
    return write_competition(tmp_path / "c", train, test, sample)


def test_test_and_sample_ids_may_be_named_apart_from_trains(tmp_path):
    folder = quora_layout(tmp_path)
    data = load_competition(cfg_for(folder, test_id_column="test_id"))
    assert data.train_ids[0] == "t0" and list(data.test_ids[:2]) == ["s0", "s1"]
    assert data.label_names == ["joy", "anger", "fear"]  # 'test_id' is not taken for a label
    assert "test.csv: missing column 'id'" in load_error(folder)  # without test_id_column
    test = pd.read_csv(folder / "test.csv").rename(columns={"test_id": "id"})
    test.to_csv(folder / "test.csv", index=False)
    train = pd.read_csv(folder / "train.csv").rename(columns={"id": "row"})
    train.to_csv(folder / "train.csv", index=False)
    message = load_error(folder)  # a hand-written config naming test's id for train's: the fix is named
    assert (
        "train.csv: missing id column 'id'" in message and "set id_column to train's and test_id_column: id" in message
    )


@pytest.mark.parametrize("task", ["auto", "multiclass", "binary"])
def test_a_float_target_is_refused_as_regression_not_read_as_thousands_of_classes(tmp_path, task):
    train, test = toy_frames()
    train = train.drop(columns=["joy", "anger", "fear"]).assign(target=np.linspace(-3.5, 1.7, len(train)).round(4))
    folder = write_competition(tmp_path / "c", train, test, pd.DataFrame({"id": test["id"], "target": 0.0}))
    message = load_error(folder, label_column="target", task=task)
    assert message.endswith(
        "train.csv: column 'target' holds real numbers ('-3.5', 60 distinct values): a regression target; "
        "set data.task: regression and target_column: target"
    )
    if task == "auto":  # the sample's one column, without label_column: task auto infers a regression
        data = load_competition(DataConfig(name="c", dir=str(folder)))
        assert (data.task, data.task_reason) == ("regression", "inferred: column 'target' holds real numbers ('-3.5')")
