import numpy as np
import pandas as pd
import pytest

from foldwise.errors import FoldwiseError
from foldwise.tasks.classification.submission import (
    build_submission,
    check_format,
    validate_submission,
    write_submission,
)
from foldwise.tasks.metrics import get_metric

SAMPLE = pd.DataFrame({"id": ["a", "b", "c"], "x": "0", "y": "0"})


def write_csv(tmp_path, frame, name="sub.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def test_build_follows_sample_order_and_columns():
    decisions = np.array([[0, 1], [1, 0], [1, 1]])  # rows for ids c, a, b; columns y, x
    frame = build_submission(SAMPLE, "id", np.array(["c", "a", "b"]), decisions, ["y", "x"])
    assert list(frame.columns) == ["id", "x", "y"]
    assert frame.to_dict("list") == {"id": ["a", "b", "c"], "x": [0, 1, 1], "y": [1, 1, 0]}


def test_build_single_target_column():
    sample = pd.DataFrame({"id": ["a", "b"], "label": "neg"})
    frame = build_submission(sample, "id", np.array(["a", "b"]), np.array([[0, 1], [1, 0]]), ["neg", "pos"])
    assert frame["label"].tolist() == ["pos", "neg"]


@pytest.mark.parametrize(
    "frame, message",
    [
        (pd.DataFrame({"id": ["a", "b", "c"], "y": 0, "x": 0}), "columns"),
        (pd.DataFrame({"id": ["a", "b"], "x": 0, "y": 0}), "2 rows, the sample submission has 3"),
        (pd.DataFrame({"id": ["a", "c", "b"], "x": 0, "y": 0}), "row 3: id 'c', the sample has 'b'"),
        (pd.DataFrame({"id": ["a", "b", "c"], "x": [0, 1, None], "y": 0}), "row 4: empty value in column 'x'"),
        (pd.DataFrame({"id": ["a", "b", "c"], "x": ["0", "0.7", "1"], "y": 0}), "row 3: column 'x' has '0.7'"),
        (pd.DataFrame({"id": ["a", "b", "c"], "x": 0, "y": [0, 1, 2]}), "row 4: column 'y' has '2'"),
    ],
)
def test_validation_errors(tmp_path, frame, message):
    with pytest.raises(FoldwiseError, match=message):
        validate_submission(write_csv(tmp_path, frame), SAMPLE, "id")


def test_write_refuses_invalid_and_leaves_nothing(tmp_path):
    bad = pd.DataFrame({"id": ["a", "b", "c"], "x": [0, 1, 5], "y": 0})
    target = tmp_path / "out.csv"
    with pytest.raises(FoldwiseError, match="out.csv: row 4.*nothing written"):
        write_submission(target, bad, SAMPLE, "id")
    assert list(tmp_path.iterdir()) == []
    good = pd.DataFrame({"id": ["a", "b", "c"], "x": [0, 1, 1], "y": 0})
    write_submission(target, good, SAMPLE, "id")
    assert validate_submission(target, SAMPLE, "id")["x"].tolist() == ["0", "1", "1"]


@pytest.mark.parametrize(
    "fmt, sample, fix",
    [
        ("binary", SAMPLE, "set data.submission_format to probabilities (or auto, which follows the metric)"),
        (
            "label",
            pd.DataFrame({"id": ["a", "b"], "label": "x"}),
            "the sample has one column of labels, so the metric is likely one on decisions (macro_f1, ",
        ),
    ],
)
def test_a_format_that_cannot_hold_the_metrics_probabilities_names_the_fix(fmt, sample, fix):
    with pytest.raises(FoldwiseError, match=r"metric log_loss is scored on probabilities") as info:
        check_format(fmt, sample, "id", ["x", "y"], "multiclass", get_metric("log_loss", "multiclass"), "s.csv")
    assert fix in str(info.value)
