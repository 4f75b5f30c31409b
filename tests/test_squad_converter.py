"""SQuAD v1.1 as an extractive-QA competition: a seeded subset of whole train articles,
the dev set as test, every gold answer held out in solution.csv; CSV round trips exactly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO
from datasets import Dataset, DatasetDict

from foldwise.data import converters
from foldwise.data.converters import (
    CONVERTERS,
    SQUAD_PLACEHOLDER,
    SQUAD_SEED,
    SQUAD_TRAIN_ROWS,
    squad_competition,
    squad_questions,
    squad_train_articles,
)
from foldwise.data.fetch import write_frames
from foldwise.errors import FoldwiseError
from foldwise.io.tables import read_csv

#: the real mirror, beside the clone
SQUAD_MIRROR = REPO.parent / "shared" / "data" / "squad_v1.1"
FILES = {"train": "train.csv", "test": "test.csv", "sample_submission": "sample_submission.csv"}

QUOTED = 'He said "stop, now",\nthen left.\n  Later: "fine".'


def qa(qid: str, question: str, context: str, *answers: str) -> dict:
    """One SQuAD question whose answers are found in ``context`` (start = first match)."""
    return {
        "id": qid,
        "question": question,
        "answers": [{"text": a, "answer_start": context.index(a)} for a in answers],
    }


def article(title: str, *paragraphs: tuple[str, list[dict]]) -> dict:
    return {"title": title, "paragraphs": [{"context": c, "qas": q} for c, q in paragraphs]}


def tiny_train() -> list[dict]:
    """Three articles of 3, 2 and 1 questions (t-1 has two gold answers); Quotes' context
    holds quotes, commas and newlines."""
    c1, c2 = "Alpha is the first letter.", "Beta follows alpha, then gamma."
    return [
        article(
            "Letters",
            (c1, [qa("t-0", "Which is first?", c1, "Alpha")]),
            (c2, [qa("t-1", "What follows alpha?", c2, "Beta", "Beta follows"), qa("t-2", "Then?", c2, "gamma")]),
        ),
        article(
            "Quotes",
            (QUOTED, [qa("t-3", "What did he say?", QUOTED, '"stop, now"'), qa("t-4", "And later?", QUOTED, '"fine"')]),
        ),
        article("Numbers", ("One, two, three.", [qa("t-5", "After one?", "One, two, three.", "two")])),
    ]


def tiny_dev() -> list[dict]:
    c = 'The "Broncos" won,\nbeating the Panthers 24–10.'
    return [
        article(
            "Super_Bowl",
            (c, [qa("d-0", "Who won?", c, '"Broncos"', "Broncos", "Broncos"), qa("d-1", "Score?", c, "24–10")]),
        ),
        article("Other", ("Plain text here.", [qa("d-2", "What text?", "Plain text here.", "Plain")])),
    ]


def write_mirror(folder: Path, train: list[dict], dev: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in (("train-v1.1.json", train), ("dev-v1.1.json", dev)):
        (folder / name).write_text(json.dumps({"version": "1.1", "data": data}), encoding="utf-8")
    return folder


def round_trip(frames: dict[str, pd.DataFrame], folder: Path) -> dict[str, pd.DataFrame]:
    """The frames written as fetch writes them, read back as the kit reads competition CSVs."""
    write_frames(folder, frames, FILES, ",")
    return {key: read_csv(folder / name) for key, name in {**FILES, "solution": "solution.csv"}.items()}


def assert_answers_in_context(train: pd.DataFrame) -> None:
    for row in train.itertuples(index=False):
        start = int(row.answer_start)
        assert row.context[start : start + len(row.answer_text)] == row.answer_text, row.id


def one_line_error(call, *args) -> str:
    with pytest.raises(FoldwiseError) as info:
        call(*args)
    assert "\n" not in str(info.value)
    return str(info.value)


# ---------------------------------------------------------------------------
# a tiny mirror in SQuAD's JSON schema


def test_mirror_frames_columns_and_held_out_answers(tmp_path):
    mirror = write_mirror(tmp_path / "squad", tiny_train(), tiny_dev())
    assert CONVERTERS["squad"].reads(mirror)
    frames = CONVERTERS["squad"].from_mirror(mirror)
    assert set(frames) == {"train", "test", "sample_submission", "solution"}
    train = frames["train"]
    assert list(train.columns) == ["id", "title", "question", "context", "answer_text", "answer_start"]
    # fewer questions than SQUAD_TRAIN_ROWS: every article, in file order, first gold answer
    assert train["id"].tolist() == [f"t-{i}" for i in range(6)]
    assert train["answer_text"].tolist() == ["Alpha", "Beta", "gamma", '"stop, now"', '"fine"', "two"]
    assert train.loc[3].to_dict() == {
        "id": "t-3",
        "title": "Quotes",
        "question": "What did he say?",
        "context": QUOTED,
        "answer_text": '"stop, now"',
        "answer_start": QUOTED.index('"stop'),
    }
    assert frames["test"].to_dict("list") == {
        "id": ["d-0", "d-1", "d-2"],
        "title": ["Super_Bowl", "Super_Bowl", "Other"],
        "question": ["Who won?", "Score?", "What text?"],
        "context": [tiny_dev()[0]["paragraphs"][0]["context"]] * 2 + ["Plain text here."],
    }
    assert frames["sample_submission"].to_dict("list") == {
        "id": ["d-0", "d-1", "d-2"],
        "answer_text": [SQUAD_PLACEHOLDER] * 3,
    }
    solution = frames["solution"]
    assert list(solution.columns) == ["id", "answer_text"] and solution["id"].tolist() == ["d-0", "d-1", "d-2"]
    # every gold answer, repeats kept in order, as a JSON list (non-ASCII kept as is)
    assert [json.loads(s) for s in solution["answer_text"]] == [
        ['"Broncos"', "Broncos", "Broncos"],
        ["24–10"],
        ["Plain"],
    ]
    assert "24–10" in solution["answer_text"][1]


def test_csv_round_trip_keeps_quotes_commas_newlines_and_answer_spans(tmp_path):
    frames = CONVERTERS["squad"].from_mirror(write_mirror(tmp_path / "squad", tiny_train(), tiny_dev()))
    back = round_trip(frames, tmp_path / "data")
    for key, frame in frames.items():
        assert back[key].equals(frame.astype(str)), key
    assert back["train"]["context"][3] == QUOTED
    assert_answers_in_context(back["train"])
    assert not back["sample_submission"].isna().any().any()


def test_train_subset_is_whole_seeded_articles(tmp_path):
    train = squad_questions(tiny_train(), "train")
    dev = squad_questions(tiny_dev(), "dev")
    sizes = {"Letters": 3, "Quotes": 2, "Numbers": 1}
    subsets = set()
    for seed in range(8):
        order = [list(sizes)[i] for i in np.random.default_rng(seed).permutation(3)]
        for rows in (1, 3, 4):
            # the shuffled articles, taken until they hold at least ``rows`` questions
            taken = next(order[:k] for k in range(1, 4) if sum(sizes[t] for t in order[:k]) >= rows)
            frames = squad_competition(train, dev, rows=rows, seed=seed)
            got = frames["train"]
            assert sorted(set(got["title"])) == sorted(taken)
            assert len(got) == sum(sizes[t] for t in taken) >= rows  # whole articles only
            # file order kept, and the same call gives the same frame
            assert got["id"].tolist() == [i for i in train["id"] if train.set_index("id").title[i] in taken]
            assert got.equals(squad_competition(train, dev, rows=rows, seed=seed)["train"])
            if rows == 1:
                subsets.add(tuple(taken))
    assert len(subsets) > 1  # the seed matters
    assert squad_train_articles(train["title"], rows=100) == ["Letters", "Quotes", "Numbers"]
    assert (SQUAD_TRAIN_ROWS, SQUAD_SEED) == (6000, 42)


def test_squad_small_is_the_first_seeded_articles_and_a_seeded_dev_sample(monkeypatch, tmp_path):
    """squad_small: the head of squad's article shuffle (a subset of its train) and a seeded
    sample of the dev questions, in file order, with their gold answers."""
    monkeypatch.setattr(converters, "SQUAD_SMALL_TRAIN_ROWS", 2)
    monkeypatch.setattr(converters, "SQUAD_SMALL_TEST_ROWS", 2)
    mirror = write_mirror(tmp_path / "squad", tiny_train(), tiny_dev())
    full, small = CONVERTERS["squad"].from_mirror(mirror), CONVERTERS["squad_small"].from_mirror(mirror)
    train = squad_questions(tiny_train(), "train")
    assert small["train"].equals(squad_competition(train, squad_questions(tiny_dev(), "dev"), rows=2)["train"])
    assert set(small["train"]["id"]) < set(full["train"]["id"])
    ids = small["test"]["id"].tolist()
    assert len(ids) == 2 and ids == [i for i in full["test"]["id"] if i in ids]  # file order
    assert ids == CONVERTERS["squad_small"].from_mirror(mirror)["test"]["id"].tolist()  # seeded
    assert small["solution"].equals(full["solution"][full["solution"]["id"].isin(ids)].reset_index(drop=True))
    assert small["sample_submission"]["id"].tolist() == ids


def test_bad_mirror_files_are_one_line_errors(tmp_path):
    moved = tiny_train()
    moved[2]["paragraphs"][0]["qas"][0]["answers"][0]["answer_start"] = 1
    message = one_line_error(CONVERTERS["squad"].from_mirror, write_mirror(tmp_path / "a", moved, tiny_dev()))
    assert "train-v1.1.json: question 't-5': answer 'two' is not the context at answer_start 1" in message

    missing = tiny_dev()
    del missing[1]["paragraphs"][0]["context"]
    message = one_line_error(CONVERTERS["squad"].from_mirror, write_mirror(tmp_path / "b", tiny_train(), missing))
    assert message.endswith("dev-v1.1.json: article 1 ('Other') paragraph 0: missing key 'context'")

    unanswered = tiny_dev()
    unanswered[1]["paragraphs"][0]["qas"][0]["answers"] = []
    message = one_line_error(CONVERTERS["squad"].from_mirror, write_mirror(tmp_path / "c", tiny_train(), unanswered))
    assert message.endswith("dev-v1.1.json: question 'd-2' has no answer")

    carriage = tiny_dev()
    carriage[1]["paragraphs"][0]["qas"][0]["question"] = "What\rtext?"
    message = one_line_error(CONVERTERS["squad"].from_mirror, write_mirror(tmp_path / "d", tiny_train(), carriage))
    assert "question 'd-2': question holds a lone carriage return" in message

    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "train-v1.1.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "e" / "dev-v1.1.json").write_text("{}", encoding="utf-8")
    assert "train-v1.1.json: cannot parse JSON" in one_line_error(CONVERTERS["squad"].from_mirror, tmp_path / "e")


def test_hub_split_gives_the_mirror_frames(monkeypatch, tmp_path):
    def split(articles: list[dict]) -> Dataset:
        rows = [
            {
                "id": q["id"],
                "title": a["title"],
                "context": p["context"],
                "question": q["question"],
                "answers": {
                    "text": [x["text"] for x in q["answers"]],
                    "answer_start": [x["answer_start"] for x in q["answers"]],
                },
            }
            for a in articles
            for p in a["paragraphs"]
            for q in p["qas"]
        ]
        return Dataset.from_list(rows)

    calls = []
    hub = DatasetDict(train=split(tiny_train()), validation=split(tiny_dev()))
    monkeypatch.setattr(converters, "load_hub", lambda path, name=None, **o: calls.append(path) or hub)
    frames = CONVERTERS["squad"].from_hub()
    assert calls == ["rajpurkar/squad"]
    mirror = CONVERTERS["squad"].from_mirror(write_mirror(tmp_path / "squad", tiny_train(), tiny_dev()))
    for key in mirror:
        assert frames[key].equals(mirror[key]), key


# ---------------------------------------------------------------------------
# the real mirror (~6 s on idle cores)


def test_real_mirror_converts_and_round_trips(tmp_path):
    if not all((SQUAD_MIRROR / f).is_file() for f in ("train-v1.1.json", "dev-v1.1.json")):
        pytest.skip(f"SQuAD v1.1 mirror not found at {SQUAD_MIRROR} (train-v1.1.json, dev-v1.1.json)")
    frames = CONVERTERS["squad"].from_mirror(SQUAD_MIRROR)
    train, test = frames["train"], frames["test"]
    assert len(test) == 10570 and test["id"].is_unique and len(frames["solution"]) == 10570
    assert len(train) >= SQUAD_TRAIN_ROWS
    # whole articles, taken in seeded shuffle order until the target is reached
    articles = json.loads((SQUAD_MIRROR / "train-v1.1.json").read_text(encoding="utf-8"))["data"]
    sizes = {a["title"]: sum(len(p["qas"]) for p in a["paragraphs"]) for a in articles}
    order = [articles[i]["title"] for i in np.random.default_rng(SQUAD_SEED).permutation(len(articles))]
    counts = train["title"].value_counts().to_dict()
    assert counts == {t: sizes[t] for t in counts}
    taken = order[: len(counts)]
    assert set(taken) == set(counts) and sum(sizes[t] for t in taken[:-1]) < SQUAD_TRAIN_ROWS
    back = round_trip(frames, tmp_path / "data")
    assert back["train"].equals(train.astype(str)) and back["test"].equals(test)
    assert_answers_in_context(back["train"])
    golds = back["solution"]["answer_text"].map(json.loads)
    assert golds.map(len).min() >= 1 and golds.map(len).sum() > len(test)  # dev has several answers each

    small = CONVERTERS["squad_small"].from_mirror(SQUAD_MIRROR)  # a subset of both, sized for generation
    assert len(small["test"]) == 1000 and set(small["test"]["id"]) < set(test["id"])
    assert set(small["train"]["id"]) < set(train["id"]) and 2000 <= len(small["train"]) < 2400
