"""Configurable text cleaning, applied the same way to train and test texts."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import numpy as np

from ..config import TextConfig

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_USER = re.compile(r"(?<![\w@])(?:@\w+|/?u/[A-Za-z0-9_-]+)")
_SPACE = re.compile(r"\s+")


def strip_urls(text: str) -> str:
    """Replace http(s):// and www. links with a space."""
    return _URL.sub(" ", text)


def strip_users(text: str) -> str:
    """Remove @user mentions and Reddit u/user names."""
    return _USER.sub(" ", text)


def demojize(text: str) -> str:
    """Spell emoji as words (``😂`` -> `` :face_with_tears_of_joy: ``) so models see them
    (``emoji`` is imported here: a packaged submission that never demojizes does not need it)."""
    import emoji

    return emoji.demojize(text, delimiters=(" :", ": "))


def normalize_whitespace(text: str) -> str:
    """Collapse runs of white space into one space and trim the ends."""
    return _SPACE.sub(" ", text).strip()


def cleaning_steps(cfg: TextConfig) -> list[Callable[[str], str]]:
    """The enabled cleaning functions, in a fixed order (whitespace last)."""
    steps: list[Callable[[str], str]] = []
    if cfg.strip_urls:
        steps.append(strip_urls)
    if cfg.strip_users:
        steps.append(strip_users)
    if cfg.demojize:
        steps.append(demojize)
    if cfg.lowercase:
        steps.append(str.lower)
    if cfg.normalize_whitespace or cfg.strip_urls or cfg.strip_users or cfg.demojize:
        # removals and emoji names leave double spaces; tidy them when any step ran
        steps.append(normalize_whitespace)
    return steps


def clean_texts(texts: Iterable[str], cfg: TextConfig) -> np.ndarray:
    """Apply the configured cleaning to every text.

    Returns an (n,) object array of str: a fixed-width str array would take
    n x longest text x 4 bytes (one 1 MB cell in 2,000 rows: 8 GB). Sentence pairs,
    (n, 2), come back as (n, 2): both sides are cleaned the same way.
    """
    if np.ndim(texts) == 2:
        pairs = np.asarray(texts, dtype=object)
        return clean_texts(pairs.ravel(), cfg).reshape(pairs.shape)
    steps = cleaning_steps(cfg)
    out = []
    for text in texts:
        text = str(text)
        for step in steps:
            text = step(text)
        out.append(text)
    return np.asarray(out, dtype=object)
