"""Shared fixtures: small competitions in Kaggle layout, built in temporary folders."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import random
import re
import subprocess
import sys
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
#: the offline GoEmotions mirror: ../shared beside the clone (CI), or FOLDWISE_GOEMOTIONS_MIRROR
SHARED_GOEMOTIONS = Path(os.environ.get("FOLDWISE_GOEMOTIONS_MIRROR") or REPO.parent / "shared" / "data" / "goemotions")
#: the command line in a process of its own, for the tests where the process is what is tested
#: (kill and resume, concurrent workers, torchrun); the others call :func:`foldwise_cli`
FOLDWISE = [sys.executable, "-m", "foldwise.cli"]

# Offline and headless for the whole session, in-process command lines included: huggingface_hub
# reads HF_HUB_OFFLINE once, when first imported, so it is set before any test imports it.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["MPLBACKEND"] = "Agg"
# Deterministic precision: `precision: auto` on a CPU keeps the CPU-flag rule instead of timing bf16
# against fp32 (tests/test_precision_probe.py turns the probe on, with a cache of its own).
os.environ["FOLDWISE_PRECISION_PROBE"] = "off"


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


def write_competition(
    folder: Path, train: pd.DataFrame, test: pd.DataFrame, sample: pd.DataFrame | None = None
) -> Path:
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
    test = pd.DataFrame(
        {
            "id": [f"s{i}" for i in range(n_test)],
            "text": [f"so {list(words.values())[i % 3].split()[0]}" for i in range(n_test)],
        }
    )
    return train, test


def titled_competition(
    folder: Path, multilabel: bool = False, n_train: int = 90, n_test: int = 12, seed: int = 0
) -> Path:
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
        rows.append(
            {
                "id": f"r{i}",
                "title": f"news {i}",
                "body": f"about the {body} today",
                **({"genres": str(picked)} if multilabel else {"label": picked[0]}),
            }
        )
    train = pd.DataFrame(rows)
    test = pd.DataFrame(
        {
            "id": [f"q{i}" for i in range(n_test)],
            "title": [f"item {i}" for i in range(n_test)],
            "body": [words[names[i % 3]].split()[0] for i in range(n_test)],
        }
    )
    sample = (
        pd.DataFrame({"id": test["id"], **{n: 0 for n in names}})
        if multilabel
        else pd.DataFrame({"id": test["id"], "label": names[0]})
    )
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
        pytest.skip(
            f"offline GoEmotions mirror not found at {SHARED_GOEMOTIONS} "
            "(clone beside ../shared, or set FOLDWISE_GOEMOTIONS_MIRROR)"
        )
    train = pd.read_csv(SHARED_GOEMOTIONS / "train.csv", dtype={"id": str}, nrows=n_train)
    test = pd.read_csv(SHARED_GOEMOTIONS / "test.csv", dtype={"id": str}, nrows=n_test)
    sample = pd.read_csv(SHARED_GOEMOTIONS / "sample_submission.csv", dtype={"id": str}, nrows=n_test)
    return write_competition(folder, train, test, sample)


#: the data config of titled_competition's single-label layout (after its name and dir)
NEWS_DATA = (
    "task: multiclass\nmetric: accuracy\ntext_columns: [title, body]\nlabel_column: label\n"
    "folds: {n_splits: 3, seed: 0}\n"
)

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


@contextlib.contextmanager
def _process_state(args: tuple[str, ...], cwd: Path | str | None, env: Mapping[str, str | None]) -> Iterator[None]:
    """What a fresh ``foldwise`` process would start from, undone on leaving: the working
    directory, ``sys.argv``, environment overrides (None unsets), and the global state the
    command line may change in-process (excepthook, random generators, torch's thread count and
    generator)."""
    import torch  # imported first, so that its default thread count is the one restored

    saved = (
        os.getcwd(),
        dict(os.environ),
        sys.argv,
        sys.excepthook,
        random.getstate(),
        np.random.get_state(),
        torch.get_num_threads(),
        torch.random.get_rng_state(),
    )
    try:
        if cwd is not None:
            os.chdir(cwd)
        for key, value in env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        sys.argv = ["foldwise", *args]
        yield
    finally:
        cwd0, env0, sys.argv, sys.excepthook, state, np_state, threads, torch_state = saved
        os.chdir(cwd0)
        os.environ.clear()
        os.environ.update(env0)
        random.setstate(state)
        np.random.set_state(np_state)
        torch.set_num_threads(threads)
        torch.random.set_rng_state(torch_state)


#: the warning filters a Python process starts with (pytest's own show DeprecationWarnings)
PROCESS_WARNING_FILTERS = (
    ("ignore", ResourceWarning),
    ("ignore", ImportWarning),
    ("ignore", PendingDeprecationWarning),
    ("ignore", DeprecationWarning),
)


def _warning_on_stderr(message, category, filename, lineno, file=None, line=None) -> None:
    """Print a warning on stderr as an uncaught one is (pytest's would record it instead)."""
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def _plain_stream_handlers() -> list[logging.StreamHandler]:
    """The console handlers libraries set on their loggers (not pytest's capturing subclasses)."""
    loggers = [
        logging.getLogger(),
        *(lg for lg in logging.root.manager.loggerDict.values() if isinstance(lg, logging.Logger)),
    ]
    return [h for lg in loggers for h in lg.handlers if type(h) is logging.StreamHandler]


def _point_handler(handler: logging.StreamHandler, stream) -> object:
    """Point ``handler`` at ``stream``; returns its old stream (not flushed: it may be closed, a
    pytest capture a library's handler was made under)."""
    with handler.lock:
        old, handler.stream = handler.stream, stream
    return old


@contextlib.contextmanager
def _process_output(out: io.StringIO, err: io.StringIO) -> Iterator[None]:
    """Everything the command line prints goes to ``out`` and ``err``, as a process's would:
    sys.stdout and sys.stderr, the libraries' logging handlers, and warnings (shown on stderr
    under a fresh process's filters)."""
    redirected = [
        (h, _point_handler(h, out if h.stream in (sys.stdout, sys.__stdout__) else err))
        for h in _plain_stream_handlers()
    ]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
            warnings.resetwarnings()
            for action, category in PROCESS_WARNING_FILTERS:
                warnings.simplefilter(action, category)
            warnings.showwarning = _warning_on_stderr
            yield
    finally:
        for handler, stream in redirected:
            _point_handler(handler, sys.stderr if getattr(stream, "closed", False) else stream)
        for handler in _plain_stream_handlers():  # a library's, set up during the call, on the buffer
            if handler.stream in (out, err):
                _point_handler(handler, sys.stderr)


def foldwise_cli(
    *args: str, cwd: Path | str | None = None, env: Mapping[str, str | None] | None = None, code: int | None = 0
) -> subprocess.CompletedProcess:
    """``foldwise *args`` run in this process, as from a shell in ``cwd`` (default: the current
    folder) with ``env`` on top of the environment: its exit status and captured stdout/stderr.

    Argument errors and ``--help`` (SystemExit) give their status, an unexpected exception status 1
    with its traceback on stderr, as a process would. ``code``: the exit status the call must
    have, asserted with the end of stderr (None: any).
    """
    from foldwise import cli

    out, err = io.StringIO(), io.StringIO()
    with _process_state(args, cwd, env or {}), _process_output(out, err):
        try:
            status = cli.main(list(args))
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
            if isinstance(exc.code, str):
                print(exc.code, file=sys.stderr)
        except Exception:  # noqa: BLE001  (a crash: the traceback a process would print)
            cli.masked_excepthook(*sys.exc_info())
            status = 1
    done = subprocess.CompletedProcess(["foldwise", *args], status, out.getvalue(), err.getvalue())
    if code is not None:
        assert done.returncode == code, f"foldwise {' '.join(args)}: exit {done.returncode}\n{done.stderr[-3000:]}"
    return done
