"""Progress output: tqdm bars on a terminal, plain lines (no carriage returns) in logs and pipes."""

import io
import re
import subprocess
import sys

from conftest import FOLDWISE, cli_env, toy_frames, write_competition

from foldwise import progress


def test_piped_train_prints_one_plain_line_per_fold(tmp_path):
    train, test = toy_frames()
    write_competition(tmp_path / "data" / "toy", train, test)
    (tmp_path / "configs" / "data").mkdir(parents=True)
    (tmp_path / "configs" / "data" / "toy.yaml").write_text("name: toy\nfolds: {n_splits: 3, seed: 0}\n")
    (tmp_path / "configs" / "t.yaml").write_text(
        "data: toy\nmodel: {kind: tfidf, word_min_df: 1, char_ngram_range: [], n_jobs: 1}\n"
    )
    for args in (["folds", "toy"], ["train", "configs/t.yaml"]):
        # a process of its own: what a real pipe receives, whoever writes it; bytes, not text=True:
        # universal newlines would turn every '\r' into '\n'
        proc = subprocess.run([*FOLDWISE, *args], cwd=tmp_path, env=cli_env(), capture_output=True)
        assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    log = (proc.stdout + proc.stderr).decode()
    assert "\r" not in log
    fold_lines = re.findall(r"^fold (\d): trained on \d+ rows in \d+\.\ds \(\d+ rows/s\), .*$", log, re.M)
    assert fold_lines == ["0", "1", "2"]
    assert not re.search(r"\d+/3 \[|it/s|fold/s", log)  # no tqdm bar text at all


def test_line_progress_prints_one_summary_line(capsys):
    epoch = progress.LineProgress(desc="epoch 1/2", unit="sample")
    for _ in range(3):
        epoch.update(1500)
    epoch.set_postfix(loss="0.4123")
    epoch.close()
    epoch.close()  # closing twice prints once
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "\r" not in out
    assert re.fullmatch(r"epoch 1/2: 4\.5k samples in \d+\.\ds \([\d.]+[kMG]? samples/s\), loss=0\.4123\n", out)

    assert list(progress.LineProgress([5, 6], desc="folds", unit="fold", report=False)) == [5, 6]
    assert capsys.readouterr().out == ""


def test_a_long_loop_in_a_log_prints_interim_lines_with_the_time_left(capsys):
    epoch = progress.LineProgress(desc="epoch 1/1", unit="sample", total=6000, every=0)
    epoch.set_postfix(loss="0.5000")
    for _ in range(3):
        epoch.update(1500)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and "\r" not in "".join(lines)
    assert re.fullmatch(
        r"epoch 1/1: 1\.5k/6k samples \(25%\) in \d+s \([\d.]+[kMG]? samples/s, ~\d+s left\), "
        r"loss=0\.5000",
        lines[0],
    )
    assert "4.5k/6k samples (75%)" in lines[2]

    slow = progress.LineProgress(desc="folds", unit="fold", total=5, every=0, report=False)
    slow.start -= 900
    slow.last_line -= 900  # the first fold took fifteen minutes (the cores were shared)
    slow.update(1)
    slow.start -= 300
    slow.last_line -= 300  # the second took five: the time left follows the recent rate
    slow.update(1)
    first, second = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"folds: 1/5 folds \(20%\) in 15m0\ds \(15m0\ds/fold, ~1h0\dm left\)", first)
    assert re.fullmatch(r"folds: 2/5 folds \(40%\) in 20m0\ds \(5m0\ds/fold, ~15m0\ds left\)", second)

    quiet = progress.LineProgress(desc="epoch 1/1", unit="sample", total=6000)  # every LOG_EVERY_S by default
    quiet.update(1500)
    assert capsys.readouterr().out == ""
    assert progress.bar(total=10, desc="x", disable=True).every is None  # other ranks print nothing


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_is_tqdm_on_a_terminal_and_plain_elsewhere(monkeypatch):
    from tqdm.auto import tqdm

    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert isinstance(progress.bar(range(3), desc="folds"), progress.LineProgress)
    monkeypatch.setattr(sys, "stderr", _Terminal())
    shown = progress.bar(range(3), desc="folds")
    assert isinstance(shown, tqdm)
    shown.close()
    assert isinstance(progress.bar(range(3), desc="folds", disable=True), progress.LineProgress)
