"""``foldwise remote kaggle``: the kernel it would push runs a tiny experiment locally, and the pulled run
joins local ones exactly (whole run, or fold by fold)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import NEWS_DATA, TINY_TFIDF, foldwise_cli, titled_competition, write_configs

#: a Kaggle user name, and no kaggle CLI nor credentials (no-kaggle/ in the project is not there)
NO_KAGGLE = {
    "KAGGLE_USERNAME": "someone",
    "PATH": "/nonexistent:" + os.environ["PATH"],
    "KAGGLE_CONFIG_DIR": "no-kaggle",
}


def project(root: Path) -> Path:
    titled_competition(root / "data" / "news")
    write_configs(
        root,
        {"news": "name: news\nkaggle_competition: news-comp\n" + NEWS_DATA},
        {"words": "data: news\nremote: {internet: false}\n" + TINY_TFIDF},
    )
    foldwise_cli("folds", "news", cwd=root, env=NO_KAGGLE)
    return root


def run_kernel(root: Path, folder: Path, tag: str, data: Path | None = None) -> Path:
    """The kernel's run.py as Kaggle would run it: competition files (``data``, default the news
    competition's) at the input path, a fresh process."""
    out = root / f"kernel-{tag}"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(
        FOLDWISE_KAGGLE_INPUT=str(data or root / "data" / "news"),
        FOLDWISE_OUTPUT=str(out / "working"),
        FOLDWISE_PROJECT=str(out / "project"),
    )
    done = subprocess.run(
        [sys.executable, str(folder / "run.py")], cwd=out.parent, capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out / "working"


def test_the_kernel_trains_the_experiment_and_its_run_joins_local_runs(tmp_path):
    root = project(tmp_path)
    out = foldwise_cli("remote", "kaggle", "configs/words.yaml", cwd=root, env=NO_KAGGLE).stdout
    assert "remote/words: kernel someone/foldwise-words" in out and "kaggle CLI is not set up" in out
    meta = json.loads((root / "remote" / "words" / "kernel-metadata.json").read_text())
    assert meta["code_file"] == "run.py" and meta["kernel_type"] == "script"
    assert (meta["enable_gpu"], meta["enable_internet"], meta["competition_sources"]) == (True, False, ["news-comp"])
    output = run_kernel(root, root / "remote" / "words", "all")
    assert (output / "runs" / "words" / "oof.csv").exists()
    foldwise_cli("remote", "kaggle", "configs/words.yaml", "--output", str(output), cwd=root, env=NO_KAGGLE)
    remote_oof = (root / "runs" / "words" / "oof.csv").read_bytes()
    foldwise_cli("ensemble", "words", cwd=root, env=NO_KAGGLE)  # the pulled run blends like a local one
    foldwise_cli("train", "configs/words.yaml", "--force", cwd=root, env=NO_KAGGLE)  # the same experiment trained here
    assert (root / "runs" / "words" / "oof.csv").read_bytes() == remote_oof


def test_one_kernel_per_fold_then_a_local_train_assembles_the_run(tmp_path):
    root = project(tmp_path)
    foldwise_cli(
        "remote",
        "kaggle",
        "configs/words.yaml",
        "--set",
        "remote.per_fold=true",
        "--build-only",
        cwd=root,
        env=NO_KAGGLE,
    )
    kernels = sorted(p.name for p in (root / "remote").iterdir())
    assert kernels == ["words-fold0", "words-fold1", "words-fold2"]
    assert "'folds': [1]" in (root / "remote" / "words-fold1" / "run.py").read_text()
    for name in kernels:
        output = run_kernel(root, root / "remote" / name, name)
        foldwise_cli(
            "remote",
            "kaggle",
            "configs/words.yaml",
            "--set",
            "remote.per_fold=true",
            "--output",
            str(output),
            cwd=root,
            env=NO_KAGGLE,
        )
    assert not (root / "runs" / "words" / "metrics.json").exists()  # each kernel trained one fold
    fold_records = {k: (root / "runs" / "words" / f"fold_{k}.json").read_bytes() for k in range(3)}
    assembled = foldwise_cli("train", "configs/words.yaml", cwd=root, env=NO_KAGGLE)
    assert (root / "runs" / "words" / "metrics.json").exists(), assembled.stdout
    assert all((root / "runs" / "words" / f"fold_{k}.json").read_bytes() == fold_records[k] for k in range(3))


def test_a_kernel_needs_the_fold_file_first(tmp_path):
    titled_competition(tmp_path / "data" / "news")
    write_configs(tmp_path, {"news": "name: news\n" + NEWS_DATA}, {"words": "data: news\n" + TINY_TFIDF})
    done = foldwise_cli("remote", "kaggle", "configs/words.yaml", cwd=tmp_path, env=NO_KAGGLE, code=2)
    assert "folds/news.csv: not found; run `foldwise folds news` first" in done.stderr
    assert not (tmp_path / "remote").exists()


def test_a_file_name_reaches_run_py_as_data_never_as_code(tmp_path):
    evil = 'test"+__import__("os").system("touch pwned")+".csv'  # an archive can name a file so
    root = project(tmp_path)
    (root / "data" / "news" / "test.csv").rename(root / "data" / "news" / evil)
    with open(root / "configs" / "data" / "news.yaml", "a") as fh:
        fh.write(f"test_file: {json.dumps(evil)}\n")
    foldwise_cli("remote", "kaggle", "configs/words.yaml", "--build-only", cwd=root, env=NO_KAGGLE)
    script = (root / "remote" / "words" / "run.py").read_text()
    assigned = next(
        node
        for node in ast.parse(script).body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "SETTINGS"
    )
    assert ast.literal_eval(assigned.value)["test_file"] == evil  # a literal: data, not code
    output = run_kernel(root, root / "remote" / "words", "evil")
    assert (output / "runs" / "words" / "oof.csv").exists()
    assert not list(tmp_path.rglob("pwned"))
