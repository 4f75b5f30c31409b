"""Model-free span baselines: sentence splitting, the overlap sentence, the whole text."""

from __future__ import annotations

from foldwise.tasks.span.baselines import overlap_sentence, split_sentences, whole_text


def test_split_sentences_gives_stripped_character_spans():
    text = "  First one. Second?!  Third!\nDr.Who stays.  "
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == ["First one.", "Second?!", "Third!", "Dr.Who stays."]
    assert spans[0] == (2, 12)
    assert split_sentences("no end mark") == [(0, 11)]
    assert split_sentences("") == [] and split_sentences(" \n ") == []
    assert split_sentences("3.14 is pi. Yes") == [(0, 11), (12, 15)]  # a dot inside a word does not split


def test_overlap_sentence_picks_most_shared_words():
    context = "The cat sat on the mat. Paris is the capital of France. Dogs bark loudly."
    assert overlap_sentence("What is the capital of France?", context) == "Paris is the capital of France."
    assert overlap_sentence("Where did the cat sit?", context) == "The cat sat on the mat."


def test_overlap_sentence_ties_and_articles():
    context = "Apples are red. Apples are green."
    assert overlap_sentence("Are apples tasty?", context) == "Apples are red."  # tie: the earliest
    # articles do not count as shared words; case and punctuation are ignored
    assert overlap_sentence("the a an", "The one. A two. An three.") == "The one."
    assert overlap_sentence("THREE!", "The one. A two. An three.") == "An three."
    assert overlap_sentence("anything", "") == ""


def test_whole_text_strips():
    assert whole_text("  hello there \n") == "hello there"
    assert whole_text("") == ""
