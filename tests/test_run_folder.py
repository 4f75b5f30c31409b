"""A run folder holds one config's folds: a refused or concurrent `train` never leaves a
config.yaml that differs from the folds, and a half-saved fold is trained again."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import FOLDWISE, cli_env
from toy_project import make_toy_project

from foldwise.cli import main
from foldwise.errors import FoldwiseError
from foldwise.experiment import load_experiment
from foldwise.io import artifacts, paths
from foldwise.stages import cv
from foldwise.stages.cv import run_cv

CONFIG = Path("runs/t/config.yaml")


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(make_toy_project(tmp_path))
    assert main(["folds", "toy"]) == 0
    return tmp_path


def trained_c() -> float:
    return yaml.safe_load(CONFIG.read_text())["model"]["C"]


def test_refused_train_leaves_config_yaml_unchanged(project, capsys):
    assert main(["train", "configs/t.yaml"]) == 0
    before = CONFIG.read_text()
    capsys.readouterr()
    for extra in ([], ["--folds", "1"]):
        assert main(["train", "configs/t.yaml", "--set", "model.C=0.5", *extra]) == 2
        err = capsys.readouterr().err
        assert "another config" in err and "--force" in err and err.count("\n") == 1, err
        assert CONFIG.read_text() == before
    assert main(["train", "configs/t.yaml", "--set", "thresholds.mode=global"]) == 0  # post-processing only
    assert "mode: global" in CONFIG.read_text() and trained_c() == 4.0


def test_run_folder_in_use_by_another_config_is_refused(project, monkeypatch):
    """A config.yaml left by a run that died before its first fold does not block a new
    config; the same file written by a run still training does."""

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as mp, pytest.raises(KeyboardInterrupt):
        mp.setattr(cv, "train_fold", killed)
        run_cv(load_experiment("configs/t.yaml"))
    left = CONFIG.read_text()
    other = load_experiment("configs/t.yaml", ["model.C=0.5"])
    with artifacts.marked_busy(paths.run_dir("t")):  # as if that first run were still training
        with pytest.raises(FoldwiseError, match="being trained now by another `train` with another config"):
            run_cv(other)
        assert CONFIG.read_text() == left
        CONFIG.write_text(left.partition("\n")[2])  # no fingerprint header (the kit's first days): not this config's
        with pytest.raises(FoldwiseError, match="being trained now by another `train` with another config"):
            run_cv(other)
        CONFIG.write_text(left)
    assert run_cv(other).evaluation is not None and trained_c() == 0.5


def test_concurrent_trains_with_different_configs(project):
    """Two `train` processes with different settings: exactly one trains, the other is
    refused with one line, and config.yaml is the winner's (processes of their own: they race)."""
    procs = {
        c: subprocess.Popen(
            [*FOLDWISE, "train", "configs/t.yaml", "--set", f"model.C={c}"],
            env=cli_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for c in (1.0, 0.5)
    }
    results = {c: (p.wait(timeout=120), p.stderr.read()) for c, p in procs.items()}
    winners = [c for c, (rc, _) in results.items() if rc == 0]
    assert len(winners) == 1, results
    rc, err = next(r for c, r in results.items() if c not in winners)
    assert rc == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert trained_c() == winners[0]
    fingerprint = artifacts.read_json("runs/t/run.json")["fingerprint"]
    assert CONFIG.read_text().startswith(f"{cv.CONFIG_HEADER}{fingerprint}\n")


def test_concurrent_trains_of_different_folds_share_the_run(project):
    """The supported split: one process trains folds 0, another 1,2 of the same config (at once)."""
    procs = [
        subprocess.Popen(
            [*FOLDWISE, "train", "configs/t.yaml", "--folds", folds],
            env=cli_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for folds in ("0", "1,2")
    ]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read()
    assert Path("runs/t/oof.csv").exists() and Path("runs/t/run.json").exists()


def test_fold_npz_without_its_json_is_trained_again(project):
    assert main(["train", "configs/t.yaml"]) == 0
    Path("runs/t/fold_1.json").unlink()  # killed between a fold's two files
    result = run_cv(load_experiment("configs/t.yaml"), folds="0")
    assert result.evaluation is None and result.skipped == [0]
    result = run_cv(load_experiment("configs/t.yaml"))
    assert result.trained == [1] and result.evaluation is not None and Path("runs/t/fold_1.json").exists()
