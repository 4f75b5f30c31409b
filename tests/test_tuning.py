"""Optuna studies over the TF-IDF model on a small competition: totals, crash safety, results."""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import optuna
import pytest
from conftest import FOLDWISE, cli_env, foldwise_cli, small_goemotions
from optuna.storages import RetryHeartbeatStaleTrialCallback
from optuna.trial import TrialState

from foldwise.config import DataConfig, ExperimentConfig
from foldwise.errors import FoldwiseError
from foldwise.stages.tuning import StopAtTarget, load_study, open_storage, run_study, study_name

optuna.logging.set_verbosity(optuna.logging.WARNING)

SPACE = """tune:
  folds: 2
  startup_trials: 2
  space:
    model.C: {type: float, low: 0.5, high: 8.0, log: true}
    model.word_ngram_range: {type: categorical, choices: [[1, 1], [1, 2]]}
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    small_goemotions(tmp_path / "data" / "small", n_train=300, n_test=20)
    (tmp_path / "configs" / "data").mkdir(parents=True)
    (tmp_path / "configs" / "data" / "small.yaml").write_text("name: small\nfolds: {n_splits: 3, seed: 0}\n")
    (tmp_path / "configs" / "tf.yaml").write_text(
        "data: small\nmodel: {kind: tfidf, C: 2.0, word_min_df: 1, char_ngram_range: [], n_jobs: 1}\n" + SPACE
    )
    monkeypatch.chdir(tmp_path)
    foldwise_cli("folds", "small")
    return tmp_path


def finished(study):
    return sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in study.get_trials(deepcopy=False))


def states(study):
    counts = {}
    for t in study.get_trials(deepcopy=False):
        counts[t.state] = counts.get(t.state, 0) + 1
    return counts


def test_total_across_restarts_and_current_config_first(project):
    study = run_study("configs/tf.yaml", trials=2)
    assert finished(study) == 2 == len(study.trials)
    first = study.trials[0]
    assert first.params == {"model.C": 2.0, "model.word_ngram_range": "[1, 2]"}  # the experiment as it is
    assert len(first.intermediate_values) == 2  # the running CV score after each fold
    study = run_study("configs/tf.yaml", trials=5)  # TRIALS is the total, not "n more"
    assert finished(study) == 5 == len(study.trials)
    assert len(run_study("configs/tf.yaml", trials=3).trials) == 5  # already there: nothing runs
    assert study.best_value >= first.value  # never worse than the starting config


def test_space_widens_to_hold_the_current_config(project):
    wide = Path("configs/wide.yaml")
    wide.write_text(Path("configs/tf.yaml").read_text().replace("C: 2.0", "C: 64.0, word_ngram_range: [1, 3]"))
    study = run_study(wide, trials=1)
    assert study.trials[0].params == {"model.C": 64.0, "model.word_ngram_range": "[1, 3]"}
    assert study.trials[0].state == TrialState.COMPLETE


def test_trial_lines_show_a_loss_as_it_reads_with_its_direction(project):
    optuna.logging.set_verbosity(optuna.logging.INFO)  # optuna's own default, as in a fresh process
    try:
        proc = foldwise_cli("tune", "configs/tf.yaml", "--trials", "2", "--set", "data.metric=log_loss")
    finally:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("trial ")]
    assert len(lines) == 2 and lines[0].startswith("trial 0: CV log-loss 0.") and "(lower is better)" in lines[0]
    assert "best: trial " in lines[1] and "C=" in lines[1]
    assert "-0." not in proc.stdout and "finished with value" not in proc.stderr  # no negated loss anywhere


def test_study_name_does_not_repeat_the_dataset():
    def named(experiment: str) -> str:
        return study_name(ExperimentConfig(name=experiment, data=DataConfig(name="comp")))

    assert named("comp-tfidf") == "comp-tfidf"  # not comp-comp-tfidf
    assert (named("tfidf"), named("comptfidf"), named("comp")) == ("comp-tfidf", "comp-comptfidf", "comp-comp")


def test_cuda_oom_prunes_the_trial_and_the_study_goes_on(project, monkeypatch, capsys):
    import foldwise.stages.cv

    real, calls = foldwise.stages.cv.train_fold, []

    def out_of_memory_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(*args, **kwargs)

    monkeypatch.setattr(foldwise.stages.cv, "train_fold", out_of_memory_once)
    study = run_study("configs/tf.yaml", trials=2)
    assert [t.state for t in study.trials] == [TrialState.PRUNED, TrialState.COMPLETE]
    assert study.trials[0].user_attrs["pruned_reason"].startswith("CUDA out of memory")
    out = capsys.readouterr().out
    assert "trial 0 pruned: CUDA out of memory" in out and "trial 1: CV macro-F1 0." in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--trials", "0"], "trials must be at least 1"),
        (["--set", "tune.folds=4"], "tune.folds is 4, but small has 3 folds"),
        (["--storage", "nonsense"], "storage nonsense: Could not parse"),
        (["--storage", "postgresql://user:secret@127.0.0.1:1/db"], "storage postgresql://***@127.0.0.1:1/db: "),
        (
            ["--storage", "journal:configs/tf.yaml/t.log"],
            "storage journal:configs/tf.yaml/t.log: the journal file cannot be written",
        ),
    ],
)
def test_bad_tune_input_is_a_one_line_error_and_writes_nothing(project, args, message):
    proc = foldwise_cli("tune", "configs/tf.yaml", *args, code=2)
    assert proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr
    assert "secret" not in proc.stderr and not list(Path(".").glob("studies/*.db"))


def test_unknown_parameter_fails_before_any_trial(project):
    bad = Path("configs/bad.yaml")
    bad.write_text(Path("configs/tf.yaml").read_text().replace("model.C:", "model.Cee:"))
    with pytest.raises(FoldwiseError, match="unknown key 'model.Cee'"):
        run_study(bad, trials=2)
    assert not Path("studies/small-bad.db").exists() or not optuna.get_all_study_names("sqlite:///studies/small-bad.db")


def test_study_results_tuned_config_and_plots(project):
    run_study("configs/tf.yaml", trials=3)
    proc = foldwise_cli("study", "configs/tf.yaml")
    assert "study small-tf: " in proc.stdout and "#0" in proc.stdout
    tuned = Path("configs/tf.tuned.yaml").read_text()
    best = load_study("configs/tf.yaml").best_trial
    assert f"C: {best.params['model.C']}" in tuned and "tune:" not in tuned
    for name in ("history", "slice"):
        assert Path(f"studies/small-tf/{name}.png").read_bytes()[:4] == b"\x89PNG"
    summary = json.loads(Path("studies/small-tf/study.json").read_text())
    assert summary["best"]["trial"] == best.number and summary["current_config"]["trial"] == 0
    assert summary["metric"] == "macro_f1" and summary["best"]["cv_score"] == pytest.approx(best.value)
    assert summary["current_config"]["cv_score"] <= summary["best"]["cv_score"]
    assert "(values: CV macro-F1, higher is better)" in proc.stdout and "CV macro-F1 (" in proc.stdout
    assert summary["provenance"]["seed"] == 42 and "optuna" in summary["provenance"]["versions"]
    assert "current config (trial 0)" in proc.stdout
    foldwise_cli("train", "configs/tf.tuned.yaml")  # `make train` accepts the tuned config directly


def test_journal_storage(project):
    study = run_study("configs/tf.yaml", trials=2, storage="journal:studies/tf.log")
    assert finished(study) == 2 and Path("studies/tf.log").exists()


def _worker(trials, storage=None, heartbeat=1, grace=2, overrides=()):
    """A `foldwise tune` worker in a process of its own (workers run at once, and some are killed)."""
    args = [
        *FOLDWISE,
        "tune",
        "configs/tf.yaml",
        "--trials",
        str(trials),
        "--heartbeat",
        str(heartbeat),
        "--grace",
        str(grace),
        *[arg for item in overrides for arg in ("--set", item)],
    ]
    if storage:
        args += ["--storage", storage]
    return subprocess.Popen(args, env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _trial0_params(url):
    """The parameters of the study's first trial (finished before trial 1 starts in one worker)."""
    return optuna.load_study(study_name="small-tf", storage=url).trials[0].params


#: character n-grams too: trials of a few seconds, so that the kill lands in one, not after it
SLOW_TRIALS = ("model.char_ngram_range=[2, 5]", "model.char_min_df=1")


def test_worker_killed_mid_trial_is_retried_not_lost(project):
    url = "sqlite:///studies/small-tf.db"
    worker = _worker(trials=3, overrides=SLOW_TRIALS)
    killed = None
    deadline = time.time() + 120
    while time.time() < deadline and worker.poll() is None:
        try:
            running = optuna.load_study(study_name="small-tf", storage=url).get_trials(
                deepcopy=False, states=(TrialState.RUNNING,)
            )
        except (KeyError, Exception):  # noqa: BLE001 - the study may not exist yet
            running = []
        # kill trial >= 1 once it has suggested every parameter trial 0 did: killed earlier, it would hold
        # no params yet and the retry's params (fixed + newly sampled) could not be compared with it
        if running and running[0].number >= 1 and set(running[0].params) >= set(_trial0_params(url)):
            killed = running[0].number
            worker.send_signal(signal.SIGKILL)  # no cleanup: like an OOM kill or power loss
            break
        time.sleep(0.05)
    worker.wait()
    assert killed is not None, "the worker finished before it could be killed mid-trial"
    time.sleep(3)  # past the grace period: the trial's heartbeat is stale
    restart = _worker(trials=3, overrides=SLOW_TRIALS)
    assert restart.wait(timeout=300) == 0, restart.stderr.read()[-2000:]
    study = optuna.load_study(study_name="small-tf", storage=url)
    counts = states(study)
    assert counts.get(TrialState.COMPLETE, 0) + counts.get(TrialState.PRUNED, 0) == 3
    assert counts.get(TrialState.FAIL, 0) == 1 and TrialState.RUNNING not in counts
    failed = study.trials[killed]
    retries = [t for t in study.trials if RetryHeartbeatStaleTrialCallback.retried_trial_number(t) == killed]
    assert len(retries) == 1 and retries[0].params == failed.params and retries[0].state == TrialState.COMPLETE


def _postgres_url():
    url = os.environ.get("FOLDWISE_TEST_POSTGRES")
    if url:
        return url
    pytest.skip("no PostgreSQL server: set FOLDWISE_TEST_POSTGRES (.ci/run starts one)")


def test_two_workers_share_a_postgresql_study(project):
    url = _postgres_url()
    pytest.importorskip("psycopg", reason="PostgreSQL driver (psycopg) not installed")
    from sqlalchemy import create_engine, text

    with create_engine(url).begin() as conn:  # a clean study for this test
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
    workers = [_worker(trials=6, storage=url, heartbeat=5, grace=20) for _ in range(2)]
    for w in workers:
        assert w.wait(timeout=600) == 0, w.stderr.read()[-2000:]
    study = optuna.load_study(study_name="small-tf", storage=url)
    assert 6 <= finished(study) <= 7  # a trial started in the instant the other one ends may overshoot
    assert len({t.number for t in study.trials}) == len(study.trials)


def test_workers_stop_when_running_trials_would_reach_the_target(tmp_path):
    study = optuna.create_study(storage=open_storage(f"sqlite:///{tmp_path / 's.db'}", 30, 90, 1))
    study.ask()  # a trial another live worker is running
    study.optimize(lambda trial: 1.0, n_trials=10, callbacks=[StopAtTarget(3)])
    assert finished(study) == 2  # 2 finished + 1 running elsewhere = the target of 3


@pytest.mark.parametrize(("task", "tunes_the_loss"), [("multilabel", True), ("multiclass", False), ("span", False)])
def test_the_default_space_leaves_out_the_keys_a_task_kind_does_not_use(tmp_path, task, tunes_the_loss):
    """A softmax, span logits or generated tokens train with one loss: their kinds' default space
    does not tune model.loss or model.focal_gamma (TASKS' untuned_keys)."""
    from foldwise.experiment import load_experiment
    from foldwise.stages.tuning import search_space

    span = ", question_column: q, context_column: c, answer_column: a, metric: squad" if task == "span" else ""
    path = tmp_path / "t.yaml"
    path.write_text(f"data: {{name: x, task: {task}{span}}}\nmodel: {{kind: transformer}}\n")
    keys = {param.key for param in search_space(path, load_experiment(path))}
    assert "model.lr" in keys
    assert ({"model.loss", "model.focal_gamma"} <= keys) is tunes_the_loss
