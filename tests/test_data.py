"""Each bad input gets a one-line error naming the file, row or column."""

import pandas as pd
import pytest

from conftest import toy_frames, write_competition
from foldwise.config import DataConfig
from foldwise.data import load_competition
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
        folder = write_competition(tmp_path / "l", listed, test,
                                   pd.DataFrame({"id": test["id"], "joy": 0, "anger": 0, "fear": 0}))
        data = load_competition(cfg_for(folder, label_column="labels"))
        assert (data.labels == expected).all()


def test_unknown_label_name(tmp_path):
    train, test = toy_frames()
    listed = train[["id", "text"]].assign(labels=["['joy']"] * 59 + ["['bliss']"])
    folder = write_competition(tmp_path / "l", listed, test,
                               pd.DataFrame({"id": test["id"], "joy": 0, "anger": 0, "fear": 0}))
    assert "train.csv: row 61: unknown label 'bliss' in column 'labels'" in load_error(folder, label_column="labels")


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
