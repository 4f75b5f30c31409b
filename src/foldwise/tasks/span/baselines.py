"""Baselines of span extraction that need no model: a sentence by word overlap, the whole text.

They give the floor a trained extractor must beat: the whole text (Tweet Sentiment
Extraction's "selected_text" is often the whole tweet) and, for question answering, the
context sentence sharing most words with the question.
"""

from __future__ import annotations

import re

from ..text_metrics import normalize_answer

#: a sentence ends at a run of . ! ? followed by whitespace
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text``.

    A sentence ends after a run of ``.``, ``!`` or ``?`` that whitespace follows (no
    abbreviation rules); the whitespace around sentences is left out of their spans.

    Parameters
    ----------
    text : the text to split.

    Returns
    -------
    list of (start, end)
        ``text[start:end]`` is each sentence, stripped, in order; empty for a text
        without words.
    """
    spans = []
    start = 0
    for brk in [m.span() for m in _SENTENCE_BREAK.finditer(text)] + [(len(text), len(text))]:
        s, e = start, brk[0]
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if s < e:
            spans.append((s, e))
        start = brk[1]
    return spans


def overlap_sentence(question: str, context: str) -> str:
    """The sentence of ``context`` sharing the most distinct words with ``question``.

    Words are those of the SQuAD normalisation (lower case, no punctuation, no articles
    *a*/*an*/*the*). Ties go to the earliest sentence, so a question sharing no word
    gets the first.

    Parameters
    ----------
    question : the question.
    context : the text to pick a sentence from.

    Returns
    -------
    str
        The chosen sentence as it stands in ``context``; ``""`` for a context without words.
    """
    question_words = set(normalize_answer(question).split())
    best, best_overlap = "", -1
    for start, end in split_sentences(context):
        sentence = context[start:end]
        overlap = len(question_words & set(normalize_answer(sentence).split()))
        if overlap > best_overlap:
            best, best_overlap = sentence, overlap
    return best


def whole_text(text: str) -> str:
    """The span-extraction baseline that predicts the whole text, stripped of outer whitespace."""
    return str(text).strip()
