"""The real command line on a few hundred GoEmotions rows, as a user runs it."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, cli_env, foldwise_cli, small_goemotions


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("project")
    small_goemotions(root / "data" / "small", n_train=400, n_test=80)
    (root / "configs" / "data").mkdir(parents=True)
    (root / "configs" / "data" / "small.yaml").write_text(
        "name: small\ntask: multilabel\nfolds: {n_splits: 3, seed: 1}\nkaggle_competition: small-comp\n"
    )
    (root / "configs" / "words.yaml").write_text(
        "data: small\ntext: {demojize: true}\n"
        "model: {kind: tfidf, word_min_df: 1, char_min_df: 1, char_ngram_range: [], n_jobs: 1}\n"
    )
    (root / "configs" / "chars.yaml").write_text(
        "data: small\nmodel: {kind: tfidf, word_ngram_range: [], char_min_df: 1, n_jobs: 1}\n"
    )
    return root


def test_folds_train_ensemble_validate(project):
    out = foldwise_cli("folds", "small", cwd=project).stdout
    assert "folds/small.csv: written (3 folds, seed 1, 400 rows)" in out
    assert "neutral" in out  # the per-fold label-count table
    assert "already there" in foldwise_cli("folds", "small", cwd=project).stdout

    # part of the folds first: no OOF results until every fold is trained
    proc = foldwise_cli("train", "configs/words.yaml", "--folds", "0", cwd=project)
    out = proc.stdout + proc.stderr
    assert "1/3 folds trained" in out
    assert not (project / "runs" / "words" / "oof.csv").exists()
    foldwise_cli("train", "configs/words.yaml", "configs/chars.yaml", cwd=project)
    proc = foldwise_cli("train", "configs/words.yaml", cwd=project)
    out = proc.stdout + proc.stderr
    assert "already trained" in out  # finished folds are not retrained

    run_dir = project / "runs" / "words"
    oof = pd.read_csv(run_dir / "oof.csv", dtype={"id": str})
    train = pd.read_csv(project / "data" / "small" / "train.csv", dtype={"id": str})
    assert oof["id"].tolist() == train["id"].tolist() and oof.shape == (400, 29)
    assert oof.iloc[:, 1:].to_numpy().min() >= 0 and oof.iloc[:, 1:].to_numpy().max() <= 1
    assert pd.read_csv(run_dir / "test.csv").shape == (80, 29)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["metric"] == "macro_f1" and metrics["score"] == metrics["tuned"]["macro_f1"]
    assert metrics["tuned"]["macro_f1"] >= metrics["untuned"]["macro_f1"] == metrics["score_untuned"]
    assert len(metrics["per_fold"]) == 3 and len(metrics["per_class"]) == 28
    info = json.loads((run_dir / "run.json").read_text())
    assert info["seed"] == 42 and "scikit-learn" in info["versions"] and "git_commit" in info
    assert "demojize: true" in (run_dir / "config.yaml").read_text()
    for png in ("per_class_f1.png", "threshold_curves.png"):
        assert (run_dir / png).read_bytes()[:4] == b"\x89PNG"

    out = foldwise_cli("ensemble", "words", "chars", "--name", "blend", cwd=project).stdout
    assert "written and validated" in out
    sub = pd.read_csv(project / "submissions" / "blend.csv", dtype={"id": str})
    sample = pd.read_csv(project / "data" / "small" / "sample_submission.csv", dtype={"id": str})
    assert list(sub.columns) == list(sample.columns) and sub["id"].tolist() == sample["id"].tolist()
    assert set(np.unique(sub.iloc[:, 1:].to_numpy())) <= {0, 1}
    record = json.loads((project / "submissions" / "blend.json").read_text())
    assert record["members"] == ["words", "chars"]
    assert sum(record["weights"].values()) == pytest.approx(1)
    assert len(record["decision"]["thresholds"]) == 28 and 0 <= record["cv_score"] <= 1
    assert record["metric"] == "macro_f1" and record["submission_format"] == "binary"
    probs = pd.read_csv(project / "submissions" / "blend.probs.csv", dtype={"id": str})
    assert probs.shape == (80, 29) and sorted(probs["id"]) == sorted(sample["id"])
    assert "valid" in foldwise_cli("validate", "submissions/blend.csv", "--data", "small", cwd=project).stdout
    out = foldwise_cli("submit", "blend", "--data", "small", "--dry-run", cwd=project).stdout
    assert "kaggle competitions submit -c small-comp -f submissions/blend.csv" in out


def test_bad_input_one_line_error_and_no_output(project, tmp_path):
    bad = project / "configs" / "typo.yaml"
    bad.write_text("data: small\nmodel: {kind: tfidf, ngram: 3}\n")
    proc = foldwise_cli("train", "configs/typo.yaml", cwd=project, code=2)
    assert proc.stderr.strip().count("\n") == 0 and "unknown key 'model.ngram'" in proc.stderr
    assert not (project / "runs" / "typo").exists()

    broken = pd.read_csv(project / "submissions" / "blend.csv")
    broken.iloc[3, 2] = 7
    broken.to_csv(tmp_path / "broken.csv", index=False)
    proc = foldwise_cli("validate", str(tmp_path / "broken.csv"), "--data", "small", cwd=project, code=2)
    assert "row 5" in proc.stderr and "has '7'" in proc.stderr

    proc = foldwise_cli("ensemble", "nothing-here", cwd=project, code=2)
    assert "no finished run" in proc.stderr


def test_make_help_lists_every_stage():
    out = subprocess.run(["make", "-s", "help"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    for target in ("install", "data", "folds", "train", "ensemble", "submit", "validate", "test", "bench"):
        assert f"make {target}" in out


def test_make_test_runs_every_test():
    """One test target, and it deselects nothing (a `test-slow` that ran no test is gone)."""
    out = subprocess.run(["make", "-s", "help"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert [t for t in re.findall(r"make (\S+)", out) if t.startswith("test")] == ["test"]
    dry = subprocess.run(["make", "-n", "test"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert [line for line in dry.splitlines() if "pytest" in line] == [".venv/bin/python -m pytest -q"]


def test_make_overrides_reach_the_right_command():
    def commands(*args):
        out = subprocess.run(["make", "-n", *args], cwd=REPO, capture_output=True, text=True, check=True).stdout
        return {line.split()[1]: line for line in out.splitlines() if line.startswith(".venv/bin/foldwise")}

    run = commands("train", "SET=model.C=8", "DATA_SET=folds.n_splits=10")
    assert "--set model.C=8" in run["train"] and "model.C" not in run["folds"]
    assert "--set folds.n_splits=10" in run["folds"] and "n_splits" not in run["train"]


def test_make_train_ensemble_blends_the_run_that_set_renamed(project):
    """`make train ensemble SET="name=X"`: train writes runs/X/, and ensemble blends runs/X/, not runs/<exp>/."""
    shutil.copy(REPO / "Makefile", project / "Makefile")
    shutil.copy(REPO / "pyproject.toml", project / "pyproject.toml")
    os.utime(project / "pyproject.toml", (0, 0))  # older than the install stamp: make installs nothing
    if not (project / ".venv").exists():
        (project / ".venv").symlink_to(REPO / ".venv")
    proc = subprocess.run(
        ["make", "train", "ensemble", "EXPS=words", "SET=model.C=2 name=words-c2"],
        cwd=project,
        env=cli_env(),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "blending runs/words-c2/" in proc.stdout
    record = json.loads((project / "submissions" / "words-c2.json").read_text())  # NAME follows the run
    assert record["members"] == ["words-c2"]
    assert "C: 2" in (project / "runs" / "words-c2" / "config.yaml").read_text()


def test_train_refuses_two_experiments_sharing_one_run_name(project):
    proc = foldwise_cli("train", "configs/words.yaml", "configs/chars.yaml", "--set", "name=both", cwd=project, code=2)
    assert proc.stderr.count("\n") == 1
    assert "configs/words.yaml and configs/chars.yaml would both train runs/both/" in proc.stderr
    assert not (project / "runs" / "both").exists()


def test_predict_with_saved_tfidf_fold_models(project):
    (project / "configs" / "saved.yaml").write_text(
        "data: small\nsave_models: true\nmodel: {kind: tfidf, word_min_df: 1, char_ngram_range: [], n_jobs: 1}\n"
    )
    foldwise_cli("train", "configs/saved.yaml", cwd=project)
    out = json.loads(
        foldwise_cli("predict", "runs/saved", "Thank you so much!", "--json", "--top", "28", cwd=project).stdout
    )
    cuts = json.loads((project / "runs" / "saved" / "thresholds.json").read_text())["thresholds"]
    probs = {item["label"]: item["probability"] for item in out[0]["top"]}
    assert len(probs) == 28
    expected = sorted(name for name, cut in cuts.items() if probs[name] >= round(cut, 4) + 1e-4)
    assert set(expected) <= set(out[0]["labels"])
    assert all(probs[name] >= cuts[name] - 1e-4 for name in out[0]["labels"])
    proc = foldwise_cli("predict", "runs/words", "hi", cwd=project, code=2)  # trained without save_models
    assert "save_models=true" in proc.stderr
