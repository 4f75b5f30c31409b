"""SQuAD v1.1 exact match / F1 and Kaggle's word Jaccard on hand-worked cases."""

from __future__ import annotations

import pytest

from foldwise.errors import FoldwiseError
from foldwise.tasks.text_metrics import (
    exact_match,
    mean_word_jaccard,
    normalize_answer,
    squad_scores,
    token_f1,
    word_jaccard,
)


def test_normalize_answer_follows_the_official_order():
    assert normalize_answer("The  Cat's hat!") == "cats hat"
    assert normalize_answer("  An apple, a pear and THE plum.  ") == "apple pear and plum"
    # articles only as whole words: "theatre", "another", "banana" keep their letters
    assert normalize_answer("theatre another banana") == "theatre another banana"
    # punctuation goes before articles are found: "the-end" -> "theend" (no article left)
    assert normalize_answer("the-end") == "theend"
    assert normalize_answer("a.b") == "ab"
    assert normalize_answer("") == ""
    assert normalize_answer("¿Qué?") == "¿qué"  # only ASCII punctuation is removed


def test_exact_match_is_the_best_over_golds():
    assert exact_match("the Eiffel Tower.", ["Eiffel tower"]) == 1.0
    assert exact_match("Eiffel", ["Eiffel tower", "Paris"]) == 0.0
    assert exact_match("paris", ["Eiffel tower", "Paris!"]) == 1.0
    assert exact_match("", ["the"]) == 1.0  # both normalise to ""


def test_token_f1_hand_worked():
    # pred {big, red, dog}, gold {red, dog}: p = 2/3, r = 1, f1 = 0.8
    assert token_f1("the big red dog", ["a red dog"]) == pytest.approx(0.8)
    # repeats count once per match (Counter overlap): pred "dog dog", gold "dog" -> p 1/2, r 1
    assert token_f1("dog dog", ["dog"]) == pytest.approx(2 / 3)
    # best of several golds
    assert token_f1("new york city", ["york", "New York City", "boston"]) == 1.0
    assert token_f1("new york city", ["york", "boston"]) == pytest.approx(0.5)  # p 1/3, r 1
    assert token_f1("cat", ["dog"]) == 0.0


def test_token_f1_of_empty_text_is_zero_as_in_v1_1():
    assert token_f1("", ["something"]) == 0.0
    assert token_f1("something", [""]) == 0.0
    assert token_f1("the", ["a"]) == 0.0  # both empty once normalised: no common token


def test_golds_must_be_a_list():
    with pytest.raises(FoldwiseError, match="no gold answers"):
        token_f1("x", [])
    with pytest.raises(FoldwiseError, match="one string"):
        exact_match("x", "x")


def test_squad_scores_are_means_on_the_0_100_scale():
    scores = squad_scores(["the big red dog", "Paris", "nothing"], [["a red dog"], ["paris", "France"], ["something"]])
    assert scores["exact_match"] == pytest.approx(100 / 3)
    assert scores["f1"] == pytest.approx(100 * (0.8 + 1.0 + 0.0) / 3)
    assert list(scores) == ["f1", "exact_match"]
    with pytest.raises(FoldwiseError, match="2 predictions for 1 questions"):
        squad_scores(["a", "b"], [["a"]])


def test_word_jaccard_is_kaggles_definition():
    assert word_jaccard("", "") == 0.5
    assert word_jaccard("   ", "\n") == 0.5
    assert word_jaccard("", "hello") == 0.0
    assert word_jaccard("Hello world", "hello") == pytest.approx(0.5)
    # punctuation stays attached: "sad!" and "sad" differ; sets drop repeats
    assert word_jaccard("so sad!", "sad sad so") == pytest.approx(1 / 3)
    assert word_jaccard("I love it", "i LOVE it") == 1.0


def test_mean_word_jaccard():
    assert mean_word_jaccard(["Hello world", "", "a"], ["hello", "", "b"]) == pytest.approx((0.5 + 0.5 + 0) / 3)
    with pytest.raises(FoldwiseError, match="1 predictions for 2"):
        mean_word_jaccard(["a"], ["a", "b"])


def test_agrees_with_the_official_script_on_tricky_strings():
    # evaluate-v1.1.py, verbatim apart from names
    import re
    import string
    from collections import Counter

    def official_normalize(s):
        def remove_articles(text):
            return re.sub(r"\b(a|an|the)\b", " ", text)

        def white_space_fix(text):
            return " ".join(text.split())

        def remove_punc(text):
            exclude = set(string.punctuation)
            return "".join(ch for ch in text if ch not in exclude)

        return white_space_fix(remove_articles(remove_punc(s.lower())))

    def official_f1(prediction, ground_truth):
        prediction_tokens = official_normalize(prediction).split()
        ground_truth_tokens = official_normalize(ground_truth).split()
        common = Counter(prediction_tokens) & Counter(ground_truth_tokens)
        num_same = sum(common.values())
        if num_same == 0:
            return 0
        precision = 1.0 * num_same / len(prediction_tokens)
        recall = 1.0 * num_same / len(ground_truth_tokens)
        return (2 * precision * recall) / (precision + recall)

    texts = [
        "The The the",
        "A-an the_a",
        "l'the",
        "Théâtre, the opera",
        "\tan\u00a0apple\n",
        "a's b's",
        "1,000 (approx.)",
        "the the dog dog cat",
        "ÀN An an",
        "",
        "...",
    ]
    for p in texts:
        assert normalize_answer(p) == official_normalize(p)
        for g in texts:
            assert token_f1(p, [g]) == pytest.approx(official_f1(p, g))
            assert exact_match(p, [g]) == float(official_normalize(p) == official_normalize(g))
