"""The converters of the scored-target benchmarks: STS-B (regression, a seeded score-stratified
20 % held out) and SemEval-2018 V-oc (ordinal valence -3..3, CV only)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED_GOEMOTIONS
from datasets import Dataset, DatasetDict, Features, Value

from foldwise.data import converters
from foldwise.data.converters import CONVERTERS, STSB_FILES, VOC_FILE, held_out_on_quantiles, stsb_competition
from foldwise.data.fetch import write_frames
from foldwise.errors import FoldwiseError
from foldwise.io.tables import read_csv

#: the offline data mirror: FOLDWISE_SHARED_DATA, else the folder holding the GoEmotions mirror
SHARED_DATA = Path(os.environ.get("FOLDWISE_SHARED_DATA") or SHARED_GOEMOTIONS.parent)
FILES = {"train": "train.csv", "test": "test.csv", "sample_submission": "sample_submission.csv"}
VOC_CLASSES = {
    -3: "-3: very negative emotional state can be inferred",
    -2: "-2: moderately negative emotional state can be inferred",
    -1: "-1: slightly negative emotional state can be inferred",
    0: "0: neutral or mixed emotional state can be inferred",
    1: "1: slightly positive emotional state can be inferred",
    2: "2: moderately positive emotional state can be inferred",
    3: "3: very positive emotional state can be inferred",
}


def pairs(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` STS-B-like pairs in shuffled GLUE order, scores skewed towards 5 (as written: steps of 0.2)."""
    rng = np.random.default_rng(seed)
    index = rng.permutation(n)
    return pd.DataFrame(
        {
            "index": index,
            "sentence1": [f'A man says "hi" {i}.' for i in index],
            "sentence2": [f"A man speaks {i}." for i in index],
            "score": np.round(5 * rng.beta(3, 1.5, n) / 0.2) * 0.2,
        }
    )


def tsv_line(index: int, sentence1: str = "A cat sits.", sentence2: str = "A cat is sitting.") -> str:
    """The nine fields of an STS-B row before its score."""
    return "\t".join([str(index), "main-captions", "MSRvid", "2012test", "0001", "none", "none", sentence1, sentence2])


def stsb_mirror(tmp_path: Path, train: list[str], dev: list[str]) -> Path:
    mirror = tmp_path / "stsb"
    mirror.mkdir()
    for name, lines in zip(STSB_FILES, (train, dev)):
        (mirror / name).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return mirror


def stsb_row(index: int, score: str, sentence1: str = "A cat sits.") -> str:
    return f"{tsv_line(index, sentence1)}\t{score}"


def voc_mirror(tmp_path: Path, lines: list[str]) -> Path:
    mirror = tmp_path / "voc"
    mirror.mkdir()
    (mirror / VOC_FILE).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return mirror


def one_line_error(call, *args) -> str:
    with pytest.raises(FoldwiseError) as info:
        call(*args)
    assert "\n" not in str(info.value)
    return str(info.value)


# ---------------------------------------------------------------------------
# STS-B


def test_stsb_holds_out_a_seeded_score_stratified_fifth():
    source = pairs(500)
    frames = stsb_competition(source, "pairs")
    train, test, solution, sample = frames["train"], frames["test"], frames["solution"], frames["sample_submission"]
    assert len(test) == 100 and len(train) == 400
    assert list(train.columns) == ["id", "sentence1", "sentence2", "score"]
    assert list(test.columns) == ["id", "sentence1", "sentence2"]
    assert list(solution.columns) == ["id", "score"] and solution["id"].tolist() == test["id"].tolist()
    ids = train["id"].tolist() + test["id"].tolist()
    assert len(set(ids)) == 500 and set(ids) == {f"stsb-{i}" for i in range(500)}
    assert train["id"].tolist() == sorted(train["id"], key=lambda i: int(i.split("-")[1]))  # GLUE order
    scores = source.set_index("index")["score"]
    assert solution["score"].tolist() == [scores[int(i.split("-")[1])] for i in solution["id"]]  # as written
    assert train["sentence1"][0] == 'A man says "hi" ' + train["id"][0].split("-")[1] + "."
    # stratified: each decile of the scores keeps its fifth in the test (a random fifth strays further)
    ranked = source.sort_values("index").set_index("index")["score"].rank(method="first")
    decile = ((ranked - 1) * 10 // 500).astype(int)
    held = np.bincount([decile[int(i.split("-")[1])] for i in solution["id"]], minlength=10)
    assert held.tolist() == [10] * 10
    assert abs(train["score"].mean() - solution["score"].mean()) < 0.05
    assert list(sample.columns) == ["id", "score"] and sample["id"].tolist() == test["id"].tolist()
    assert set(sample["score"]) == {round(train["score"].mean(), 4)}
    again = stsb_competition(pairs(500), "pairs")  # seeded: the same split, whatever the input order
    assert again["test"]["id"].tolist() == test["id"].tolist()
    reordered = stsb_competition(source.sample(frac=1, random_state=3), "pairs")
    assert reordered["test"]["id"].tolist() == test["id"].tolist()
    values = source["score"].to_numpy()
    assert not np.array_equal(held_out_on_quantiles(values, 0.2, 42, 10), held_out_on_quantiles(values, 0.2, 7, 10))


def test_stsb_repeated_index_is_refused():
    source = pairs(30)
    source.loc[4, "index"] = source.loc[9, "index"]
    message = one_line_error(stsb_competition, source, "both.tsv")
    assert message == f"both.tsv: GLUE index {source.loc[9, 'index']} appears twice"


@pytest.mark.parametrize(
    "bad, message",
    [
        (stsb_row(7, "5.5"), "row 3: column 'score' has '5.5', expected a number from 0 to 5"),
        (stsb_row(7, "n/a"), "row 3: column 'score' has 'n/a', expected a number from 0 to 5"),
        (stsb_row(7, "1.0", "A cat\tsits."), "row 3: 11 tab-separated fields, expected 10 (index, genre, "),
        (tsv_line(7), "row 3: 9 tab-separated fields, expected 10"),
        (stsb_row(7, "1.0").replace("7", "x7", 1), "row 3: column 'index' has 'x7', expected a GLUE row index"),
    ],
)
def test_stsb_bad_mirror_row_is_refused_naming_file_and_row(tmp_path, bad, message):
    mirror = stsb_mirror(tmp_path, [stsb_row(i, "2.0") for i in range(5)], [stsb_row(5, "1"), stsb_row(6, "3"), bad])
    assert one_line_error(CONVERTERS["stsb"].from_mirror, mirror).startswith(f"{mirror / 'dev.tsv'}: {message}")


def test_stsb_mirror_must_hold_the_whole_training_split(tmp_path):
    mirror = stsb_mirror(tmp_path, [stsb_row(i, "2.0") for i in range(5)], [stsb_row(5, "1.0")])
    message = one_line_error(CONVERTERS["stsb"].from_mirror, mirror)
    assert message == f"{mirror}/{{train.tsv,dev.tsv}}: 6 pairs, expected 5,749 (GLUE's STS-B training split)"


def test_stsb_from_hub(monkeypatch):
    features = Features(
        {"sentence1": Value("string"), "sentence2": Value("string"), "label": Value("float32"), "idx": Value("int32")}
    )
    source = pairs(40)
    train = Dataset.from_dict(
        {
            "sentence1": source["sentence1"].tolist(),
            "sentence2": source["sentence2"].tolist(),
            "label": source["score"].tolist(),
            "idx": source["index"].tolist(),
        },
        features=features,
    )
    calls = []
    monkeypatch.setattr(converters, "load_hub", lambda *args, **kw: calls.append(args) or DatasetDict(train=train))
    frames = CONVERTERS["stsb"].from_hub()
    assert calls == [("nyu-mll/glue", "stsb")]
    assert len(frames["test"]) == 8 and len(frames["train"]) == 32
    mirrored = stsb_competition(source, "pairs")  # the same pairs give the same split as the mirror's
    assert frames["test"]["id"].tolist() == mirrored["test"]["id"].tolist()
    assert np.allclose(frames["solution"]["score"], mirrored["solution"]["score"])


# ---------------------------------------------------------------------------
# SemEval-2018 V-oc


def voc_row(tweet_id: str, level: int, text: str = 'so "happy" today') -> str:
    return f"{tweet_id}\t{text}\tvalence\t{VOC_CLASSES[level]}"


def test_voc_levels_parse_to_minus_3_to_3_and_the_test_is_empty(tmp_path):
    levels = [0, -3, 3, -1, 2, -2, 1, 0]
    mirror = voc_mirror(tmp_path, [voc_row(f"2017-En-{i}", v) for i, v in enumerate(levels)])
    frames = CONVERTERS["semeval_voc"].from_mirror(mirror)
    train = frames["train"]
    assert train.to_dict("list") == {
        "id": [f"2017-En-{i}" for i in range(8)],
        "text": ['so "happy" today'] * 8,
        "valence": levels,
    }
    assert frames["test"].empty and list(frames["test"].columns) == ["id", "text"]
    assert frames["sample_submission"].empty and list(frames["sample_submission"].columns) == ["id", "valence"]
    assert "solution" not in frames
    write_frames(tmp_path / "out", frames, FILES, ",")
    assert (tmp_path / "out" / "test.csv").read_text().split() == ["id,text"]
    assert (tmp_path / "out" / "sample_submission.csv").read_text().split() == ["id,valence"]
    assert read_csv(tmp_path / "out" / "train.csv")["valence"].tolist() == [str(v) for v in levels]


def test_voc_header_line_of_the_official_release_is_skipped(tmp_path):
    header = "ID\tTweet\tAffect Dimension\tIntensity Class"
    mirror = voc_mirror(tmp_path, [header, voc_row("a", -2), voc_row("b", 1)])
    assert CONVERTERS["semeval_voc"].from_mirror(mirror)["train"]["valence"].tolist() == [-2, 1]


@pytest.mark.parametrize(
    "bad, message",
    [
        ("c\ttext\tvalence\t4: off the scale", "row 3: column 'Intensity Class' has '4: off the scale', expected"),
        ("c\ttext\tvalence\tvery negative", "row 3: column 'Intensity Class' has 'very negative', expected"),
        ("c\ttext\tjoy\t2: moderate", "row 3: column 'Affect Dimension' has 'joy', expected 'valence'"),
        ("c\ttext\twith\ttab\tvalence\t0: neutral", "row 3: 6 tab-separated fields, expected 4"),
    ],
)
def test_voc_bad_row_is_refused_naming_file_and_row(tmp_path, bad, message):
    mirror = voc_mirror(tmp_path, [voc_row("a", 0), voc_row("b", 1), bad])
    assert one_line_error(CONVERTERS["semeval_voc"].from_mirror, mirror).startswith(f"{mirror / VOC_FILE}: {message}")


def test_voc_repeated_tweet_id_is_refused(tmp_path):
    mirror = voc_mirror(tmp_path, [voc_row("a", 0), voc_row("b", 1), voc_row("a", 2)])
    assert one_line_error(CONVERTERS["semeval_voc"].from_mirror, mirror) == ("semeval_voc: tweet id 'a' appears twice")


def test_voc_has_no_hub_copy():
    message = one_line_error(CONVERTERS["semeval_voc"].from_hub)
    assert message.startswith("semeval_voc: no copy of SemEval-2018 V-oc on the Hugging Face hub")
    assert VOC_FILE in message


# ---------------------------------------------------------------------------
# the real mirror files


def test_real_mirrors_convert_and_round_trip(tmp_path):
    stsb, voc = SHARED_DATA / "stsb", SHARED_DATA / "semeval2018_voc"
    if not (CONVERTERS["stsb"].reads(stsb) and CONVERTERS["semeval_voc"].reads(voc)):
        pytest.skip(
            f"offline data mirror not found at {SHARED_DATA} (clone beside ../shared, or set FOLDWISE_SHARED_DATA)"
        )
    frames = CONVERTERS["stsb"].from_mirror(stsb)
    assert (len(frames["train"]), len(frames["test"])) == (4599, 1150)
    assert frames["train"].iloc[0].tolist() == ["stsb-0", "A plane is taking off.", "An air plane is taking off.", 5.0]
    quantiles = np.linspace(0.1, 0.9, 9)
    gap = np.quantile(frames["train"]["score"], quantiles) - np.quantile(frames["solution"]["score"], quantiles)
    assert np.abs(gap).max() <= 0.2
    write_frames(tmp_path / "stsb", frames, FILES, ",")
    back = read_csv(tmp_path / "stsb" / "train.csv")
    assert back["sentence1"].tolist() == frames["train"]["sentence1"].tolist()  # quotes survive
    assert any('"' in s for s in back["sentence1"])
    solution = read_csv(tmp_path / "stsb" / "solution.csv")
    assert solution["score"].astype(float).tolist() == frames["solution"]["score"].tolist()
    voc_frames = CONVERTERS["semeval_voc"].from_mirror(voc)
    counts = voc_frames["train"]["valence"].value_counts().sort_index()
    assert counts.to_dict() == {-3: 129, -2: 249, -1: 78, 0: 341, 1: 167, 2: 92, 3: 125}  # 1,181 tweets
