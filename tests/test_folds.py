import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from conftest import FOLDWISE, cli_env, foldwise_cli
from toy_project import make_toy_project

from foldwise.config import DataConfig, FoldsConfig
from foldwise.data.folds import assign_folds, read_folds, write_folds
from foldwise.errors import FoldwiseError


def multilabel(n=600, n_labels=6, seed=0):
    rng = np.random.default_rng(seed)
    rates = np.array([0.3, 0.15, 0.08, 0.05, 0.03, 0.5])[:n_labels]
    return (rng.random((n, n_labels)) < rates).astype(np.uint8)


def test_multilabel_folds_are_balanced_per_label():
    y = multilabel()
    fold = assign_folds(y, "iterative", n_splits=5, seed=1)
    assert set(fold) == {0, 1, 2, 3, 4}
    counts = np.stack([y[fold == k].sum(0) for k in range(5)])
    # iterative stratification: every label's positives split within one or two of even
    assert (counts.max(0) - counts.min(0) <= 2).all(), counts
    sizes = np.bincount(fold)
    assert sizes.max() - sizes.min() <= 3


def test_folds_are_deterministic_and_seeded():
    y = multilabel()
    a = assign_folds(y, "iterative", 5, seed=7)
    assert np.array_equal(a, assign_folds(y, "iterative", 5, seed=7))
    assert not np.array_equal(a, assign_folds(y, "iterative", 5, seed=8))


def test_multiclass_uses_stratified_kfold():
    y = np.eye(3, dtype=np.uint8)[np.arange(90) % 3]
    fold = assign_folds(y, "classes", 3, seed=0)
    for k in range(3):
        assert (y[fold == k].sum(0) == 10).all()


def test_write_once_noop_and_conflict(in_tmp):
    y = multilabel(100)
    ids = np.array([f"r{i}" for i in range(100)])
    cfg = DataConfig(name="toy", folds=FoldsConfig(n_splits=4, seed=3))
    path, table, written = write_folds(cfg, ids, y, list("abcdef"))
    assert written and path.read_text().startswith("id,fold\n")
    assert table.loc["(rows)"].sum() == 100
    before = path.stat().st_mtime_ns
    _, _, written = write_folds(cfg, ids, y, list("abcdef"))
    assert not written and path.stat().st_mtime_ns == before
    other = DataConfig(name="toy", folds=FoldsConfig(n_splits=5, seed=3))
    with pytest.raises(FoldwiseError, match="exists with other settings .*n_splits: 4 -> 5.*--force"):
        write_folds(other, ids, y, list("abcdef"))
    _, _, written = write_folds(other, ids, y, list("abcdef"), force=True)
    assert written and pd.read_csv(path)["fold"].max() == 4
    meta = path.with_suffix(".json")  # a JSON of the kit's first days: settings, but no csv_sha256
    meta.write_text(json.dumps({k: v for k, v in json.loads(meta.read_text()).items() if k != "csv_sha256"}))
    with pytest.raises(FoldwiseError, match=r"^folds/toy.json does not describe folds/toy.csv .*--force"):
        write_folds(other, ids, y, list("abcdef"))


def test_read_folds_errors(in_tmp):
    cfg = DataConfig(name="toy")
    with pytest.raises(FoldwiseError, match="folds/toy.csv not found; run `make folds`"):
        read_folds(cfg, np.array(["a"]))
    ids = np.array([f"r{i}" for i in range(50)])
    write_folds(cfg, ids, multilabel(50), list("abcdef"))
    assert len(read_folds(cfg, ids[:20])) == 20  # a subset (max_train_rows) reuses the folds
    with pytest.raises(FoldwiseError, match="training id 'new' has no fold"):
        read_folds(cfg, np.array(["r1", "new"]))


def test_folds_killed_between_its_csv_and_json_is_not_taken_for_no_change(tmp_path):
    """A `folds --force` with another seed SIGKILLed after its CSV, before its JSON, leaves
    seed 1's CSV beside seed 0's JSON: the next `folds` refuses it instead of saying "no
    change", and removes the temporary file a killed write leaves."""
    root = make_toy_project(tmp_path / "project")
    foldwise_cli("folds", "toy", cwd=root)
    csv = root / "folds" / "toy.csv"
    first = csv.read_bytes()
    slow = tmp_path / "bin"
    slow.mkdir()
    (slow / "git").write_text("#!/bin/sh\nsleep 60\n")  # the JSON's provenance asks git: time to kill
    (slow / "git").chmod(0o755)
    env = {**cli_env(), "PATH": f"{slow}{os.pathsep}{os.environ['PATH']}"}
    # a process of its own: it is killed
    proc = subprocess.Popen(
        [*FOLDWISE, "folds", "toy", "--force", "--set", "folds.seed=1"],
        cwd=root,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while csv.read_bytes() == first and proc.poll() is None:
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)  # no cleanup, like an OOM kill or power loss
    assert proc.wait() == -signal.SIGKILL and csv.read_bytes() != first
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    temp = csv.with_name(f".toy.csv.{ended.stdout.strip()}.k2x8.tmp.csv")  # a write killed mid-CSV leaves one
    temp.write_text("id,fold\nt0,")

    again = foldwise_cli("folds", "toy", cwd=root, code=2)
    assert not temp.exists()
    assert again.stderr == (
        "error: folds/toy.json does not describe folds/toy.csv (csv_sha256 differs: an "
        "interrupted `folds` or an edited file); pass --force to rewrite both (every run "
        "trained on the old folds goes stale)\n"
    )
    foldwise_cli("folds", "toy", "--force", cwd=root)
    assert csv.read_bytes() == first
    unchanged = foldwise_cli("folds", "toy", cwd=root)
    assert "same settings (no change)" in unchanged.stdout


def test_a_class_of_one_row_is_one_line_naming_it_not_a_scikit_learn_traceback():
    key = np.eye(3, dtype=np.uint8)[[0, 1] * 20 + [2]]
    with pytest.raises(
        FoldwiseError,
        match=r"^folds: class 'rare' has a single training row; stratified folds "
        r"need at least 2 of each class: drop or relabel",
    ):
        assign_folds(key, "classes", 5, 0, label_names=["common", "other", "rare"])
    few = np.eye(3, dtype=np.uint8)[[0, 0, 1, 1, 2, 2]]  # scikit-learn's own error: every class under K
    with pytest.raises(
        FoldwiseError,
        match=r"no class has 5 training rows \(the largest, 'a', has 2\): "
        r"lower folds.n_splits to 2",
    ):
        assign_folds(few, "classes", 5, 0, label_names=["a", "b", "c"])
    assert sorted(set(assign_folds(key[:-1], "classes", 5, 0))) == [0, 1, 2, 3, 4]
