"""Bad input (issue 19, item 9): one clear line naming the file, row, key or column, instead of
a traceback or a silently wrong figure, and nothing written before the refusal."""

import subprocess
from pathlib import Path

import pandas as pd
import pytest

from conftest import FOLDWISE, cli_env
from foldwise.cli import main
from test_cli_config import assert_one_line_error, cli
from toy_project import make_toy_project


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

def run_cli(root: Path, *args: str) -> tuple[int, str, str]:
    """The command line in a new process, offline: (exit status, stdout, stderr)."""
    proc = subprocess.run([*FOLDWISE, *args], cwd=root, env=cli_env(), capture_output=True, text=True)
    return proc.returncode, proc.stdout, proc.stderr


MISSING = "./models/not-here", "no such folder on this machine"
NOT_CACHED = "nobody/no-such-model", "nor a hub id in the local Hugging Face cache"
NO_MODEL = "data/toy", "data/toy holds no Hugging Face model (no config.json"


@pytest.mark.parametrize("kind, source, said", [("transformer", *MISSING), ("transformer", *NOT_CACHED),
                                                ("llm", *MISSING), ("llm", *NOT_CACHED), ("llm", *NO_MODEL)])
def test_missing_model_is_one_line_before_any_write(toy, kind, source, said):
    pytest.importorskip("transformers", reason="make install provides transformers")
    status, _, err = run_cli(toy, "train", "configs/t.yaml", "--set", f"model={{kind: {kind}}}",
                             "--set", f"model.name_or_path={source}")
    assert_one_line_error(status, err, f"model.name_or_path '{source}'", said)
    assert_nothing_written(toy)


def test_unknown_target_module_is_refused_before_any_write(toy, capsys):
    pytest.importorskip("peft", reason="make install provides peft")
    pytest.importorskip("gguf", reason="make install provides gguf (reads the offline SmolLM2 GGUF)")
    status, _, err = cli(capsys, "train", "configs/t.yaml", "--set", "model={kind: llm}",
                         "--set", "model.target_modules=[q_proj, qq_proj]")
    assert_one_line_error(status, err, "model.target_modules: 'qq_proj' is not a linear layer", "v_proj")
    assert_nothing_written(toy)


# ---------------------------------------------------------------------------
# a text column of numbers is text: TF-IDF trains on what n-grams it has

def test_text_column_of_numbers_trains(toy, capsys):
    for name, step in (("train.csv", 7), ("test.csv", 3)):
        frame = pd.read_csv(toy / "data" / "toy" / name)
        frame["text"] = [str(step * i) for i in range(len(frame))]  # distinct numbers: no word repeats
        frame.to_csv(toy / "data" / "toy" / name, index=False)
    status, out, err = cli(capsys, "train", "configs/t.yaml", "--set", "model={kind: tfidf, n_jobs: 1}")
    assert status == 0, err
    assert "tfidf: no word n-gram occurs in 2 or more training rows (model.word_min_df)" in out + err
    oof = pd.read_csv(toy / "runs" / "t" / "oof.csv")
    assert len(oof) == 60 and oof.iloc[:, 1:].notna().all().all()


def test_no_ngram_left_is_one_line(toy, capsys):
    status, _, err = cli(capsys, "train", "configs/t.yaml", "--set", "model.word_min_df=1000")
    assert_one_line_error(status, err, "tfidf: no word or character n-gram occurs often enough",
                          "lower model.word_min_df")
