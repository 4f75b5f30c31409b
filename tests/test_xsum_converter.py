"""The XSum converter: the mirror's JSON-lines subsets -> a summarization competition."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import REPO

from foldwise.data.converters import CONVERTERS, XSUM_FILES, xsum_competition
from foldwise.data.fetch import write_frames
from foldwise.errors import FoldwiseError
from foldwise.io.tables import read_csv

XSUM_MIRROR = REPO.parent / "shared" / "data" / "xsum"
FILES = {"train": "train.csv", "test": "test.csv", "sample_submission": "sample_submission.csv"}


def rows(*triples) -> pd.DataFrame:
    return pd.DataFrame([{"id": i, "document": d, "summary": s} for i, d, s in triples])


def test_frames_hold_out_the_test_summaries():
    frames = xsum_competition(rows(("1", "A doc.\nMore.", "One.")), rows(("2", 'B doc, "quoted".', "Two.")))
    assert list(frames["train"].columns) == ["id", "document", "summary"]
    assert list(frames["test"].columns) == ["id", "document"]
    assert frames["sample_submission"].to_dict("list") == {"id": ["2"], "summary": ["summary"]}
    assert frames["solution"].to_dict("list") == {"id": ["2"], "summary": ["Two."]}


@pytest.mark.parametrize(
    "test, message",
    [
        (rows(("2", "doc", " ")), "id '2': empty summary"),
        (rows(("2", "doc", "s"), ("2", "doc", "t")), "id '2' appears twice"),
        (rows(("2", "doc\rmore", "s")), "lone carriage return"),
    ],
)
def test_bad_rows_are_one_line_errors_naming_the_id(test, message):
    with pytest.raises(FoldwiseError, match=message):
        xsum_competition(rows(("1", "doc", "s")), test, ("val.jsonl", "test.jsonl"))


def test_real_mirror_converts_and_round_trips(tmp_path):
    if not all((XSUM_MIRROR / f).is_file() for f in XSUM_FILES):
        pytest.skip(f"XSum mirror not found at {XSUM_MIRROR}")
    frames = CONVERTERS["xsum"].from_mirror(XSUM_MIRROR)
    assert len(frames["train"]) == 979 and len(frames["test"]) == 1000
    first = json.loads((XSUM_MIRROR / XSUM_FILES[1]).read_text(encoding="utf-8").splitlines()[0])
    assert frames["solution"]["summary"].iloc[0] == first["summary"]
    write_frames(tmp_path, frames, FILES, ",")
    back = read_csv(tmp_path / "train.csv")
    assert back["document"].tolist() == frames["train"]["document"].tolist()  # newlines and quotes survive
    assert read_csv(tmp_path / "solution.csv")["id"].tolist() == frames["test"]["id"].tolist()
