"""The results notebook runs headless on any dataset's runs, the way `make notebook` runs it."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import REPO, cli_env, foldwise_cli, titled_competition
from nbclient import NotebookClient

TFIDF = "model: {kind: tfidf, word_min_df: 1, char_ngram_range: [], n_jobs: 1}\n"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """Two datasets outside data/, neither with a `text` column, labels in one column each:
    'genres' (multi-label lists) and 'news' (single-label), each trained and ensembled."""
    root = tmp_path_factory.mktemp("project")
    titled_competition(root / "elsewhere" / "genres", multilabel=True)
    titled_competition(root / "elsewhere" / "news")
    (root / "configs" / "data").mkdir(parents=True)
    common = "text_columns: [title, body]\nfolds: {n_splits: 3, seed: 0}\n"
    (root / "configs" / "data" / "genres.yaml").write_text(
        f"name: genres\ndir: elsewhere/genres\nlabel_column: genres\n{common}"
    )
    (root / "configs" / "data" / "news.yaml").write_text(
        f"name: news\ndir: elsewhere/news\ntask: multiclass\nlabel_column: label\n{common}"
    )
    (root / "configs" / "g.yaml").write_text(f"data: genres\n{TFIDF}")
    (root / "configs" / "n.yaml").write_text(f"data: news\n{TFIDF}")
    for args in (
        ["folds", "genres"],
        ["folds", "news"],
        ["train", "configs/g.yaml", "configs/n.yaml"],
        ["ensemble", "g"],
        ["ensemble", "n"],
    ):
        foldwise_cli(*args, cwd=root)
    (root / "notebooks").mkdir()
    shutil.copy(REPO / "notebooks" / "results.ipynb", root / "notebooks" / "results.ipynb")
    return root


def outputs(notebook) -> tuple[str, int]:
    """All text the code cells printed or displayed, and how many PNG images they showed."""
    items = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    text = "".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) for o in items)
    return text, sum("image/png" in o.get("data", {}) for o in items)


def test_notebook_shows_every_dataset_in_runs(project, tmp_path, monkeypatch):
    monkeypatch.setenv("FOLDWISE_PROJECT", str(project))
    monkeypatch.delenv("FOLDWISE_DATASET", raising=False)
    monkeypatch.setenv("PYTHONPATH", cli_env()["PYTHONPATH"])  # the kernel imports this checkout's foldwise
    notebook = nbformat.read(REPO / "notebooks" / "results.ipynb", as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    text, pngs = outputs(notebook)
    assert "finished runs of 2 dataset(s): genres, news" in text
    assert "genres (multi-label, elsewhere/genres): 90 train rows, 12 test rows, 3 labels" in text
    assert "news (single-label, elsewhere/news): 90 train rows, 12 test rows, 3 labels" in text
    assert "macro-F1 tuned" in text and "macro-F1 cross-fitted" in text  # genres' runs table
    assert "CV accuracy" in text and "\naccuracy " in text  # news' submission and per-class table
    assert pngs == 4  # data overview and per-class F1 of each dataset


def test_make_notebook_command_executes_on_the_chosen_dataset(project):
    dry = subprocess.run(["make", "-n", "notebook", "DATA=news"], cwd=REPO, capture_output=True, text=True, check=True)
    [command] = [line for line in dry.stdout.splitlines() if "notebooks/results.ipynb" in line]
    command = command.replace(".venv/bin/", f"{Path(sys.executable).parent}{os.sep}")  # this test's environment
    env = {k: v for k, v in cli_env().items() if k not in ("FOLDWISE_PROJECT", "FOLDWISE_DATASET")}
    proc = subprocess.run(["bash", "-c", command], cwd=project, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text, pngs = outputs(nbformat.read(project / "notebooks" / "results.ipynb", as_version=4))
    assert "finished runs of 1 dataset(s): news" in text and "genres (" not in text
    assert "news (single-label, elsewhere/news)" in text and pngs == 2


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
