"""Label-list cells: separators decided once per column, multi-word names, Unicode white space."""

import pytest

from foldwise.data.labels import choose_separator, split_label_cell, strip_name
from foldwise.errors import FoldwiseError

NBSP = "\u00a0"


@pytest.mark.parametrize(
    "column, separator",
    [
        ([f"Drama,{NBSP}Science Fiction", "Action"], ","),
        (["Drama|Science Fiction", "Action"], "|"),
        (["Drama; Science Fiction", "Action"], ";"),
        (["Drama|Action, Adventure", "Comedy, Crime"], "|"),  # '|' is tried before ','
        (["Drama Action", "Comedy", float("nan"), ""], None),  # white space only when nothing else occurs
        (["['Drama', 'Science Fiction']", '["Action"]'], None),  # lists need no separator
        (["[Drama, Science Fiction]", "[Action]"], ","),  # a list that does not parse: its inner text decides
    ],
)
def test_separator_is_chosen_once_per_column(column, separator):
    assert choose_separator(column) == separator


def test_explicit_separator_setting():
    column = ["Drama / Science Fiction", "Action, Adventure"]
    assert choose_separator(column, "/") == "/"
    assert choose_separator(column, "whitespace") is None
    with pytest.raises(FoldwiseError, match="label_separator is empty"):
        choose_separator(column, "")


@pytest.mark.parametrize(
    "cell, separator, tokens",
    [
        (f"Drama,{NBSP}Science Fiction", ",", ["Drama", "Science Fiction"]),
        (f"{NBSP}Drama\u2003|  Science Fiction |", "|", ["Drama", "Science Fiction"]),
        ("['Drama', 'Science Fiction']", None, ["Drama", "Science Fiction"]),
        ('["Drama", "Science Fiction"]', ",", ["Drama", "Science Fiction"]),
        ("[3, 17]", None, ["3", "17"]),
        ("3 17", None, ["3", "17"]),
        ("[Drama, Science Fiction]", ",", ["Drama", "Science Fiction"]),
        ("'joy' 'love'", None, ["joy", "love"]),
        ("Drama\tScience  Fiction", "\t", ["Drama", "Science Fiction"]),
        ("", ",", []),
        (float("nan"), ",", []),
    ],
)
def test_split_label_cell(cell, separator, tokens):
    assert split_label_cell(cell, separator) == tokens


def test_a_cell_that_is_one_known_name_is_not_split():
    known = {"Science Fiction", "Drama"}
    assert split_label_cell(f"Science Fiction{NBSP}", None, known) == ["Science Fiction"]
    assert split_label_cell("Science Fiction", None) == ["Science", "Fiction"]


def test_strip_name_removes_unicode_white_space_and_quotes():
    assert strip_name(f"{NBSP}'Drama'\u200b ") == "Drama"
    assert strip_name(f"Science{NBSP} Fiction") == "Science Fiction"  # inside a name: one space
