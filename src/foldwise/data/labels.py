"""Label-list cells -> label names: ``"['joy', 'love']"``, ``"Drama, Science Fiction"``, ``"3 17"``.

The separator is decided once per column (``data.label_separator: auto``): a cell that is a
JSON/Python list is read as a list; in the other cells the first of ``|``, ``,``, ``;`` that
occurs anywhere in the column separates names, and white space only when none of them
does. So one row holding a single multi-word name does not change the rule for the rest.
Names are stripped of Unicode white space (U+00A0 included) and quotes before matching.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Container, Iterable

from ..errors import FoldwiseError

#: tried in this order by ``label_separator: auto``; white space comes after them
AUTO_SEPARATORS = ("|", ",", ";")
#: named settings of ``data.label_separator``; any other non-empty string is the separator itself
AUTO, WHITESPACE = "auto", "whitespace"
ACCEPTED_FORMATS = (
    "accepted: a JSON/Python list like \"['a', 'b c']\", or names or 0-based indices "
    "separated by '|', ',', ';' or white space (set data.label_separator to choose)"
)

_BLANK = r"[\s\u200b\ufeff]"  # \s is Unicode-aware: U+00A0 and friends; plus zero-width space and BOM
_EDGES = re.compile(rf"^{_BLANK}+|{_BLANK}+$")
_RUNS = re.compile(rf"{_BLANK}+")


def _trim(text: str) -> str:
    """``text`` without surrounding Unicode white space."""
    return _EDGES.sub("", text)


def strip_name(text: str) -> str:
    """A label name as matched: no surrounding Unicode white space or quotes, inner runs of
    white space as one space (``" 'Science\\xa0Fiction'"`` -> ``Science Fiction``)."""
    return _RUNS.sub(" ", _trim(_trim(text).strip("'\"")))


def _as_list(cell: str) -> list | None:
    """The items of a cell written as a JSON/Python list or tuple, else None."""
    if not (cell.startswith("[") and cell.endswith("]")):
        return None
    try:
        value = ast.literal_eval(cell)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return list(value) if isinstance(value, (list, tuple)) else None


def _unbracket(cell: str) -> str:
    """A cell's text without the brackets of a list that did not parse (``[Drama, Action]``)."""
    return cell[1:-1] if cell.startswith("[") and cell.endswith("]") else cell


def choose_separator(cells: Iterable[object], setting: str = AUTO) -> str | None:
    """The separator of a label column: a string, or None for runs of white space.

    Parameters
    ----------
    cells : the column's raw values (NaN and empty cells are ignored).
    setting : ``data.label_separator``: ``auto``, ``whitespace`` or the separator itself.
    """
    if not setting:
        raise FoldwiseError("data.label_separator is empty; use auto, whitespace or a separator such as ','")
    if setting == WHITESPACE or not setting.strip():
        return None
    if setting != AUTO:
        return setting
    stripped = (_trim(c) for c in cells if isinstance(c, str))
    texts = [_unbracket(text) for text in stripped if _as_list(text) is None]
    for separator in AUTO_SEPARATORS:
        if any(separator in text for text in texts):
            return separator
    return None


def describe_separator(separator: str | None) -> str:
    """How cells are split, for messages: ``lists or names split on ','``."""
    return f"lists or names split on {'white space' if separator is None else repr(separator)}"


def split_label_cell(cell: object, separator: str | None, known: Container[str] = ()) -> list[str]:
    """The label tokens (names or indices) of one cell.

    A list cell gives its items; a cell that is exactly one of the ``known`` names (after
    stripping) is that name, even if it contains the separator; otherwise the cell is
    split on ``separator`` (None: runs of white space). Empty cells give no labels.
    """
    if not isinstance(cell, str):
        return []
    text = _trim(cell)
    items = _as_list(text)
    if items is not None:
        return [name for name in (strip_name(str(v)) for v in items) if name]
    text = _unbracket(text)
    if strip_name(text) in known:
        return [strip_name(text)]
    parts = _RUNS.split(text) if separator is None else text.split(separator)
    return [name for name in map(strip_name, parts) if name]
