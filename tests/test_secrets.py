"""Credentials never reach the terminal or a file: command lines and storage URLs are
masked wherever they are printed or stored, and the URL can come from the environment."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FOLDWISE, REPO, cli_env, foldwise_cli
from toy_project import make_toy_project

from foldwise.cli import main, masked_excepthook
from foldwise.io import artifacts
from foldwise.redact import mask_command, mask_secrets
from foldwise.stages.tuning import STORAGE_ENV, run_study

URL = "postgresql://u:SEC@RET:x@db.example:5432/optuna"


@pytest.mark.parametrize(
    "text, masked",
    [
        ("postgresql://user:secret@127.0.0.1:1/db", "postgresql://***@127.0.0.1:1/db"),
        (URL, "postgresql://***@db.example:5432/optuna"),  # '@' and ':' inside the password
        ("x postgresql+psycopg://:SECRET@h/db y", "x postgresql+psycopg://***@h/db y"),
        ("postgresql:/u:SECRET@h/db", "postgresql:/***@h/db"),  # malformed, still masked
        ("postgresql//u:TOPSECRET@h/db", "postgresql//***@h/db"),  # no ':' after the scheme
        ("storage postgresql://u:my secret@h:1/fw: refused", "storage postgresql://***@h:1/fw: refused"),
        ("a postgresql://u:SEC@RET@h/db: host 'x@h'", "a postgresql://***@h/db: host 'x@h'"),  # the message stays
        ("postgresql://u@h/db?sslmode=require&password=SECRET", "postgresql://u@h/db?sslmode=require&password=***"),
        ("sqlite:///studies/toy-t.db", "sqlite:///studies/toy-t.db"),
        ("postgresql://h:5432/db", "postgresql://h:5432/db"),
        ("journal:studies/t.log", "journal:studies/t.log"),
    ],
)
def test_mask_secrets(text, masked):
    assert mask_secrets(text) == masked


def test_command_line_is_masked_in_provenance(monkeypatch):
    monkeypatch.setattr(
        sys,
        "argv",
        ["/venv/bin/foldwise", "study", "configs/t.yaml", "--storage", URL, "--set", "x=postgresql://u:pass word@h/db"],
    )
    assert artifacts.provenance()["command"] == (
        "foldwise study configs/t.yaml --storage postgresql://***@db.example:5432/optuna --set x=postgresql://***@h/db"
    )
    assert mask_command(["a", "b c"]) == "a b c"


@pytest.mark.parametrize(
    "command, storage",
    [
        ("tune", "postgresql://u:SEC@RET@h:abc/db"),  # a port that is not a number
        ("tune", "postgresql:/u:SEC@RET@h/db"),  # does not parse at all
        ("study", "postgresql:/u:SEC@RET@h/db"),
    ],
)
def test_bad_storage_url_is_one_masked_line(command, storage, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(make_toy_project(tmp_path))
    assert main([command, "configs/t.yaml", "--storage", storage]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: storage postgresql:") and err.count("\n") == 1, err
    assert "SEC" not in err and "RET" not in err and "/***@h" in err and "u:" not in err
    assert not Path("studies").exists() or not any(Path("studies").iterdir())


def test_storage_from_environment_and_study_json_without_password(tmp_path, monkeypatch, capsys):
    """$FOLDWISE_STORAGE serves tune and study when --storage is absent; study.json keeps
    the command line without its password."""
    monkeypatch.chdir(make_toy_project(tmp_path))
    assert main(["folds", "toy"]) == 0
    monkeypatch.setenv(STORAGE_ENV, "sqlite:///elsewhere.db")
    run_study("configs/t.yaml", trials=1, overrides=["tune.folds=1"])
    assert Path("elsewhere.db").exists() and not Path("studies/toy-t.db").exists()
    monkeypatch.setattr(sys, "argv", ["foldwise", "study", "configs/t.yaml", "--storage", URL])
    assert main(["study", "configs/t.yaml"]) == 0  # the command line above is only what gets recorded
    summary = json.loads(Path("studies/toy-t/study.json").read_text())
    assert summary["provenance"]["command"].endswith("--storage postgresql://***@db.example:5432/optuna")
    assert "SEC" not in Path("studies/toy-t/study.json").read_text()


def test_make_does_not_echo_the_storage_password():
    """`make tune STORAGE=...` hands the URL over in $FOLDWISE_STORAGE, so the commands
    make echoes hold no password."""
    storage = "postgresql://u:SECRET@h/db"
    echoed = subprocess.run(
        ["make", "-n", "-C", str(REPO), "tune", "tune-worker", "tune-workers", "study", "EXP=t", f"STORAGE={storage}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "foldwise tune configs/t.yaml" in echoed and "foldwise study configs/t.yaml" in echoed
    assert "SECRET" not in echoed
    shown = subprocess.run(
        [
            "make",
            "-s",
            "-C",
            str(REPO),
            "--eval",
            "env-storage: ; @echo $$FOLDWISE_STORAGE",
            "env-storage",
            f"STORAGE={storage}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout.strip() == storage


LEAKS = {
    "space": ("postgresql://u:my secret@127.0.0.1:1/fw", ["my secret", "secret"]),
    "no ':' after the scheme": ("postgresql//u:TOPSECRET@h/db", ["TOPSECRET"]),
    "'@' in the password": ("postgresql://u:SEC@RET@127.0.0.1:1/db", ["SEC", "RET"]),
}


@pytest.mark.parametrize("case", LEAKS)
def test_storage_password_is_masked_in_the_drivers_message_too(case, tmp_path):
    """The URL from $FOLDWISE_STORAGE, as `make STORAGE=` hands it over: the one line names the
    URL and the driver's reason without the password (with 'u:SEC@RET@host' the driver reads
    host 'RET@127.0.0.1': it is shown as '***@127.0.0.1')."""
    root = make_toy_project(tmp_path)
    url, secrets = LEAKS[case]
    proc = foldwise_cli("study", "configs/t.yaml", cwd=root, env={STORAGE_ENV: url}, code=2)
    assert proc.stderr.startswith("error: storage postgresql") and proc.stderr.count("\n") == 1, proc.stderr
    assert "//***@" in proc.stderr and "//u:" not in proc.stderr, proc.stderr  # the whole user-info
    assert not any(secret in proc.stderr for secret in secrets), proc.stderr


def test_make_storage_with_a_space_in_the_password(tmp_path):
    root = make_toy_project(tmp_path)
    proc = subprocess.run(
        [
            "make",
            "-f",
            str(REPO / "Makefile"),
            "-o",
            ".venv/.installed",
            "study",
            "EXP=t",
            f"FOLDWISE={' '.join(FOLDWISE)}",
            "STORAGE=postgresql://u:my secret@127.0.0.1:1/fw",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        env=cli_env(),
    )
    assert proc.returncode != 0 and "error: storage postgresql://***@127.0.0.1:1/fw: " in proc.stderr, proc.stderr
    assert "secret" not in proc.stdout + proc.stderr


def test_an_unexpected_traceback_is_masked(capsys):
    try:
        raise RuntimeError("lost postgresql://u:my secret@h/db")
    except RuntimeError as exc:
        masked_excepthook(RuntimeError, exc, exc.__traceback__)
    err = capsys.readouterr().err
    assert err.startswith("Traceback") and "RuntimeError: lost postgresql://***@h/db" in err
    assert "my secret" not in err
