"""Every command takes its dataset from the configs (or a submission's record), never from a
default; settings are checked when the config is loaded, and each refusal is one line."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import REPO, foldwise_cli, toy_frames, write_competition

from foldwise.cli import main


@pytest.fixture
def project(in_tmp: Path, capsys) -> Path:
    """A project whose only dataset, 'toy', lives outside data/; its folds are written."""
    train, test = toy_frames()
    write_competition(in_tmp / "competitions" / "toy", train, test)
    (in_tmp / "configs" / "data").mkdir(parents=True)
    (in_tmp / "configs" / "data" / "toy.yaml").write_text(
        "name: toy\ndir: competitions/{name}\nfolds: {n_splits: 3, seed: 0}\nkaggle_competition: toy-comp\n"
    )
    (in_tmp / "configs" / "exp.yaml").write_text(
        "data: toy\nmodel: {kind: tfidf, word_min_df: 1, char_min_df: 1, n_jobs: 1}\n"
    )
    assert main(["folds", "toy"]) == 0
    capsys.readouterr()
    return in_tmp


def assert_one_line_error(done: subprocess.CompletedProcess, *fragments: str) -> None:
    """Exit status 2 and one ``error:`` line (after any progress bar) on stderr, holding each fragment."""
    err = done.stderr
    assert done.returncode == 2, err
    message = err.strip().split("\n")[-1]
    assert message.startswith("error: ") and err.count("error: ") == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in message


# ---------------------------------------------------------------------------
# defect 1: the dataset comes from the experiment config or the submission's record


def test_data_and_folds_take_the_datasets_of_experiment_configs(project):
    (project / "configs" / "small.yaml").write_text(
        "data: {name: toy, dir: 'competitions/{name}', max_train_rows: 20, folds: {n_splits: 3, seed: 0},\n"
        "       kaggle_competition: toy-comp}\nmodel: {kind: tfidf}\n"
    )
    out = foldwise_cli("data", "configs/exp.yaml", "configs/small.yaml").stdout
    assert out.splitlines() == ["competitions/toy: present"]  # one dataset, listed once
    out = foldwise_cli("folds", "configs/exp.yaml", "configs/small.yaml").stdout
    # max_train_rows of an experiment does not shrink the folds: they cover all 60 rows
    assert "folds/toy.csv: already there with the same settings (no change) (3 folds, seed 0, 60 rows)" in out
    done = foldwise_cli("folds", "configs/exp.yaml", "--set", "folds.n_splits=4", code=2)
    assert_one_line_error(done, "folds/toy.csv exists with other settings", "n_splits: 3 -> 4")


def test_data_network_failure_is_one_line(project, monkeypatch):
    from foldwise.data import fetch as fetch_module

    def offline():
        raise ConnectionError("Couldn't reach 'org/set' on the Hub (LocalEntryNotFoundError)\nmore detail")

    monkeypatch.setitem(fetch_module.CONVERTERS, "offline", fetch_module.Converter(from_hub=offline))
    (project / "configs" / "data" / "hubbed.yaml").write_text("name: hubbed\nhub_dataset: offline\n")
    done = foldwise_cli("data", "hubbed", code=2)
    assert_one_line_error(done, "dataset 'hubbed'", "ConnectionError: Couldn't reach", "mirror_dir", "data/hubbed/")
    assert not (project / "data" / "hubbed").exists()


def test_validate_and_submit_take_the_dataset_from_the_submission_record(project, capsys):
    assert main(["train", "configs/exp.yaml"]) == 0
    assert main(["ensemble", "exp", "--name", "sub"]) == 0
    capsys.readouterr()
    record = json.loads((project / "submissions" / "sub.json").read_text())
    assert record["data_config"]["name"] == "toy" and record["data_config"]["dir"] == "competitions/{name}"

    out = foldwise_cli("validate", "submissions/sub.csv").stdout
    assert "columns as in competitions/toy/sample_submission.csv" in out
    out = foldwise_cli("submit", "sub", "--dry-run").stdout
    assert "kaggle competitions submit -c toy-comp -f submissions/sub.csv" in out
    assert "-c other-comp" in foldwise_cli("submit", "sub", "--dry-run", "--competition", "other-comp").stdout

    shutil.copy(project / "submissions" / "sub.csv", project / "loose.csv")  # no record beside it
    done = foldwise_cli("validate", "loose.csv", code=2)
    assert_one_line_error(done, "loose.csv: no dataset recorded", "--data")
    foldwise_cli("validate", "loose.csv", "--data", "toy")

    # a record of the kit's first days named only its dataset ("dataset": "toy"), not its data config
    first_days = {**{k: v for k, v in record.items() if k != "data_config"}, "dataset": "toy"}
    (project / "submissions" / "sub.json").write_text(json.dumps(first_days))
    done = foldwise_cli("validate", "submissions/sub.csv", code=2)
    assert_one_line_error(done, "submissions/sub.csv: no dataset recorded", "without data_config", "--data")


def make_project_for_make(root: Path, dataset: str = "other") -> Path:
    """A folder where `make -n` can run the kit's Makefile: configs naming another dataset."""
    shutil.copy(REPO / "Makefile", root / "Makefile")
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    (root / ".venv").mkdir()
    (root / ".venv" / ".installed").touch()  # newer than pyproject.toml: nothing to install
    (root / "configs").mkdir()
    (root / "configs" / "x.yaml").write_text(f"data: {dataset}\nmodel: {{kind: tfidf}}\n")
    return root


def make_commands(root: Path, *args: str) -> dict[str, str]:
    """``make -n`` of the targets: sub-command -> the foldwise command line make would run."""
    out = subprocess.run(["make", "-n", *args], cwd=root, capture_output=True, text=True, check=True).stdout
    return {line.split()[1]: line for line in out.splitlines() if line.startswith(".venv/bin/foldwise")}


def test_make_targets_take_the_dataset_from_the_experiment_config(tmp_path):
    root = make_project_for_make(tmp_path)
    tune = make_commands(root, "tune", "EXP=x")
    assert tune["data"].split()[2:] == ["configs/x.yaml"]
    assert tune["folds"].split()[2:] == ["configs/x.yaml"]
    assert tune["tune"].split()[2] == "configs/x.yaml" and "--set data=" not in tune["tune"]
    assert "configs/x.yaml" in make_commands(root, "tune-workers", "EXP=x", "WORKERS=1")["folds"]
    train = make_commands(root, "train", "EXPS=x")
    assert train["folds"].split()[2:] == ["configs/x.yaml"] and "--set data=" not in train["train"]
    for target, command in (("validate", "validate"), ("submit", "submit")):
        line = make_commands(root, target, "NAME=x")[command]
        assert "--data" not in line and "goemotions" not in line

    # DATA= overrides every stage
    train = make_commands(root, "train", "EXPS=x", "DATA=semeval", "SET=model.C=2")
    assert train["folds"].split()[2:] == ["semeval"]
    assert "--set data=semeval" in train["train"] and "--set model.C=2" in train["train"]
    assert "--set data=semeval" in make_commands(root, "tune", "EXP=x", "DATA=semeval")["tune"]
    assert make_commands(root, "validate", "NAME=x", "DATA=semeval")["validate"].endswith("--data semeval")
    assert make_commands(root, "submit", "NAME=x", "DATA=semeval")["submit"].endswith("--data semeval")


def test_make_ensemble_and_predict_follow_a_name_given_with_set(tmp_path):
    root = make_project_for_make(tmp_path)
    renamed = make_commands(root, "train", "ensemble", "predict", "EXPS=x", "SET=model.C=2 name=x-c2", "TEXT=hi")
    assert "--set name=x-c2" in renamed["train"]
    assert renamed["ensemble"].split()[2:] == ["x-c2", "--name", "x-c2", "--method", "fit"]
    assert renamed["predict"].split()[2] == "runs/x-c2"
    named = make_commands(root, "ensemble", "EXPS=x", "SET=name=x-c2", "NAME=blend")["ensemble"]
    assert named.split()[2:5] == ["x-c2", "--name", "blend"]
    plain = make_commands(root, "ensemble", "EXPS=x y", "SET=model.C=2")["ensemble"]
    assert plain.split()[2:6] == ["x", "y", "--name", "x+y"]


# ---------------------------------------------------------------------------
# defect 8: `make help` shows the values in use, never make's own $(...) syntax


def test_make_help_prints_values_not_make_variables(tmp_path):
    root = make_project_for_make(tmp_path, dataset="semeval")
    out = subprocess.run(
        ["make", "-s", "help", "EXPS=x", "EXP=x"], cwd=root, capture_output=True, text=True, check=True
    ).stdout
    assert "$(" not in out
    assert "DATA=<empty: each experiment config's own, x:semeval>" in out
    assert "EXP=x (dataset semeval)" in out
    out = subprocess.run(
        ["make", "-s", "help", "DATA=agnews"], cwd=root, capture_output=True, text=True, check=True
    ).stdout
    assert "DATA=agnews" in out and "$(" not in out


# ---------------------------------------------------------------------------
# defect 5: a changed setting names what changed and the way to keep both runs


def test_retraining_with_other_settings_suggests_a_new_name(project):
    out = foldwise_cli("train", "configs/exp.yaml").stdout
    assert out.splitlines()[0] == "configs/exp.yaml -> runs/exp/"  # printed before training
    fold_record = (project / "runs" / "exp" / "fold_0.json").read_text()

    done = foldwise_cli("train", "configs/exp.yaml", "--set", "model.C=8", code=2)
    assert_one_line_error(
        done,
        "runs/exp/fold_0.npz was trained with another config (model.C 4.0 -> 8.0)",
        "--name <new>",
        "--set name=<new>",
        'make train SET="... name=<new>"',
        "--force",
    )

    out = foldwise_cli("train", "configs/exp.yaml", "--set", "model.C=8", "--name", "exp-c8").stdout
    assert out.splitlines()[0] == "configs/exp.yaml -> runs/exp-c8/"
    assert (project / "runs" / "exp-c8" / "oof.csv").exists()
    assert "C: 8.0" in (project / "runs" / "exp-c8" / "config.yaml").read_text()
    assert (project / "runs" / "exp" / "fold_0.json").read_text() == fold_record  # the earlier run is kept

    done = foldwise_cli("train", "configs/exp.yaml", "configs/exp.yaml", "--name", "two", code=2)
    assert_one_line_error(done, "--name", "one experiment")


# ---------------------------------------------------------------------------
# defect 17 (config part): bad settings are refused at load time, in one line, with nothing written


@pytest.mark.parametrize(
    "model, overrides, fragments",
    [
        ("{kind: tfidf}", ["model.C=[1,"], ["--set: 'model.C=[1,': the value is not valid YAML"]),
        ("{kind: tfidf}", ["model=3"], ["--set model=3: 'model' must be a mapping with a 'kind' key, got 3"]),
        ("{kind: tfidf}", ["seeds=[1, 1]"], ["--set seeds=[1, 1]: key 'seeds' lists seed 1 more than once"]),
        ("{kind: tfidf, C: -1}", [], ["key 'model.C' is -1.0, must be > 0"]),
        ("{kind: tfidf, word_ngram_range: [3, 1]}", [], ["key 'model.word_ngram_range' is [3, 1]", "min <= max"]),
        ("{kind: tfidf, word_ngram_range: [], char_ngram_range: []}", [], ["no features left"]),
        ("{kind: tfidf}", ["thresholds.value=1.5"], ["key 'thresholds.value' is 1.5, must be <= 1"]),
        ("{kind: tfidf}", ["data.max_train_rows=0"], ["key 'data.max_train_rows' is 0, must be >= 1"]),
        ("{kind: transformer, lr: 0}", [], ["key 'model.lr' is 0.0, must be > 0"]),
        ("{kind: transformer, dropout: 1.0}", [], ["key 'model.dropout' is 1.0, must be < 1"]),
        ("{kind: transformer}", ["model.epochs=0"], ["key 'model.epochs' is 0, must be >= 1"]),
        ("{kind: transformer}", ["model.batch_size=-4"], ["key 'model.batch_size' is -4, must be >= 1"]),
    ],
)
def test_bad_settings_are_one_line_before_anything_is_written(project, model, overrides, fragments):
    (project / "configs" / "bad.yaml").write_text(f"data: toy\nmodel: {model}\n")
    args = [arg for item in overrides for arg in ("--set", item)]
    done = foldwise_cli("train", "configs/bad.yaml", *args, code=2)
    assert_one_line_error(done, *fragments)
    assert not (project / "runs").exists()


def test_train_checks_every_config_before_training_any(project):
    (project / "configs" / "bad.yaml").write_text("data: toy\nmodel: {kind: tfidf, C: 0}\n")
    done = foldwise_cli("train", "configs/exp.yaml", "configs/bad.yaml", code=2)
    assert_one_line_error(done, "configs/bad.yaml: key 'model.C' is 0.0, must be > 0")
    assert done.stdout == "" and not (project / "runs").exists()
