"""Bad input (issue 19, item 9): one clear line naming the file, row, key or column, instead of
a traceback or a silently wrong figure, and nothing written before the refusal."""

import struct
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import NEWS_DATA, TINY_TFIDF, foldwise_cli, titled_competition, write_configs
from test_cli_config import assert_one_line_error
from test_init import _flatten, tweet_spans, write_zip
from toy_project import make_toy_project

from foldwise.cli import main


@pytest.fixture
def toy(in_tmp: Path, capsys) -> Path:
    """The toy project (configs/t.yaml on dataset 'toy') with its folds written."""
    make_toy_project(in_tmp)
    assert main(["folds", "toy"]) == 0
    capsys.readouterr()
    return in_tmp


def assert_nothing_written(root: Path) -> None:
    """No run folder was started."""
    assert not (root / "runs").exists() or not any((root / "runs").iterdir()), list((root / "runs").rglob("*"))


# ---------------------------------------------------------------------------
# model files: a missing folder or an unknown hub id offline, a target module the model lacks

MISSING = "./models/not-here", "no such folder on this machine"
NOT_CACHED = "nobody/no-such-model", "nor a hub id in the local Hugging Face cache"
NO_MODEL = "data/toy", "data/toy holds no Hugging Face model (no config.json"


@pytest.mark.parametrize(
    "kind, source, said",
    [
        ("transformer", *MISSING),
        ("transformer", *NOT_CACHED),
        ("llm", *MISSING),
        ("llm", *NOT_CACHED),
        ("llm", *NO_MODEL),
    ],
)
def test_missing_model_is_one_line_before_any_write(toy, kind, source, said):
    pytest.importorskip("transformers", reason="make install provides transformers")
    done = foldwise_cli(
        "train", "configs/t.yaml", "--set", f"model={{kind: {kind}}}", "--set", f"model.name_or_path={source}", code=2
    )
    assert_one_line_error(done, f"model.name_or_path '{source}'", said)
    assert_nothing_written(toy)


def test_unknown_target_module_is_refused_before_any_write(toy):
    pytest.importorskip("peft", reason="make install provides peft")
    pytest.importorskip("gguf", reason="make install provides gguf (reads the offline SmolLM2 GGUF)")
    done = foldwise_cli(
        "train",
        "configs/t.yaml",
        "--set",
        "model={kind: llm}",
        "--set",
        "model.target_modules=[q_proj, qq_proj]",
        code=2,
    )
    assert_one_line_error(done, "model.target_modules: 'qq_proj' is not a linear layer", "v_proj")
    assert_nothing_written(toy)


# ---------------------------------------------------------------------------
# a text column of numbers is text: TF-IDF trains on what n-grams it has


def test_text_column_of_numbers_trains(toy):
    for name, step in (("train.csv", 7), ("test.csv", 3)):
        frame = pd.read_csv(toy / "data" / "toy" / name)
        frame["text"] = [str(step * i) for i in range(len(frame))]  # distinct numbers: no word repeats
        frame.to_csv(toy / "data" / "toy" / name, index=False)
    done = foldwise_cli("train", "configs/t.yaml", "--set", "model={kind: tfidf, n_jobs: 1}")
    assert "tfidf: no word n-gram occurs in 2 or more training rows (model.word_min_df)" in done.stdout + done.stderr
    oof = pd.read_csv(toy / "runs" / "t" / "oof.csv")
    assert len(oof) == 60 and oof.iloc[:, 1:].notna().all().all()


def test_no_ngram_left_is_one_line(toy):
    done = foldwise_cli("train", "configs/t.yaml", "--set", "model.word_min_df=1000", code=2)
    assert_one_line_error(done, "tfidf: no word or character n-gram occurs often enough", "lower model.word_min_df")


# ---------------------------------------------------------------------------
# truth and probabilities read back: 0/1 truth, one class per multiclass row, probabilities in [0, 1]


def trained_and_blended(root: Path, experiment: str = "configs/t.yaml") -> None:
    """Train the experiment and write its submission ``submissions/<name>.csv``."""
    for args in (["train", experiment], ["ensemble", Path(experiment).stem]):
        foldwise_cli(*args, cwd=root)


def test_solution_cell_other_than_0_or_1_is_refused(toy):
    trained_and_blended(toy)
    solution = pd.read_csv(toy / "submissions" / "t.csv")
    solution[["joy", "anger", "fear"]] = 0
    solution.loc[1, "anger"] = 2
    solution.to_csv(toy / "solution.csv", index=False)
    done = foldwise_cli("score", "submissions/t.csv", "--solution", "solution.csv", code=2)
    assert_one_line_error(done, "solution.csv: row 3: label 'anger' is 2, expected 0 or 1")
    assert done.stdout == ""


def test_multiclass_solution_with_two_classes_in_a_row_is_refused(in_tmp):
    titled_competition(in_tmp / "data" / "news")
    write_configs(in_tmp, {"news": f"name: news\n{NEWS_DATA}"}, {"n": f"data: news\n{TINY_TFIDF}"})
    assert main(["folds", "news"]) == 0
    trained_and_blended(in_tmp, "configs/n.yaml")
    ids = pd.read_csv(in_tmp / "submissions" / "n.csv", dtype=str)["id"]
    solution = pd.DataFrame({"id": ids, "sports": 1, "business": 0, "tech": 0})
    solution.loc[4, "tech"] = 1  # multi-hot: two classes for one row
    solution.to_csv(in_tmp / "solution.csv", index=False)
    done = foldwise_cli("score", "submissions/n.csv", "--solution", "solution.csv", code=2)
    assert_one_line_error(done, "solution.csv: row 6: 2 labels set ('sports', 'tech')", "exactly one label per row")


@pytest.mark.parametrize("cell", ["1.5", "-0.1", "nan"])
def test_run_probability_outside_0_1_is_refused(toy, cell):
    foldwise_cli("train", "configs/t.yaml")
    oof = (toy / "runs" / "t" / "oof.csv").read_text().splitlines()
    oof[3] = ",".join([*oof[3].split(",")[:2], cell, *oof[3].split(",")[3:]])
    (toy / "runs" / "t" / "oof.csv").write_text("\n".join(oof) + "\n")
    done = foldwise_cli("ensemble", "t", code=2)
    assert_one_line_error(done, "oof.csv: row 4: column 'anger' has", "not a probability")
    assert not (toy / "submissions").exists()


# ---------------------------------------------------------------------------
# a column named twice in a header (pandas would read the second 'joy' as 'joy.1')


@pytest.mark.parametrize("name, column", [("train.csv", "joy"), ("test.csv", "text"), ("sample_submission.csv", "joy")])
def test_column_named_twice_is_refused_by_name(toy, name, column):
    path = toy / "data" / "toy" / name
    frame = pd.read_csv(path, dtype=str)
    width = len(frame.columns)
    frame[f"{column}_copy"] = frame[column]
    frame.to_csv(path, index=False, header=[*frame.columns[:-1], column])
    done = foldwise_cli("train", "configs/t.yaml", code=2)
    position = list(frame.columns).index(column) + 1
    assert_one_line_error(
        done, f"data/toy/{name}: column '{column}' appears twice in the header (columns {position} and {width + 1})"
    )
    assert ".1'" not in done.stderr
    assert_nothing_written(toy)


# ---------------------------------------------------------------------------
# folds.group_column with empty cells: refused with their count, the folds left as they were


def test_empty_group_cells_are_refused_with_their_count(toy):
    path = toy / "data" / "toy" / "train.csv"
    frame = pd.read_csv(path, dtype=str)
    frame["topic"] = [f"g{i % 12}" for i in range(len(frame))]
    frame.loc[[3, 10, 11, 40], "topic"] = ["", " ", None, ""]
    frame.to_csv(path, index=False)
    before = (toy / "folds" / "toy.csv").read_bytes()
    done = foldwise_cli("folds", "toy", "--force", "--set", "folds.group_column=topic", code=2)
    assert_one_line_error(
        done, "data/toy/train.csv: column 'topic' (folds.group_column) is empty in 4 of 60 rows (first: row 5)"
    )
    assert (toy / "folds" / "toy.csv").read_bytes() == before


# ---------------------------------------------------------------------------
# a probability submission under a metric scored on decisions: its CV score would not be the submission's


def test_probability_format_with_a_decision_metric_is_refused(toy):
    done = foldwise_cli("train", "configs/t.yaml", "--set", "data.submission_format=probabilities", code=2)
    assert_one_line_error(
        done,
        "data/toy/sample_submission.csv: submission format 'probabilities'",
        "cannot be scored by metric macro_f1, which is scored on 0/1 decisions",
        "set data.metric to a metric on probabilities (roc_auc, log_loss)",
        "or data.submission_format to binary",
    )
    assert_nothing_written(toy)


def test_a_probability_metric_with_a_binary_format_names_the_key_that_fixes_it(toy):
    done = foldwise_cli(
        "train", "configs/t.yaml", "--set", "data.metric=roc_auc", "--set", "data.submission_format=binary", code=2
    )
    assert_one_line_error(
        done,
        "metric roc_auc is scored on probabilities, which a 'binary' submission",
        "set data.submission_format to probabilities (or auto, which follows the metric)",
    )
    assert_nothing_written(toy)


# ---------------------------------------------------------------------------
# command-line selections: an empty benchmark list, and errors in --set values blamed on --set


@pytest.mark.parametrize("flag, what", [("--bench", "benchmark"), ("--models", "model")])
def test_benchmark_selection_of_nothing_is_refused(in_tmp, flag, what):
    done = foldwise_cli("benchmarks", flag, ", ", code=2)
    assert_one_line_error(done, f"benchmarks: ', ' names no {what} (known: ")
    assert not (in_tmp / "benchmarks").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["folds", "toy", "--set", "folds.n_splits=1"],
            "--set folds.n_splits=1: key 'folds.n_splits' is 1, must be >= 2",
        ),
        (
            ["folds", "configs/t.yaml", "--set", "folds.n_splits=1"],
            "--set folds.n_splits=1: key 'data.folds.n_splits' is 1, must be >= 2",
        ),
        (["train", "configs/t.yaml", "--set", "model.C=-1"], "--set model.C=-1: key 'model.C' is -1.0, must be > 0"),
        (["train", "configs/t.yaml", "--set", "model.Cx=1"], "--set model.Cx=1: unknown key 'model.Cx'"),
        (["train", "configs/t.yaml", "--set", "model.kind=foo"], "--set model.kind=foo: unknown model.kind 'foo'"),
        (["train", "configs/t.yaml", "--set", "data.metric=f2"], "--set data.metric=f2: key 'data.metric' is 'f2'"),
        (
            ["train", "configs/t.yaml", "--set", "model.word_ngram_range=[a]"],
            "--set model.word_ngram_range=[a]: key 'model.word_ngram_range[0]' has value 'a'",
        ),
        (
            ["train", "configs/t.yaml", "--set", "model={kind: tfidf, n_jobs: 0}"],
            "--set model={kind: tfidf, n_jobs: 0}: key 'model.n_jobs' is 0",
        ),
    ],
)
def test_set_errors_name_the_override(toy, args, message):
    done = foldwise_cli(*args, code=2)
    assert_one_line_error(done, message)


def test_file_errors_still_name_the_file(toy):
    (toy / "configs" / "bad.yaml").write_text("data: toy\nmodel: {kind: tfidf, n_jobs: 0}\n")
    done = foldwise_cli("train", "configs/bad.yaml", "--set", "model.C=2", "--set", "model.n_jobs=0.5x", code=2)
    assert_one_line_error(done, "--set model.n_jobs=0.5x: key 'model.n_jobs'")
    done = foldwise_cli("train", "configs/bad.yaml", "--set", "model.C=2", code=2)
    assert_one_line_error(done, "configs/bad.yaml: key 'model.n_jobs' is 0, must be >= 1")


# ---------------------------------------------------------------------------
# init --archive of a damaged zip: one line, nothing unpacked


def bad_crc(path: Path) -> None:
    """The competition zip with one byte of its (stored) train.csv changed."""
    files = tweet_spans(np.random.default_rng(0))
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    raw = bytearray(path.read_bytes())
    raw[raw.find(files["train.csv"]) + 40] ^= 1
    path.write_bytes(bytes(raw))


def zip_in_a_zip_of_its_own_name(path: Path) -> None:
    """data.zip inside the archive holds a data.zip of its own (unpacked over the zip being read)."""
    write_zip(
        path,
        {
            **tweet_spans(np.random.default_rng(0)),
            **_flatten({"data.zip/data.zip": write_zip(path, {"x.csv": b"a\n1\n"}).read_bytes()}),
        },
    )


@pytest.mark.parametrize(
    "make, said",
    [
        (bad_crc, "comp.zip: cannot be unpacked (BadZipFile: Bad CRC-32 for file 'train.csv'); download it again"),
        (
            zip_in_a_zip_of_its_own_name,
            "comp.zip: data.zip: holds 'data.zip', which would replace the archive's 'data.zip'; remove one of the two",
        ),
    ],
)
def test_a_damaged_archive_is_one_line_and_unpacks_nothing(in_tmp, make, said):
    make(in_tmp / "comp.zip")
    done = foldwise_cli("init", "comp", "--archive", "comp.zip", code=2)
    assert_one_line_error(done, said)
    assert not list((in_tmp / "data" / "comp").iterdir()) and not (in_tmp / "configs").exists()


# ---------------------------------------------------------------------------
# a very long label name is cut in printed tables and plots


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) in pixels, from the PNG header."""
    return struct.unpack(">II", path.read_bytes()[16:24])


def test_long_label_names_are_cut_in_tables_and_plots(in_tmp):
    make_toy_project(in_tmp)
    long = "joy" + "y" * 100_000
    for name in ("train.csv", "sample_submission.csv"):
        path = in_tmp / "data" / "toy" / name
        pd.read_csv(path, dtype=str).rename(columns={"joy": long}).to_csv(path, index=False)
    for args in (["folds", "toy"], ["train", "configs/t.yaml"], ["ensemble", "t"]):
        out = foldwise_cli(*args).stdout
        assert len(out) < 3000, f"{args}: {len(out)} characters printed"
        if args[0] != "ensemble":
            assert "joy" + "y" * 34 + "..." in out
    for png in ("runs/t/per_class_f1.png", "runs/t/threshold_curves.png", "submissions/t.per_class_f1.png"):
        assert png_size(in_tmp / png)[0] < 2000, png
    assert pd.read_csv(in_tmp / "submissions" / "t.csv").columns[1] == long  # the files keep the name
