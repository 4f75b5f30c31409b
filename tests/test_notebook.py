"""The results notebook runs headless on a small project (it only reads data/ and runs/)."""

import subprocess

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import FOLDWISE, REPO, cli_env, small_goemotions


def test_notebook_executes_on_small_project(tmp_path, monkeypatch):
    small_goemotions(tmp_path / "data" / "small", n_train=150, n_test=30)
    (tmp_path / "configs" / "data").mkdir(parents=True)
    (tmp_path / "configs" / "data" / "small.yaml").write_text("name: small\nfolds: {n_splits: 2}\n")
    (tmp_path / "configs" / "t.yaml").write_text(
        "data: small\nmodel: {kind: tfidf, word_min_df: 1, char_ngram_range: [], n_jobs: 1}\n")
    for args in (["folds", "small"], ["train", "configs/t.yaml"], ["ensemble", "t"]):
        subprocess.run([*FOLDWISE, *args], cwd=tmp_path, env=cli_env(), check=True, capture_output=True)
    monkeypatch.setenv("FOLDWISE_PROJECT", str(tmp_path))
    monkeypatch.setenv("FOLDWISE_DATASET", "small")
    notebook = nbformat.read(REPO / "notebooks" / "results.ipynb", as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = "".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
                      for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs)
    assert "150 train rows, 30 test rows, 28 labels" in outputs
    assert "macro-F1 tuned" in outputs
    pngs = sum("image/png" in o.get("data", {}) for c in notebook.cells if c.cell_type == "code" for o in c.outputs)
    assert pngs >= 2


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
