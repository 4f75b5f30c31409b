"""``foldwise runs`` and ``foldwise lb``: the experiment log on disk, half-written runs, leaderboard scores."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import NEWS_DATA, TINY_TFIDF, foldwise_cli, titled_competition, write_configs

from foldwise.errors import FoldwiseError
from foldwise.stages import experiment_log as log
from foldwise.stages import leaderboard


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """Two finished TF-IDF runs and their submissions, plus a run cut off mid-way and a garbled one."""
    root = tmp_path_factory.mktemp("log")
    titled_competition(root / "data" / "news")
    write_configs(
        root,
        {"news": "name: news\nkaggle_competition: news-comp\n" + NEWS_DATA},
        {
            "words": "data: news\n" + TINY_TFIDF,
            "words2": "data: news\n" + TINY_TFIDF.replace("word_min_df: 1", "word_min_df: 2"),
        },
    )
    for args in (
        ["folds", "news"],
        ["train", "configs/words.yaml"],
        ["train", "configs/words2.yaml"],
        ["ensemble", "words"],
        ["ensemble", "words2"],
    ):
        foldwise_cli(*args, cwd=root)
    cut = root / "runs" / "cut"
    cut.mkdir()
    (cut / "fold_0.json").write_text(json.dumps({"fit_seconds": 2.0, "predict_seconds": 1.0}))
    garbled = root / "runs" / "garbled"
    garbled.mkdir()
    (garbled / "run.json").write_text('{"experiment": "garbled", "n_spl')  # a write cut off
    return root


@pytest.fixture
def project(built, in_tmp) -> Path:
    """A fresh copy of the built project as the working directory."""
    shutil.copytree(built, in_tmp, dirs_exist_ok=True)
    return in_tmp


def test_runs_lists_every_run_and_submission_and_survives_half_written_folders(project):
    out = foldwise_cli("runs", "--sort", "score")
    lines = out.stdout.splitlines()
    assert lines[0].split()[:5] == ["kind", "name", "dataset", "metric", "cv"]
    names = [(line.split()[0], line.split()[1]) for line in lines[1:]]
    assert set(names) == {
        ("run", "words"),
        ("run", "words2"),
        ("submission", "words"),
        ("submission", "words2"),
        ("run", "cut"),
        ("run", "garbled"),
    }
    assert "unfinished: 1 fold(s) done, no run.json" in out.stdout
    entries = {(e.kind, e.name): e for e in log.collect()}
    words = entries["run", "words"]
    metrics = json.loads(Path("runs/words/metrics.json").read_text())
    assert (words.score, words.crossfit, words.metric) == (
        metrics["score"],
        metrics["score_crossfit"],
        metrics["metric"],
    )
    assert words.config == json.loads(Path("runs/words/run.json").read_text())["fingerprint"].split("-")[0]
    assert entries["run", "cut"].wall_s == 3.0 and entries["run", "garbled"].score is None
    scored = [n for n in names if n[0] == "run" and n[1] in ("words", "words2")]
    cv = {n: entries[n].score if entries[n].crossfit is None else entries[n].crossfit for n in scored}
    assert scored == sorted(scored, key=lambda n: -cv[n])  # best (cross-fitted) CV first
    assert names[-2:] in ([("run", "cut"), ("run", "garbled")], [("run", "garbled"), ("run", "cut")])


def test_lb_records_scores_and_draws_cv_against_lb(project):
    out = foldwise_cli("lb", "words", "0.71")
    assert "words: LB 0.7100 recorded (by hand), CV" in out.stdout
    assert "submissions/cv_vs_lb.png: CV against LB" in out.stdout and Path("submissions/cv_vs_lb.png").stat().st_size
    board = json.loads(Path("submissions/leaderboard.json").read_text())
    assert board["words"][0]["score"] == 0.71 and board["words"][0]["csv_sha256"]
    listed = foldwise_cli("runs", "--sort", "name").stdout
    assert any(line.startswith("submission") and " words " in line and "0.7100" in line for line in listed.splitlines())


def test_lb_removes_what_a_killed_lb_left(project):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    left = [
        Path(f"submissions/.{name}.{dead.stdout.strip()}.x1y2.tmp{Path(name).suffix}")
        for name in ("leaderboard.json", "cv_vs_lb.png")
    ]  # a SIGKILL mid-write leaves these
    for path in left:
        path.write_text("partial")
    foldwise_cli("lb", "words", "0.71")
    assert not any(path.exists() for path in left)
    assert not [p.name for p in Path("submissions").iterdir() if ".tmp" in p.name]


def test_lb_pull_matches_kaggle_submissions_by_file_name(project, monkeypatch):
    listing = (
        "fileName,date,description,status,publicScore,privateScore\n"
        "words2.csv,2026-12-05 10:00:00,x,complete,0.64,\n"
        "words.csv,2026-12-05 09:00:00,x,pending,,\n"
        "words.csv,2026-12-04 09:00:00,x,complete,0.69,\n"
        "other.csv,2026-12-03 09:00:00,x,complete,0.5,\n"
    )
    asked = []
    monkeypatch.setattr(leaderboard, "submissions_listing", lambda slug: asked.append(slug) or listing)
    lines = leaderboard.pull_from_kaggle()
    assert asked == ["news-comp"]  # the slug of the submissions' data config
    assert {e.name: e.lb for e in log.collect() if e.kind == "submission"} == {"words": 0.69, "words2": 0.64}
    assert any(line.startswith("words2: LB 0.6400 recorded (kaggle CLI, news-comp)") for line in lines)
    assert leaderboard.pull_from_kaggle() == ["no new leaderboard scores", "submissions/cv_vs_lb.png: CV against LB"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["lb", "nope", "0.5"], "submissions/nope.json: no submission record"),
        (["lb", "words"], "the leaderboard score of words is missing"),
        (["lb"], "give a submission and its score, or --pull"),
        (["lb", "words", "nan"], "lb words: score nan is not a finite number"),
        (["lb", "words", "inf"], "lb words: score inf is not a finite number"),
        (["lb", "words", "-5"], "lb words: score -5 is below 0, the lowest accuracy score"),
        (["ensemble", "words", "--name", "leaderboard"], "submissions/leaderboard.json is the kit's own file"),
    ],
)
def test_lb_bad_input_is_one_line_and_records_nothing(project, args, message):
    before = sorted(p.name for p in Path("submissions").iterdir())
    out = foldwise_cli(*args, code=2)
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert not Path("submissions/leaderboard.json").exists()
    assert sorted(p.name for p in Path("submissions").iterdir()) == before


def test_negative_lb_scores_only_where_the_metric_has_them():
    for score, metric in ((-0.2, "mcc"), (-0.3, "pearson"), (-3.0, None), (-3.0, "wmae"), (0.0, "log_loss")):
        log.check_lb_score("s", score, metric)  # MCC, a correlation, a metric without a record or unknown to the kit
    for score, metric in ((-0.1, "log_loss"), (-1.5, "mcc"), (-3.0, "rmse"), (-1.2, "qwk"), (float("-inf"), None)):
        with pytest.raises(FoldwiseError, match="^lb s: score"):
            log.check_lb_score("s", score, metric)


def test_an_unreadable_leaderboard_is_one_line_and_never_rewritten(project):
    foldwise_cli("lb", "words", "0.71")
    board = Path("submissions/leaderboard.json")
    broken = board.read_text().rstrip().removesuffix("}").rstrip() + ",\n}\n"  # a hand edit's trailing comma
    board.write_text(broken)
    before = sorted(p.name for p in Path("submissions").iterdir())
    out = foldwise_cli("lb", "words2", "0.64", code=2)
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert out.stderr.startswith("error: submissions/leaderboard.json: not valid JSON (line ")
    assert "mend it by hand" in out.stderr
    assert board.read_text() == broken and sorted(p.name for p in Path("submissions").iterdir()) == before
    listed = foldwise_cli("runs")  # the listing goes on, without LB scores, and says why
    assert "words2" in listed.stdout
    assert listed.stderr.startswith("warning: submissions/leaderboard.json: not valid JSON")
    board.write_text(json.dumps({"words": [{"score": 0.71}, {"score": float("nan")}]}))  # an older lb's NaN
    with pytest.raises(FoldwiseError, match=r"'words' entry 2 has no finite score \(nan\); it is left as it is"):
        log.read_leaderboard()


def test_runs_lists_records_whose_values_have_the_wrong_type(project):
    metrics = json.loads(Path("runs/words/metrics.json").read_text())
    Path("runs/words/metrics.json").write_text(json.dumps({**metrics, "score": "abc"}))
    info = json.loads(Path("runs/words2/run.json").read_text())
    Path("runs/words2/run.json").write_text(json.dumps({**info, "created_at": 1733500000}))
    for sort in ("date", "score", "name", "wall"):
        out = foldwise_cli("runs", "--sort", sort)
        assert not out.stderr, out.stderr
        assert "runs/words: metrics.json score 'abc' left blank (wrong type)" in out.stdout
        assert "runs/words2: run.json created_at 1733500000 left blank (wrong type)" in out.stdout
    entries = {(e.kind, e.name): e for e in log.collect()}
    assert entries["run", "words"].score is None and entries["run", "words"].crossfit == metrics["score_crossfit"]
    assert entries["run", "words2"].date is None and entries["submission", "words2"].date


def test_lb_pull_without_the_kaggle_cli_says_how_to_record_by_hand(project, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    out = foldwise_cli("lb", "--pull", code=2)
    assert "foldwise lb <submission> <score>" in out.stderr
