"""The docs' "A new competition by hand" example (docs/new-competition.md, linked from README)
runs as written: its YAML files, its make lines."""

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
from conftest import REPO, cli_env, markdown_heading, markdown_lines

PAGE = REPO / "docs" / "new-competition.md"
SECTION = "A new competition by hand, from `kaggle competitions download`"


def section_text(page: Path, title: str) -> str:
    """The section of ``page`` headed ``title`` (at any level), up to the next heading of its level or above."""
    lines, level = [], 0
    for line, prose in markdown_lines(page):
        heading = markdown_heading(line) if prose else None
        if heading and level and heading[0] <= level:
            break
        if heading and not level and heading[1] == title:
            level = heading[0]
        if level:
            lines.append(line)
    assert level, f"{page.relative_to(REPO)}: no section headed {title!r}"
    return "".join(lines)


def doc_example() -> tuple[dict[str, str], list[str]]:
    """The section's YAML files (keyed by the path in their first-line comment) and make lines."""
    section = section_text(PAGE, SECTION)
    files, commands = {}, []
    for lang, body in re.findall(r"```(\w+)\n(.*?)```", section, flags=re.S):
        first = body.splitlines()[0]
        if lang == "yaml" and first.startswith("# configs/"):
            files[first[2:].strip()] = body
        elif lang == "bash":
            commands += [line.split("#")[0].strip() for line in body.splitlines() if line.startswith("make ")]
    return files, commands


def downloaded_competition(folder: Path, n_train: int = 150, n_test: int = 30) -> None:
    """What the Kaggle download unzips to: multi-word genre lists with a non-breaking space."""
    genres = {
        "Drama": "family tears",
        "Science Fiction": "robots space",
        "Action": "explosions chase",
        "TV Movie": "television special",
    }
    names = list(genres)
    rng = np.random.default_rng(0)

    def rows(n: int, prefix: str) -> list[dict]:
        out = []
        for i in range(n):
            on = [g for g in names if rng.random() < 0.4] or [names[i % len(names)]]
            out.append(
                {
                    "id": f"{prefix}{i}",
                    "title": f"Film {i}",
                    "overview": " ".join(genres[g] for g in on) + " and a story",
                    "genres": ",\u00a0".join(on),
                }
            )
        return out

    folder.mkdir(parents=True)
    pd.DataFrame(rows(n_train, "m")).to_csv(folder / "train.csv", index=False)
    test = pd.DataFrame(rows(n_test, "t")).drop(columns="genres")
    test.to_csv(folder / "test.csv", index=False)
    sample = pd.DataFrame(0, index=range(n_test), columns=names)
    sample.insert(0, "id", test["id"])
    sample.to_csv(folder / "sample_submission.csv", index=False)


def test_new_competition_example_runs_as_written(tmp_path):
    files, commands = doc_example()
    assert set(files) == {"configs/data/movies.yaml", "configs/movies-tfidf.yaml"}
    assert commands[0].startswith("make folds train ensemble") and commands[1].startswith("make submit")

    project = tmp_path / "project"
    project.mkdir()
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(REPO / name, project / name)
    os.utime(project / "pyproject.toml", (0, 0))  # older than the install stamp: make installs nothing
    (project / ".venv").symlink_to(REPO / ".venv")
    for rel, body in files.items():
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text(body, encoding="utf-8")
    data_dir = (project / "configs" / "data" / "movies.yaml").read_text().split("dir:")[1].split()[0]
    downloaded_competition((project / data_dir).resolve())
    assert not (project / "data").exists()

    outputs = []
    for command in commands:
        proc = subprocess.run(shlex.split(command), cwd=project, env=cli_env(), capture_output=True, text=True)
        assert proc.returncode == 0, f"{command}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
        outputs.append(proc.stdout)
    assert (project / "folds" / "movies.csv").exists()
    sub = pd.read_csv(project / "submissions" / "movies-tfidf.csv")
    assert list(sub.columns) == ["id", "Drama", "Science Fiction", "Action", "TV Movie"]
    assert "kaggle competitions submit -c movie-genre-challenge" in outputs[1]
