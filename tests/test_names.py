"""Experiment, submission, study and dataset names are plain names: one that would make
a path outside the project (or onto another run's files) is one line and writes nothing."""

from __future__ import annotations

import pytest
from toy_project import EXPERIMENT, make_toy_project, snapshot

from foldwise.cli import main
from foldwise.errors import FoldwiseError
from foldwise.io import paths


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """base/w/project holds a trained run 't'; ``../../x`` from runs/ would land in base/w/."""
    root = tmp_path_factory.mktemp("names")
    project = make_toy_project(root / "w" / "project")
    (project / "configs" / "escape.yaml").write_text("name: ../../x\n" + EXPERIMENT)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(project)
        assert main(["folds", "toy"]) == 0 and main(["train", "configs/t.yaml"]) == 0
    return root


@pytest.mark.parametrize("name", ["tfidf", "roberta-large_v2", "a+b", "tfidf.tuned", "x.1"])
def test_plain_names_are_accepted(name):
    assert paths.check_name(name, "name") == name
    assert paths.run_dir(name).parent == paths.RUNS and paths.submission_csv(name).parent == paths.SUBMISSIONS


@pytest.mark.parametrize("name", ["../x", "/abs/x", "a/b", "a\\b", ".", "..", "", "a b", "x\n"])
def test_names_that_are_paths_are_refused(name):
    for make in (paths.run_dir, paths.submission_csv, paths.folds_csv, paths.study_dir, paths.study_db):
        with pytest.raises(FoldwiseError, match="is not a valid name"):
            make(name)


CASES = {
    "train --set name": ["train", "configs/t.yaml", "--set", "name=../../x"],
    "train --set name absolute": ["train", "configs/t.yaml", "--set", "name={abs}"],
    "train name in YAML, after a good experiment": ["train", "configs/t.yaml", "configs/escape.yaml"],
    "train --set data.name": ["train", "configs/t.yaml", "--set", "data.name=../x"],
    "data --set name": ["data", "toy", "--set", "name=../x"],
    "folds --set name": ["folds", "toy", "--set", "name=../x"],
    "folds dataset argument": ["folds", "../x"],
    "ensemble --name": ["ensemble", "t", "--name", "../../x"],
    "ensemble --name absolute": ["ensemble", "t", "--name", "{abs}"],
    "ensemble --name onto a run": ["ensemble", "t", "--name", "../runs/t/test"],
    "tune --set name": ["tune", "configs/t.yaml", "--trials", "1", "--set", "name=../x"],
    "study --set data.name": ["study", "configs/t.yaml", "--set", "data.name=../x"],
    "submit": ["submit", "../../x", "--dry-run"],
    "validate --data": ["validate", "submissions/t.csv", "--data", "../x"],
    "predict": ["predict", "../x", "some text"],
}


@pytest.mark.parametrize("case", CASES)
def test_every_name_that_becomes_a_path_is_checked(case, base, monkeypatch, capsys):
    monkeypatch.chdir(base / "w" / "project")
    argv = [arg.format(abs=base / "abs" / "x") for arg in CASES[case]]
    before = snapshot(base)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "is not a valid name" in err, err
    assert snapshot(base) == before  # nothing written anywhere, inside the project or out


def test_a_submission_name_onto_another_submissions_companion_file_is_refused(base, monkeypatch, capsys):
    """`--name small.probs` would write submissions/small.probs.csv: submission small's probabilities."""
    monkeypatch.chdir(base / "w" / "project")
    assert main(["ensemble", "t", "--name", "small"]) == 0
    before, _ = snapshot(base), capsys.readouterr()
    assert main(["ensemble", "t", "--name", "small.probs"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "error: submission name 'small.probs' ends in '.probs': submissions/small.probs.csv is the "
        "probabilities file of submission 'small'; choose another name\n"
    )
    assert snapshot(base) == before
    assert paths.submission_csv("small.probs.v2").name == "small.probs.v2.csv"
