"""Sentence pairs (``data.text_pair: [first, second]``): read, cleaned, featurised and
encoded as two sides, never as one joined string."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import write_competition
from foldwise.config import DataConfig, TextConfig, load_data_config
from foldwise.data import load_competition
from foldwise.errors import FoldwiseError
from foldwise.text import clean_texts

WORDS = ["apple", "river", "music", "garden", "engine", "winter", "pencil", "island"]


def pair_frames(n_train: int = 120, n_test: int = 16, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """An NLI-like toy: 'same' when the hypothesis names the premise's noun, else 'other'.

    The label lives only in the relation between the sides: each side alone says nothing.
    """
    rng = np.random.default_rng(seed)

    def rows(n: int, prefix: str) -> list[dict]:
        out = []
        for i in range(n):
            first = WORDS[rng.integers(len(WORDS))]
            same = i % 2 == 0
            second = first if same else WORDS[(WORDS.index(first) + 1 + rng.integers(len(WORDS) - 1)) % len(WORDS)]
            out.append({"id": f"{prefix}{i}", "premise": f"The {first} is over there.",
                        "hypothesis": f"I see a {second}", "label": "same" if same else "other"})
        return out

    train = pd.DataFrame(rows(n_train, "p"))
    test = pd.DataFrame(rows(n_test, "q")).drop(columns="label")
    return train, test


def pair_competition(folder: Path, n_train: int = 120, n_test: int = 16) -> Path:
    """``folder`` holding a pair competition (sample submission ``id,label``)."""
    train, test = pair_frames(n_train, n_test)
    return write_competition(folder, train, test, pd.DataFrame({"id": test["id"], "label": "same"}))


def pair_config(folder: Path, **extra) -> DataConfig:
    return DataConfig(name="pairs", dir=str(folder), task="multiclass", label_column="label",
                      text_pair=["premise", "hypothesis"], **extra)


def test_pairs_load_as_two_sides(tmp_path):
    folder = pair_competition(tmp_path / "pairs")
    data = load_competition(pair_config(folder))
    train = pd.read_csv(folder / "train.csv")
    assert data.train_texts.shape == (120, 2) and data.test_texts.shape == (16, 2)
    assert data.train_texts.dtype == object
    assert data.train_texts[3].tolist() == train.loc[3, ["premise", "hypothesis"]].tolist()
    swapped = load_competition(replace(pair_config(folder), text_pair=["hypothesis", "premise"]))
    assert swapped.content_sha256 != data.content_sha256  # the order of the sides changes predictions


def test_text_pair_naming_a_missing_column_is_one_line(tmp_path):
    folder = pair_competition(tmp_path / "pairs")
    test = pd.read_csv(folder / "test.csv").rename(columns={"hypothesis": "claim"})
    test.to_csv(folder / "test.csv", index=False)
    with pytest.raises(FoldwiseError) as err:
        load_competition(pair_config(folder))
    message = str(err.value)
    assert "\n" not in message and "test.csv" in message and "missing column 'hypothesis'" in message


@pytest.mark.parametrize("pair, problem", [
    ("[premise]", "must name exactly two columns"),
    ("[a, b, c]", "must name exactly two columns"),
])
def test_text_pair_needs_exactly_two_columns(tmp_path, pair, problem):
    path = tmp_path / "pairs.yaml"
    path.write_text(f"name: pairs\ntask: multiclass\nlabel_column: label\ntext_pair: {pair}\n")
    with pytest.raises(FoldwiseError, match=rf"pairs.yaml: key 'text_pair' is .*{problem}"):
        load_data_config(path)


def test_text_pair_and_several_text_columns_exclude_each_other(tmp_path):
    path = tmp_path / "pairs.yaml"
    path.write_text("name: pairs\ntext_columns: [title, body]\ntext_pair: [premise, hypothesis]\n")
    with pytest.raises(FoldwiseError, match="set text_pair or several text_columns, not both"):
        load_data_config(path)


def test_cleaning_applies_to_both_sides():
    pairs = np.array([["Hi  @bob  THERE", "see www.x.org NOW"], ["A", "B  c"]], dtype=object)
    cleaned = clean_texts(pairs, TextConfig(strip_users=True, strip_urls=True, lowercase=True))
    assert cleaned.shape == (2, 2) and cleaned.dtype == object
    assert cleaned.tolist() == [["hi there", "see now"], ["a", "b c"]]
    assert clean_texts(["One  two"], TextConfig(normalize_whitespace=True)).tolist() == ["One two"]
