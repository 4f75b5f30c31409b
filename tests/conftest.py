"""Shared fixtures: small competitions in Kaggle layout, built in temporary folders."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
#: the offline GoEmotions mirror: ../shared beside the clone (CI), or FOLDWISE_GOEMOTIONS_MIRROR
SHARED_GOEMOTIONS = Path(os.environ.get("FOLDWISE_GOEMOTIONS_MIRROR")
                         or REPO.parent / "shared" / "data" / "goemotions")
FOLDWISE = [sys.executable, "-m", "foldwise.cli"]


def doc_pages() -> list[Path]:
    """README.md and every page under docs/ (recursively), README first."""
    return [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]


def doc_text() -> str:
    """What the documentation says, wherever it says it: README.md and every docs/ page, joined."""
    return "\n".join(page.read_text(encoding="utf-8") for page in doc_pages())


def markdown_lines(page: Path) -> list[tuple[str, bool]]:
    """Each line of a markdown page (line ending kept) and whether it is prose: outside fenced
    code blocks, fences excluded (a ``# configs/x.yaml`` comment in a block is no heading)."""
    lines, fenced = [], False
    for line in page.read_text(encoding="utf-8").splitlines(keepends=True):
        fence = line.lstrip().startswith("```")
        fenced ^= fence
        lines.append((line, not (fenced or fence)))
    return lines


def markdown_heading(line: str) -> tuple[int, str] | None:
    """(level, title) of a markdown heading line, else None."""
    found = re.match(r"(#{1,6}) (.+?)\s*$", line)
    return (len(found.group(1)), found.group(2)) if found else None


def write_competition(folder: Path, train: pd.DataFrame, test: pd.DataFrame,
                      sample: pd.DataFrame | None = None) -> Path:
    """Write train.csv, test.csv and sample_submission.csv into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    train.to_csv(folder / "train.csv", index=False)
    test.to_csv(folder / "test.csv", index=False)
    if sample is None:
        labels = [c for c in train.columns if c not in ("id", "text")]
        sample = pd.DataFrame(0, index=range(len(test)), columns=labels)
        sample.insert(0, "id", test["id"].to_numpy())
    sample.to_csv(folder / "sample_submission.csv", index=False)
    return folder


def toy_frames(n_train: int = 60, n_test: int = 10, seed: int = 0):
    """A tiny 3-label multi-label competition whose labels follow keywords in the text."""
    rng = np.random.default_rng(seed)
    words = {"joy": "happy glad", "anger": "angry mad", "fear": "scared afraid"}
    rows = []
    for i in range(n_train):
        y = rng.random(3) < 0.35
        if not y.any():
            y[rng.integers(3)] = True
        text = " ".join(words[name].split()[rng.integers(2)] for name, on in zip(words, y) if on)
        rows.append({"id": f"t{i}", "text": f"I am {text} today", **{n: int(v) for n, v in zip(words, y)}})
    train = pd.DataFrame(rows)
    test = pd.DataFrame({"id": [f"s{i}" for i in range(n_test)],
                         "text": [f"so {list(words.values())[i % 3].split()[0]}" for i in range(n_test)]})
    return train, test


def titled_competition(folder: Path, multilabel: bool = False, n_train: int = 90, n_test: int = 12,
                       seed: int = 0) -> Path:
    """A competition with no ``text`` column: ``title`` + ``body`` texts, labels named in one column.

    Single-label (AG-News-like): column ``label`` holds one class per row and the sample
    submission is ``id,label``. Multi-label: column ``genres`` holds a list such as
    ``"['drama', 'action']"`` and the sample has one 0/1 column per label.
    """
    rng = np.random.default_rng(seed)
    words = {"sports": "match goal", "business": "market shares", "tech": "software chip"}
    names = list(words)
    rows = []
    for i in range(n_train):
        picked = ([n for n in names if rng.random() < 0.4] or [names[i % 3]]) if multilabel else [names[i % 3]]
        said = [names[rng.integers(3)]] if rng.random() < 0.25 else picked  # some rows mislead: scores below 1
        body = " ".join(words[n].split()[rng.integers(2)] for n in said)
        rows.append({"id": f"r{i}", "title": f"news {i}", "body": f"about the {body} today",
                     **({"genres": str(picked)} if multilabel else {"label": picked[0]})})
    train = pd.DataFrame(rows)
    test = pd.DataFrame({"id": [f"q{i}" for i in range(n_test)], "title": [f"item {i}" for i in range(n_test)],
                         "body": [words[names[i % 3]].split()[0] for i in range(n_test)]})
    sample = (pd.DataFrame({"id": test["id"], **{n: 0 for n in names}}) if multilabel
              else pd.DataFrame({"id": test["id"], "label": names[0]}))
    return write_competition(folder, train, test, sample)


@pytest.fixture
def toy_competition(tmp_path: Path) -> Path:
    """tmp_path/data/toy/ holding a small valid competition; returns the folder."""
    train, test = toy_frames()
    return write_competition(tmp_path / "data" / "toy", train, test)


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the test with tmp_path as the working directory (runs/, folds/ go there)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def small_goemotions(folder: Path, n_train: int = 400, n_test: int = 80) -> Path:
    """The first rows of the shared GoEmotions mirror, as a competition of its own."""
    if not SHARED_GOEMOTIONS.exists():
        pytest.skip(f"offline GoEmotions mirror not found at {SHARED_GOEMOTIONS} "
                    "(clone beside ../shared, or set FOLDWISE_GOEMOTIONS_MIRROR)")
    train = pd.read_csv(SHARED_GOEMOTIONS / "train.csv", dtype={"id": str}, nrows=n_train)
    test = pd.read_csv(SHARED_GOEMOTIONS / "test.csv", dtype={"id": str}, nrows=n_test)
    sample = pd.read_csv(SHARED_GOEMOTIONS / "sample_submission.csv", dtype={"id": str}, nrows=n_test)
    return write_competition(folder, train, test, sample)


#: the data config of titled_competition's single-label layout (after its name and dir)
NEWS_DATA = ("task: multiclass\nmetric: accuracy\ntext_columns: [title, body]\nlabel_column: label\n"
             "folds: {n_splits: 3, seed: 0}\n")

#: the model section of a fast TF-IDF experiment for tests (word n-grams only, one job)
TINY_TFIDF = "model: {kind: tfidf, word_min_df: 1, char_ngram_range: [], n_jobs: 1}\n"


def write_configs(root: Path, data: dict[str, str], experiments: dict[str, str]) -> None:
    """``configs/data/<name>.yaml`` for each dataset and ``configs/<name>.yaml`` for each
    experiment under ``root``, from their YAML texts."""
    (root / "configs" / "data").mkdir(parents=True, exist_ok=True)
    for name, text in data.items():
        (root / "configs" / "data" / f"{name}.yaml").write_text(text)
    for name, text in experiments.items():
        (root / "configs" / f"{name}.yaml").write_text(text)


def cli_env() -> dict[str, str]:
    """Environment for running the CLI in a subprocess (the package importable, no hub)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env["HF_HUB_OFFLINE"] = "1"
    env["MPLBACKEND"] = "Agg"
    return env
