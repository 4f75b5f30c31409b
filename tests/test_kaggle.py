import hashlib
import json

from foldwise.cli import main
from foldwise.io.kaggle import kaggle_command, kaggle_configured


def test_command_line():
    assert kaggle_command("submissions/a.csv", "goemotions-comp", "CV 0.48") == [
        "kaggle",
        "competitions",
        "submit",
        "-c",
        "goemotions-comp",
        "-f",
        "submissions/a.csv",
        "-m",
        "CV 0.48",
    ]


def test_not_configured_without_cli_or_credentials(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert not kaggle_configured({}, tmp_path)
    fake = tmp_path / "kaggle"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    assert not kaggle_configured({}, tmp_path)
    assert kaggle_configured({"KAGGLE_USERNAME": "u", "KAGGLE_KEY": "k"}, tmp_path)
    (tmp_path / ".kaggle").mkdir()
    (tmp_path / ".kaggle" / "kaggle.json").write_text("{}")
    assert kaggle_configured({}, tmp_path)


def test_submit_prints_command_when_not_configured(in_tmp, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(in_tmp))  # no kaggle CLI
    (in_tmp / "submissions").mkdir()
    (in_tmp / "submissions" / "blend.csv").write_text("id,x\n")
    record = {"members": ["a", "b"], "csv_sha256": hashlib.sha256(b"id,x\n").hexdigest()}
    # the record of the kit's first days (no metric, its score under cv_macro_f1) is not read
    (in_tmp / "submissions" / "blend.json").write_text(json.dumps({**record, "cv_macro_f1": 0.4812}))
    assert main(["submit", "blend", "--competition", "my-comp"]) == 2
    assert capsys.readouterr().err == (
        "error: submissions/blend.json: no 'metric', 'cv_score'; make the submission "
        "again (`foldwise ensemble`), or pass --message\n"
    )
    (in_tmp / "submissions" / "blend.json").write_text(json.dumps({**record, "metric": "macro_f1", "cv_score": 0.4812}))
    assert main(["submit", "blend", "--competition", "my-comp"]) == 0
    out = capsys.readouterr().out
    assert "kaggle competitions submit -c my-comp -f submissions/blend.csv -m 'blend: CV macro-F1 0.4812 (a+b)'" in out
