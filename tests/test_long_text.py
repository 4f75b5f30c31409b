"""One very long text cell must not blow up memory: texts stay object arrays, never fixed-width str."""

import os
import resource
import subprocess
from pathlib import Path

import numpy as np
from conftest import FOLDWISE, cli_env, toy_frames, write_competition

from foldwise.config import TextConfig
from foldwise.data.text import clean_texts

N_ROWS = 2000
LONG_CELL = "word " * 200_000  # 1 MB: as fixed-width str, 2000 rows x 1e6 chars x 4 bytes = 7.5 GiB
ADDRESS_SPACE_LIMIT = 4 * 2**30  # the CLI's own peak is ~2 GiB of address space (libraries, threads)


def _limit_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))


def run_limited(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """The CLI in a subprocess whose address space is capped (an allocation past it fails): a
    process of its own, since the cap is a process limit."""
    env = {**cli_env(), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    return subprocess.run(
        [*FOLDWISE, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        preexec_fn=_limit_address_space,
        timeout=300,
    )


def test_clean_texts_keeps_objects():
    texts = np.array(["short", LONG_CELL], dtype=object)
    cleaned = clean_texts(texts, TextConfig(normalize_whitespace=True))
    assert cleaned.dtype == object and cleaned[0] == "short" and cleaned[1] == LONG_CELL.strip()


def test_folds_and_train_with_a_1mb_cell_under_a_memory_limit(tmp_path):
    train, test = toy_frames(n_train=N_ROWS, n_test=20)
    train.loc[7, "text"] = LONG_CELL
    write_competition(tmp_path / "data" / "long", train, test)
    (tmp_path / "configs" / "data").mkdir(parents=True)
    (tmp_path / "configs" / "data" / "long.yaml").write_text("name: long\nfolds: {n_splits: 2, seed: 0}\n")
    (tmp_path / "configs" / "tiny.yaml").write_text(
        "data: long\nmodel: {kind: tfidf, word_min_df: 1, char_ngram_range: [], n_jobs: 1, max_iter: 50}\n"
    )

    proc = run_limited(tmp_path, "folds", "long")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"{N_ROWS} rows" in proc.stdout
    proc = run_limited(tmp_path, "train", "configs/tiny.yaml")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "runs" / "tiny" / "oof.csv").exists()
    assert os.path.getsize(tmp_path / "runs" / "tiny" / "oof.csv") > 0
