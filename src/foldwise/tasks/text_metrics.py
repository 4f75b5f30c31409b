"""Scores of predicted texts: SQuAD v1.1 exact match / F1, Kaggle's word Jaccard, ROUGE.

``normalize_answer``, ``exact_match`` and ``token_f1`` follow the official SQuAD v1.1
``evaluate-v1.1.py`` to the letter (max over the gold answers of a question);
``squad_scores`` reports them on the published 0-100 scale. ``word_jaccard`` is the
metric of Kaggle's Tweet Sentiment Extraction as its evaluation page defines it.
``rouge_scores`` is ROUGE-1/2/L/Lsum F-measure with Porter stemming through Google's
``rouge-score`` package (the published summarization setting), 0-100, the best over a
row's references.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import FoldwiseError

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(s: str) -> str:
    """The official SQuAD v1.1 normalisation of an answer.

    Lower case, remove ASCII punctuation, replace the articles *a*, *an*, *the* (whole
    words) by a space, then collapse whitespace to single spaces (stripped), in that order.

    Parameters
    ----------
    s : the answer text.

    Returns
    -------
    str
        The normalised text, e.g. ``"The  Cat's hat!"`` -> ``"cats hat"``.
    """
    text = s.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def _check_golds(golds: Sequence[str]) -> list[str]:
    if isinstance(golds, str):
        raise FoldwiseError("gold answers must be a list of strings, got one string; wrap it as [answer]")
    golds = list(golds)
    if not golds:
        raise FoldwiseError("a question has no gold answers to score against (empty list)")
    return golds


def _check_rows(metric: str, predictions: Sequence[Any], truths: Sequence[Any], what: str) -> None:
    """One prediction per row, and at least one row (a FoldwiseError naming ``metric`` otherwise)."""
    if len(predictions) != len(truths):
        raise FoldwiseError(f"{metric}: {len(predictions)} predictions for {len(truths)} {what}")
    if not len(predictions):
        raise FoldwiseError(f"{metric}: no {'questions' if what == 'questions' else 'rows'} to score")


def _f1_one(prediction: str, gold: str) -> float:
    pred_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    num_same = sum((Counter(pred_tokens) & Counter(gold_tokens)).values())
    if num_same == 0:  # also both empty: 0, as in evaluate-v1.1.py
        return 0.0
    precision = num_same / len(pred_tokens)
    recall = num_same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals some normalised gold answer, else 0.0.

    Parameters
    ----------
    prediction : the predicted answer.
    golds : the gold answers of the question (at least one).

    Raises
    ------
    FoldwiseError
        ``golds`` is empty or a bare string.
    """
    pred = normalize_answer(prediction)
    return float(max(pred == normalize_answer(gold) for gold in _check_golds(golds)))


def token_f1(prediction: str, golds: Sequence[str]) -> float:
    """The official SQuAD v1.1 token F1 (0..1), the best over the gold answers.

    Tokens are the whitespace words of the normalised texts; the overlap counts repeats
    (``Counter`` intersection). As in ``evaluate-v1.1.py``, no common token gives 0, so
    an empty normalised prediction or gold scores 0 even against an empty one (exact
    match calls that pair equal).

    Parameters
    ----------
    prediction : the predicted answer.
    golds : the gold answers of the question (at least one).

    Raises
    ------
    FoldwiseError
        ``golds`` is empty or a bare string.
    """
    return max(_f1_one(prediction, gold) for gold in _check_golds(golds))


def squad_scores(predictions: Sequence[str], golds: Sequence[Sequence[str]]) -> dict[str, float]:
    """Mean token F1 and exact match over questions, on the published 0-100 scale.

    Parameters
    ----------
    predictions : one predicted answer per question.
    golds : the gold answers of each question (a list per question).

    Returns
    -------
    dict
        ``{"f1": ..., "exact_match": ...}``, each 100 x the mean over questions.

    Raises
    ------
    FoldwiseError
        Different numbers of predictions and questions, no questions, or a question
        without gold answers.
    """
    _check_rows("squad scores", predictions, golds, "questions")
    f1 = [token_f1(p, g) for p, g in zip(predictions, golds)]
    em = [exact_match(p, g) for p, g in zip(predictions, golds)]
    return {"f1": 100.0 * float(np.mean(f1)), "exact_match": 100.0 * float(np.mean(em))}


def word_jaccard(a: str, b: str) -> float:
    """Kaggle Tweet Sentiment Extraction's Jaccard of two texts' lower-cased word sets.

    Words are ``str.lower().split()``; punctuation stays attached. Two texts without
    words score 0.5, as the competition's definition says.

    Parameters
    ----------
    a, b : the predicted and the true text (symmetric).

    Returns
    -------
    float
        |A ∩ B| / |A ∪ B| in 0..1 (0.5 when both are empty).
    """
    words_a = set(str(a).lower().split())
    words_b = set(str(b).lower().split())
    if not words_a and not words_b:
        return 0.5
    common = len(words_a & words_b)
    return common / (len(words_a) + len(words_b) - common)


def mean_word_jaccard(predictions: Sequence[str], truths: Sequence[str]) -> float:
    """The competition score: :func:`word_jaccard` averaged over rows (0..1).

    Raises
    ------
    FoldwiseError
        Different numbers of predictions and truths, or no rows.
    """
    _check_rows("word jaccard", predictions, truths, "true texts")
    return float(np.mean([word_jaccard(p, t) for p, t in zip(predictions, truths)]))


#: the ROUGE variants reported, in order (the first is the ``rouge`` metric)
ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")
_ROUGE_SCORER: Any = None


def rouge_scores(predictions: Sequence[str], references: Sequence[Sequence[str]]) -> dict[str, float]:
    """Mean ROUGE-1/2/L/Lsum F-measure over rows, 0-100, each row its best reference.

    Parameters
    ----------
    predictions : one generated text per row.
    references : the reference texts of each row (a list per row).

    Returns
    -------
    dict
        ``{"rouge1": ..., "rouge2": ..., "rougeL": ..., "rougeLsum": ...}``.

    Raises
    ------
    FoldwiseError
        Different numbers of predictions and rows, no rows, or a row without references.
    """
    global _ROUGE_SCORER
    _check_rows("rouge", predictions, references, "rows")
    if _ROUGE_SCORER is None:
        from rouge_score import rouge_scorer

        _ROUGE_SCORER = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)
    totals = dict.fromkeys(ROUGE_TYPES, 0.0)
    for prediction, golds in zip(predictions, references):
        best = dict.fromkeys(ROUGE_TYPES, 0.0)
        for gold in _check_golds(golds):
            scored = _ROUGE_SCORER.score(str(gold), str(prediction))
            for name in ROUGE_TYPES:
                best[name] = max(best[name], scored[name].fmeasure)
        for name in ROUGE_TYPES:
            totals[name] += best[name]
    return {name: 100.0 * value / len(predictions) for name, value in totals.items()}


def pair_similarity(metric: str) -> Callable[[str, str], float]:
    """``(a, b) -> 0..1``: how much two texts agree under ``metric`` (squad: token F1,
    word_jaccard: word Jaccard, rouge: ROUGE-1 F), for choosing among candidate texts."""
    if metric in ("squad", "squad_f1"):
        return lambda a, b: token_f1(a, [b])
    if metric == "word_jaccard":
        return word_jaccard
    if metric in ("rouge", *ROUGE_TYPES):
        name = "rouge1" if metric == "rouge" else metric
        return lambda a, b: rouge_scores([a], [[b]])[name] / 100.0
    raise FoldwiseError(f"no text similarity for metric {metric!r}")


# --- the text tasks' metrics: (truth with .answers / .first, answer texts) -> float ---


def squad_f1(truth: Any, texts: np.ndarray) -> float:
    """Token F1 (0-100) of predicted answer texts, max over each row's gold answers."""
    return squad_scores(list(texts), truth.answers)["f1"]


def squad_exact_match(truth: Any, texts: np.ndarray) -> float:
    """Exact match (0-100) after the official SQuAD normalisation, max over gold answers."""
    return squad_scores(list(texts), truth.answers)["exact_match"]


def word_jaccard_score(truth: Any, texts: np.ndarray) -> float:
    """Tweet Sentiment Extraction's mean word Jaccard (0-1) against each row's first answer."""
    return mean_word_jaccard(list(texts), truth.first)


def _rouge(name: str) -> Callable[[Any, np.ndarray], float]:
    def score(truth: Any, texts: np.ndarray) -> float:
        return rouge_scores(list(texts), truth.answers)[name]

    score.__name__ = score.__qualname__ = f"{name}_score"
    score.__doc__ = f"{name} F-measure (0-100) with stemming, the best over each row's references."
    return score


rouge1_score = _rouge("rouge1")

#: every score a text task's report can show, by name (``rouge`` is ROUGE-1)
SCORES: dict[str, Callable[[Any, np.ndarray], float]] = {
    "squad": squad_f1,
    "squad_f1": squad_f1,
    "exact_match": squad_exact_match,
    "word_jaccard": word_jaccard_score,
    "rouge": rouge1_score,
    "rouge1": rouge1_score,
    **{name: _rouge(name) for name in ROUGE_TYPES[1:]},
}
