"""Extractive question answering at the tokenizer level: overlapping windows and span decoding.

A context longer than ``max_length`` tokens is cut into windows that share ``doc_stride``
tokens (Hugging Face's meaning of ``stride``), each ``[CLS] question [SEP] context piece
[SEP]``. :func:`make_windows` also finds each answer's first and last token in every window
that holds it whole (0, the ``[CLS]`` position, elsewhere). A model gives a start and an
end logit per token; :func:`decode_spans` turns them back into character spans of the
context, :func:`average_logits` blends fold models that share a tokenizer, and
:func:`char_scores` / :func:`decode_char_spans` blend models whose tokenizers differ by
spreading the logits onto the context's characters first.

Everything here is numpy and a Hugging Face *fast* tokenizer (for the offset mapping); no torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import FoldwiseError

Offset = tuple[int, int]


@dataclass
class Windows:
    """Tokenized windows of question + context, several per long context.

    Attributes
    ----------
    input_ids : token ids of each window (unpadded).
    token_type_ids : the tokenizer's segment ids per window, None where it has none (RoBERTa).
    row_of : (n_windows,) int, the row (question/context pair) each window belongs to.
    offsets : per window and token, ``(char_start, char_end)`` in the row's context string,
        None for question, special and padding tokens and for context tokens of whitespace
        only (never an answer's edge). Leading/trailing whitespace is cut from a token's
        offsets (SentencePiece and byte-level BPE tokens carry their space).
    start_positions, end_positions : (n_windows,) int, the token index of the answer's
        first/last token in the window; 0 (the ``[CLS]`` position) where the answer is not
        wholly inside the window or is empty; None when no answers were given.
    """

    input_ids: list[list[int]]
    token_type_ids: list[list[int]] | None
    row_of: np.ndarray
    offsets: list[list[Offset | None]]
    start_positions: np.ndarray | None = None
    end_positions: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.input_ids)

    def lengths(self) -> np.ndarray:
        """(n_windows,) int: the number of tokens of each window."""
        return np.array([len(ids) for ids in self.input_ids], dtype=np.int64)

    def rows(self, row: int) -> np.ndarray:
        """The indices of the windows of one row, in context order."""
        return np.flatnonzero(self.row_of == row)


@dataclass
class Span:
    """A decoded answer: ``text == context[start_char:end_char]`` and its score.

    A row where no valid span was found has ``text == ""``, ``score == -inf`` and 0, 0.
    """

    text: str
    score: float
    start_char: int
    end_char: int


def _empty_span() -> Span:
    return Span("", float("-inf"), 0, 0)


def _truncate_question(tokenizer: Any, question: str, max_tokens: int) -> str:
    """``question`` cut at a token end so that it tokenizes to at most ``max_tokens`` tokens."""
    encoded = tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)
    offsets = encoded["offset_mapping"]
    if len(offsets) <= max_tokens:
        return question
    for keep in range(max_tokens, 0, -1):  # a cut inside a word may re-tokenize into more pieces
        cut = question[: offsets[keep - 1][1]]
        if len(tokenizer(cut, add_special_tokens=False)["input_ids"]) <= max_tokens:
            return cut
    return ""


def _trim(context: str, start: int, end: int) -> Offset | None:
    """A token's offsets without the whitespace around it; None for a token of whitespace only."""
    s, e = start, end
    while s < e and context[s].isspace():
        s += 1
    while e > s and context[e - 1].isspace():
        e -= 1
    if s < e:
        return s, e
    return None if start < end else (start, end)


def _answer_tokens(offsets: list[Offset | None], start_char: int, end_char: int) -> tuple[int, int]:
    """The first and last token of ``[start_char, end_char)`` in one window, (0, 0) unless wholly inside."""
    context = {k: off for k, off in enumerate(offsets) if off is not None}  # token -> its offsets, in order
    if not context:
        return 0, 0
    first, last = min(context), max(context)
    if context[first][0] > start_char or context[last][1] < end_char:
        return 0, 0
    start_token = max(k for k, off in context.items() if off[0] <= start_char)
    end_token = min(k for k, off in context.items() if off[1] >= end_char)
    return start_token, end_token


def make_windows(
    tokenizer: Any,
    questions: Sequence[str],
    contexts: Sequence[str],
    max_length: int,
    doc_stride: int,
    answer_starts: Sequence[int] | None = None,
    answer_texts: Sequence[str] | None = None,
    max_question_length: int = 64,
) -> Windows:
    """Question + context windows of at most ``max_length`` tokens, consecutive ones sharing ``doc_stride``.

    Parameters
    ----------
    tokenizer : a Hugging Face fast tokenizer (offset mappings are needed).
    questions, contexts : one question and one context per row.
    max_length : tokens per window, special tokens included (``model.max_length``).
    doc_stride : context tokens shared by consecutive windows of a row (``model.doc_stride``).
    answer_starts, answer_texts : per row, the answer's first character in its context and
        its text (an empty text, None or NaN: no answer, positions 0); both or neither.
    max_question_length : questions are cut to this many tokens first so every window holds
        some context.

    Returns
    -------
    Windows
        The windows of all rows in row order, with answer token positions when answers were given.

    Raises
    ------
    FoldwiseError
        ``doc_stride >= max_length``; a question that leaves no room for context, or less
        room than ``doc_stride``; a slow tokenizer; mismatched lengths; an answer that is
        not at its ``answer_start`` in the context.
    """
    if doc_stride >= max_length:
        raise FoldwiseError(
            f"model.doc_stride ({doc_stride}) must be below model.max_length ({max_length}): "
            "it is the number of tokens consecutive windows share"
        )
    if doc_stride < 0:
        raise FoldwiseError(f"model.doc_stride must be 0 or more, got {doc_stride}")
    if max_question_length < 1:
        raise FoldwiseError(f"max_question_length must be 1 or more, got {max_question_length}")
    if not getattr(tokenizer, "is_fast", False):
        raise FoldwiseError(
            f"span windows need a fast tokenizer (offset mappings); {type(tokenizer).__name__} is not one"
        )
    if len(questions) != len(contexts):
        raise FoldwiseError(f"span windows: {len(questions)} questions for {len(contexts)} contexts")
    if (answer_starts is None) != (answer_texts is None):
        raise FoldwiseError("span windows: give both answer_starts and answer_texts, or neither")
    if (
        answer_starts is not None
        and answer_texts is not None
        and not (len(answer_starts) == len(answer_texts) == len(contexts))
    ):
        raise FoldwiseError(
            f"span windows: {len(answer_starts)} answer starts and {len(answer_texts)} "
            f"answer texts for {len(contexts)} contexts"
        )
    contexts = [str(c) for c in contexts]
    answers: list[Offset | None] | None = None
    if answer_starts is not None and answer_texts is not None:
        answers = []
        for row, (start, text, context) in enumerate(zip(answer_starts, answer_texts, contexts)):
            if text is None or (isinstance(text, float) and np.isnan(text)) or text == "":
                answers.append(None)  # no answer (a blank cell read by pandas is NaN)
                continue
            start, text = int(start), str(text)
            if start < 0 or context[start : start + len(text)] != text:
                raise FoldwiseError(
                    f"row {row}: answer text {text[:40]!r} is not at answer_start {start} of its context"
                )
            answers.append((start, start + len(text)))

    specials = tokenizer.num_special_tokens_to_add(pair=True)
    questions = [str(q) for q in questions]
    question_lengths = (
        [len(ids) for ids in tokenizer(questions, add_special_tokens=False)["input_ids"]] if questions else []
    )
    cut_questions = []
    for row, (question, n_tokens) in enumerate(zip(questions, question_lengths)):
        if n_tokens > max_question_length:
            question = _truncate_question(tokenizer, question, max_question_length)
            n_tokens = len(tokenizer(question, add_special_tokens=False)["input_ids"])
        room = max_length - specials - n_tokens
        if room <= 0 or doc_stride >= room:
            raise FoldwiseError(
                f"row {row}: the question leaves {max(room, 0)} context tokens per window "
                f"(model.max_length {max_length}), which must be more than model.doc_stride "
                f"({doc_stride}); raise model.max_length, lower model.doc_stride or "
                "max_question_length"
            )
        cut_questions.append(question)
    if not cut_questions:
        return Windows(
            [],
            None,
            np.zeros(0, dtype=np.int64),
            [],
            *((np.zeros(0, dtype=np.int64),) * 2 if answers is not None else (None, None)),
        )

    encoded = tokenizer(
        cut_questions,
        contexts,
        truncation="only_second",
        max_length=max_length,
        stride=doc_stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding=False,
    )
    row_of = np.asarray(encoded["overflow_to_sample_mapping"], dtype=np.int64)
    offsets: list[list[Offset | None]] = []
    for w in range(len(row_of)):
        context = contexts[row_of[w]]
        sequence_ids = encoded.sequence_ids(w)
        offsets.append(
            [
                _trim(context, int(s), int(e)) if seq == 1 else None
                for seq, (s, e) in zip(sequence_ids, encoded["offset_mapping"][w])
            ]
        )
    starts = ends = None
    if answers is not None:
        positions = [
            _answer_tokens(offsets[w], *answers[row_of[w]]) if answers[row_of[w]] else (0, 0)
            for w in range(len(row_of))
        ]
        starts = np.array([p[0] for p in positions], dtype=np.int64)
        ends = np.array([p[1] for p in positions], dtype=np.int64)
    token_types = encoded.get("token_type_ids")
    return Windows(
        input_ids=[list(ids) for ids in encoded["input_ids"]],
        token_type_ids=[list(t) for t in token_types] if token_types is not None else None,
        row_of=row_of,
        offsets=offsets,
        start_positions=starts,
        end_positions=ends,
    )


def _window_logits(logits: Sequence[np.ndarray], windows: Windows, which: str) -> list[np.ndarray]:
    """Each window's logits cut to its length (padding dropped), checked against the windows."""
    if len(logits) != len(windows):
        raise FoldwiseError(f"{which} logits: {len(logits)} windows given for {len(windows)} windows")
    out = []
    for w, (values, n) in enumerate(zip(logits, windows.lengths())):
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        if len(values) < n:
            raise FoldwiseError(f"{which} logits of window {w}: {len(values)} values for {n} tokens")
        out.append(values[:n])
    return out


def decode_spans(
    start_logits: Sequence[np.ndarray],
    end_logits: Sequence[np.ndarray],
    windows: Windows,
    contexts: Sequence[str],
    n_best: int = 20,
    max_answer_length: int = 30,
) -> list[Span]:
    """The best answer span of each row from per-token start/end logits over all its windows.

    In each window the ``n_best`` highest start and end logits among context tokens are
    paired; a pair is valid when the end token is not before the start token and the span
    is at most ``max_answer_length`` tokens. Its score is start + end logit; the best over
    the row's windows wins (ties: the first window, the higher start logit).

    Parameters
    ----------
    start_logits, end_logits : one array per window (longer ones, padded, are cut to the window).
    windows : the windows the logits were predicted on.
    contexts : the rows' contexts, as given to :func:`make_windows`.
    n_best : start and end candidates per window.
    max_answer_length : the longest answer, in tokens.

    Returns
    -------
    list of Span
        One per row; ``Span("", -inf, 0, 0)`` where no valid pair exists.
    """
    if n_best < 1 or max_answer_length < 1:
        raise FoldwiseError(f"n_best ({n_best}) and max_answer_length ({max_answer_length}) must be 1 or more")
    starts = _window_logits(start_logits, windows, "start")
    ends = _window_logits(end_logits, windows, "end")
    spans = [_empty_span() for _ in contexts]
    for w, row in enumerate(windows.row_of):
        offsets = windows.offsets[w]
        context_tokens = np.array([k for k, off in enumerate(offsets) if off is not None], dtype=np.int64)
        if not len(context_tokens):
            continue
        top_start = context_tokens[np.argsort(-starts[w][context_tokens], kind="stable")[:n_best]]
        top_end = context_tokens[np.argsort(-ends[w][context_tokens], kind="stable")[:n_best]]
        for s in top_start:
            for e in top_end:
                if e < s or e - s + 1 > max_answer_length:
                    continue
                score = float(starts[w][s] + ends[w][e])
                if score > spans[row].score:
                    start_char, end_char = offsets[s][0], offsets[e][1]
                    spans[row] = Span(contexts[row][start_char:end_char], score, start_char, end_char)
    return spans


def average_logits(
    per_model: Sequence[tuple[list[np.ndarray], list[np.ndarray]]],
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The mean start and end logits of several models over the same windows (same tokenizer).

    Parameters
    ----------
    per_model : per model, its (start logits, end logits), one array per window. Arrays of
        one window padded to different lengths are cut to the shortest (padding sits at the end).

    Returns
    -------
    (start_logits, end_logits)
        One mean array per window each.

    Raises
    ------
    FoldwiseError
        No models, or models with different numbers of windows.
    """
    if not len(per_model):
        raise FoldwiseError("average logits: no models given")
    n_windows = {len(starts) for starts, _ in per_model} | {len(ends) for _, ends in per_model}
    if len(n_windows) != 1:
        raise FoldwiseError(
            f"average logits: the models predicted different numbers of windows "
            f"({', '.join(map(str, sorted(n_windows)))}); they must share tokenizer and windows"
        )

    def mean(arrays: list) -> np.ndarray:
        arrays = [np.asarray(a, dtype=np.float64).reshape(-1) for a in arrays]
        n = min(len(a) for a in arrays)
        return np.mean([a[:n] for a in arrays], axis=0)

    starts = [mean([m[0][w] for m in per_model]) for w in range(n_windows.pop())]
    ends = [mean([m[1][w] for m in per_model]) for w in range(len(starts))]
    return starts, ends


def char_scores(
    start_logits: Sequence[np.ndarray], end_logits: Sequence[np.ndarray], windows: Windows, contexts: Sequence[str]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Start and end logits spread onto each row's context characters, for blending tokenizers.

    A context token's start logit lands on its first character and its end logit on its
    last; a character several windows score takes the maximum; every other character
    is ``-inf``. Averaging rows of several models (:func:`average_char_scores`) keeps the
    boundaries all of them share.

    Returns
    -------
    list of (start, end)
        Per row two float arrays of ``len(context)``.
    """
    starts = _window_logits(start_logits, windows, "start")
    ends = _window_logits(end_logits, windows, "end")
    scores = [(np.full(len(c), -np.inf), np.full(len(c), -np.inf)) for c in contexts]
    for w, row in enumerate(windows.row_of):
        start_row, end_row = scores[row]
        for k, off in enumerate(windows.offsets[w]):
            if off is None or off[1] <= off[0]:
                continue
            start_row[off[0]] = max(start_row[off[0]], starts[w][k])
            end_row[off[1] - 1] = max(end_row[off[1] - 1], ends[w][k])
    return scores


def average_char_scores(
    per_model: Sequence[Sequence[tuple[np.ndarray, np.ndarray]]], weights: Sequence[float] | None = None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (weighted) mean of several models' :func:`char_scores`, row by row.

    A character that some model gives ``-inf`` (no token boundary there) stays ``-inf``.

    Raises
    ------
    FoldwiseError
        No models, models with different numbers of rows or context lengths, or a weight
        count that does not match.
    """
    if not len(per_model):
        raise FoldwiseError("average char scores: no models given")
    if len({len(m) for m in per_model}) != 1:
        raise FoldwiseError("average char scores: the models scored different numbers of rows")
    w = np.ones(len(per_model)) if weights is None else np.asarray(weights, dtype=np.float64)
    if len(w) != len(per_model) or (w < 0).any() or w.sum() <= 0:
        raise FoldwiseError(
            f"average char scores: weights {w.tolist()} for {len(per_model)} models "
            "(one non-negative weight per model, positive sum)"
        )
    w = w / w.sum()
    used = w > 0  # a model weighted 0 does not veto a boundary
    out = []
    for row in range(len(per_model[0])):
        if len({len(m[row][0]) for m in per_model}) != 1:
            raise FoldwiseError(f"average char scores: row {row} has contexts of different lengths across models")
        blended = []
        for side in (0, 1):
            stack = np.stack([np.asarray(m[row][side], dtype=np.float64) for m in per_model])[used]
            missing = ~np.isfinite(stack)
            blended.append(
                np.where(missing.any(axis=0), -np.inf, (w[used, None] * np.where(missing, 0.0, stack)).sum(axis=0))
            )
        out.append((blended[0], blended[1]))
    return out


def decode_char_spans(
    char_start_end_per_row: Sequence[tuple[np.ndarray, np.ndarray]], contexts: Sequence[str], max_answer_chars: int
) -> list[Span]:
    """The best character span of each row from per-character start and end scores.

    Every pair of a start character ``i`` and an end character ``j >= i`` with
    ``j - i + 1 <= max_answer_chars`` and both scores finite is scored ``start[i] + end[j]``;
    the best wins (ties: the shorter, then the earlier span).

    Parameters
    ----------
    char_start_end_per_row : per row, (start scores, end scores) of ``len(context)`` each.
    contexts : the rows' contexts.
    max_answer_chars : the longest answer, in characters.

    Returns
    -------
    list of Span
        One per row, ``text == context[start_char:end_char]``; ``Span("", -inf, 0, 0)``
        where no finite pair exists.
    """
    if max_answer_chars < 1:
        raise FoldwiseError(f"max_answer_chars must be 1 or more, got {max_answer_chars}")
    if len(char_start_end_per_row) != len(contexts):
        raise FoldwiseError(f"decode char spans: {len(char_start_end_per_row)} score rows for {len(contexts)} contexts")
    spans = []
    for row, ((start, end), context) in enumerate(zip(char_start_end_per_row, contexts)):
        start, end = np.asarray(start, dtype=np.float64), np.asarray(end, dtype=np.float64)
        if not (len(start) == len(end) == len(context)):
            raise FoldwiseError(
                f"decode char spans: row {row} has {len(start)}/{len(end)} start/end scores "
                f"for {len(context)} characters"
            )
        best = _empty_span()
        for d in range(min(max_answer_chars, len(context))):
            total = start[: len(context) - d] + end[d:]
            if not np.isfinite(total).any():
                continue
            i = int(np.argmax(total))
            if total[i] > best.score:
                best = Span(context[i : i + d + 1], float(total[i]), i, i + d + 1)
        spans.append(best)
    return spans
