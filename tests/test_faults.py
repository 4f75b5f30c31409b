"""Faults around the ensemble stage and artifacts: a killed `ensemble`, damaged run
files, a submission with the wrong columns, and the modes artifacts are written with."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import cli_env
from test_init import tweet_spans, write_zip
from toy_project import make_toy_project

from foldwise.cli import main
from foldwise.config import ThresholdConfig
from foldwise.errors import FoldwiseError
from foldwise.io import artifacts
from foldwise.io.submission import submission_record
from foldwise.stages import make_submission
from foldwise.stages.init_competition import init_competition
from foldwise.tasks.classification.submission import validate_submission

CSV, RECORD = Path("submissions/blend.csv"), Path("submissions/blend.json")


@pytest.fixture
def trained(tmp_path, monkeypatch):
    """A toy project with the run 't' trained."""
    monkeypatch.chdir(make_toy_project(tmp_path))
    assert main(["folds", "toy"]) == 0 and main(["train", "configs/t.yaml"]) == 0
    return tmp_path


def cut_at(value: float) -> ThresholdConfig:
    return ThresholdConfig(mode="fixed", value=value)


def test_killed_ensemble_never_pairs_a_new_csv_with_the_old_record(trained, monkeypatch, capsys):
    make_submission.ensemble(["t"], "blend", thresholds=cut_at(0.99))
    assert submission_record(CSV)["csv_sha256"] == artifacts.file_sha256(CSV)
    old_csv = CSV.read_bytes()

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as mp, pytest.raises(KeyboardInterrupt):
        mp.setattr(artifacts, "write_json", killed)  # dies after the CSV, before its record
        make_submission.ensemble(["t"], "blend", thresholds=cut_at(0.01))
    assert CSV.read_bytes() != old_csv  # the new CSV beside the old record
    capsys.readouterr()
    for argv in (["validate", str(CSV), "--data", "toy"], ["submit", "blend", "--data", "toy", "--dry-run"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "blend.json does not describe submissions/blend.csv" in err and err.count("\n") == 1, err

    # a SIGKILL also leaves atomic_path's temporary files; the next ensemble removes them
    stale = [
        tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp" + p.suffix, dir=p.parent)[1]
        for p in (CSV, RECORD, CSV.with_suffix(".per_class_f1.png"), CSV.with_suffix(".probs.csv"))
    ]
    assert main(["ensemble", "t", "--name", "blend"]) == 0
    assert not any(Path(s).exists() for s in stale)
    assert sorted(p.name for p in Path("submissions").iterdir()) == [
        ".blend.lock",
        "blend.csv",
        "blend.json",
        "blend.per_class_f1.png",
        "blend.probs.csv",
    ]
    assert main(["validate", str(CSV), "--data", "toy"]) == 0
    assert main(["submit", "blend", "--data", "toy", "--dry-run"]) == 0
    assert "blend: CV macro-F1" in capsys.readouterr().out


@pytest.mark.parametrize("cell", ["nan", "", "high"])
def test_run_with_a_bad_probability_is_refused_when_loaded(trained, cell, capsys):
    oof = pd.read_csv("runs/t/oof.csv", dtype=str, keep_default_na=False)
    oof.loc[4, "anger"] = cell
    oof.to_csv("runs/t/oof.csv", index=False)
    expected = r"runs/t/oof.csv: row 6: column 'anger' has ('\w+'|an empty cell), not a probability"
    assert main(["ensemble", "t"]) == 2
    err = capsys.readouterr().err
    assert re.match(f"error: {expected}", err) and err.count("\n") == 1, err
    assert not Path("submissions").exists()


@pytest.mark.parametrize(
    "damage, args, message",
    [
        (
            "",
            [],
            "runs/t/metrics.json: missing; the run is unfinished (3/3 folds done); run the same `foldwise "
            "train` command again: it keeps the trained folds",
        ),
        ('{"score": 0.5', [], "runs/t/metrics.json: unreadable (Expecting"),
        (None, ["--method", "stack"], "--method stack of one run is not a blend"),
    ],
)
def test_ensemble_that_cannot_blend_is_one_line_and_writes_nothing(trained, damage, args, message, capsys):
    metrics = Path("runs/t/metrics.json")
    if damage == "":
        metrics.unlink()  # a run killed after its last fold, before its metrics
    elif damage is not None:
        metrics.write_text(damage)
    capsys.readouterr()
    assert main(["ensemble", "t", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1, err
    assert not Path("submissions").exists()


@pytest.mark.parametrize(
    "columns, message",
    [
        (["id", "joy", "anger"], "missing column 'fear'"),
        (["id", "joy", "anger", "fear", "surprise"], "extra column 'surprise'"),
        (["id", "joy", "rage", "fear"], "missing column 'anger', extra column 'rage'"),
        (["id", "anger", "joy", "fear"], "column 2 is 'anger' where the sample has 'joy'"),
        (["id", "joy", "anger", "fear", "fear"], "column 'fear' appears twice in the header (columns 4 and 5)"),
    ],
)
def test_column_mismatch_names_the_column(tmp_path, columns, message):
    sample = pd.DataFrame({"id": ["a", "b"], "joy": [0, 0], "anger": [0, 0], "fear": [0, 0]}).astype(str)
    path = tmp_path / "sub.csv"
    path.write_text(
        ",".join(columns) + "\n" + "\n".join(",".join(["a"] + ["0"] * (len(columns) - 1)) for _ in range(2)) + "\n"
    )
    with pytest.raises(FoldwiseError) as err:
        validate_submission(path, sample, "id")
    assert f"{path}: {message}" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("umask, file_mode, dir_mode", [(0o022, 0o644, 0o755), (0o002, 0o664, 0o775)])
def test_artifacts_get_the_modes_of_ordinary_files(tmp_path, umask, file_mode, dir_mode):
    old = os.umask(umask)
    try:
        artifacts.write_text(tmp_path / "a.txt", "x")
        artifacts.write_json(tmp_path / "b.json", {})
        with artifacts.atomic_dir(tmp_path / "model") as folder:
            (folder / "weights").write_text("w")
    finally:
        os.umask(old)
    for name in ("a.txt", "b.json"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == file_mode
    assert stat.S_IMODE((tmp_path / "model").stat().st_mode) == dir_mode


#: one `ensemble` process writing submission 'blend' again and again with its own cut;
#: each record must name the hash of the CSV this process wrote, never the other's
RACER = """
import sys
from foldwise.config import ThresholdConfig
from foldwise.stages.make_submission import ensemble
cut, expected, rounds = float(sys.argv[1]), sys.argv[2], int(sys.argv[3])
for _ in range(rounds):
    record = ensemble(["t"], "blend", thresholds=ThresholdConfig(mode="fixed", value=cut)).record
    assert record["csv_sha256"] == expected, "the record names a CSV this process did not write"
"""


def test_two_ensembles_racing_for_one_name_leave_a_consistent_submission(trained):
    """Two real processes write submission 'blend' at once, twelve times each: no traceback (a
    live writer's temporary file is never removed), every record names its own CSV, and the
    files left agree with each other."""
    cuts = (0.99, 0.01)
    expected = {
        cut: make_submission.ensemble(["t"], "blend", thresholds=cut_at(cut)).record["csv_sha256"] for cut in cuts
    }
    assert len(set(expected.values())) == 2
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(cut), expected[cut], "12"],
            env=cli_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for cut in cuts
    ]
    for racer in racers:
        _, err = racer.communicate(timeout=600)
        assert racer.returncode == 0, err[-3000:]
    assert submission_record(CSV)["csv_sha256"] in expected.values()  # the record describes the CSV left
    assert sorted(p.name for p in Path("submissions").iterdir()) == [
        ".blend.lock",
        "blend.csv",
        "blend.json",
        "blend.per_class_f1.png",
        "blend.probs.csv",
    ]


def test_only_a_dead_writers_temporary_files_are_removed(tmp_path):
    target = tmp_path / "blend.csv"
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        temps = {
            who: tmp_path / f".blend.csv.{pid}.x1y2.tmp.csv"
            for who, pid in (("dead", done.stdout.strip()), ("alive", alive.pid), ("me", os.getpid()))
        }
        temps["older version"] = tmp_path / ".blend.csv.k3j_9q.tmp.csv"  # no pid in the name
        for path in temps.values():
            path.write_text("partial")
        assert artifacts.remove_stale_temps(target) == sorted([temps["dead"], temps["older version"]])
        assert temps["alive"].exists() and temps["me"].exists()
        folder = tmp_path / "model"  # atomic_dir's and temp_dir's folders: .model.<pid>.<random>.tmp/
        folders = {
            who: folder.parent / f".model.{pid}.x1y2.tmp"
            for who, pid in (("dead", done.stdout.strip()), ("alive", alive.pid), ("me", os.getpid()))
        }
        for path in folders.values():
            (path / "sub").mkdir(parents=True)
            (path / "sub" / "weights.bin").write_text("partial")
        with artifacts.temp_dir(folder) as mine:
            assert artifacts.remove_stale_temps(folder) == [folders["dead"]]
            assert mine.is_dir() and folders["alive"].is_dir() and folders["me"].is_dir()
        assert not mine.exists() and not folders["dead"].exists()
    finally:
        alive.kill()
        alive.wait()


#: `init --archive tse.zip`, killed (SIGKILL) while moving its second file into data/tse/
KILLED_INIT = """
import os, shutil, signal
from foldwise.stages.init_competition import init_competition
real_move, moved = shutil.move, []
def move(source, target):
    if moved:
        os.kill(os.getpid(), signal.SIGKILL)
    moved.append(real_move(source, target))
shutil.move = move
init_competition("tse", archive="tse.zip")
"""


def test_init_removes_what_a_killed_init_left(in_tmp):
    write_zip(Path("tse.zip"), tweet_spans(np.random.default_rng(0)))
    killed = subprocess.run([sys.executable, "-c", KILLED_INIT], env=cli_env(), capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    hidden = sorted(p.name for p in Path("data/tse").glob(".*"))
    assert any(n.startswith(".unpack.") for n in hidden) and any(n.endswith(".tmp.csv") for n in hidden), hidden
    init_competition("tse", archive="tse.zip")
    assert sorted(p.name for p in Path("data/tse").iterdir()) == [
        ".unpacked.json",
        "sample_submission.csv",
        "test.csv",
        "train.csv",
    ]


KILLED_PACKAGE = """
import os, shutil, signal, sys
from foldwise.cli import main
copytree = shutil.copytree
def copy_then_die(*args, **kwargs):  # SIGKILL halfway through writing the bundle
    copytree(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)
shutil.copytree = copy_then_die
main(["package", "blend"])
"""


def test_a_killed_package_leaves_temporary_folders_that_the_next_one_removes(trained):
    assert main(["ensemble", "t", "--name", "blend"]) == 0
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    half_made = Path("runs/t") / f".fold_0.{done.stdout.strip()}.k2.tmp"  # a killed re-making of fold 0's model
    (half_made / "model").mkdir(parents=True)
    killed = subprocess.run([sys.executable, "-c", KILLED_PACKAGE], env=cli_env(), capture_output=True, text=True)
    assert killed.returncode == -9, killed.stderr[-3000:]
    assert not half_made.exists() and Path("runs/t/fold_0/model").is_dir()
    left = [p for p in Path("packages").iterdir() if p.name.startswith(".blend.")]
    assert len(left) == 1 and left[0].name.endswith(".tmp") and not Path("packages/blend").exists()
    assert main(["package", "blend"]) == 0
    assert sorted(p.name for p in Path("packages").iterdir()) == ["blend"]
