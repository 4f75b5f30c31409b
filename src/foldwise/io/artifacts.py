"""Atomic artifact writing and the provenance saved next to every artifact."""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from ..redact import mask_command

#: packages whose versions are recorded in every provenance block
TRACKED_PACKAGES = (
    "foldwise",
    "numpy",
    "pandas",
    "scikit-learn",
    "iterative-stratification",
    "emoji",
    "torch",
    "transformers",
    "datasets",
    "optuna",
    "peft",
    "bitsandbytes",
    "gguf",
)


def _umask() -> int:
    """The process umask, from /proc where possible (``os.umask`` can only read it by
    setting it, which would race with other threads creating files)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _normal_mode(path: Path, mode: int) -> None:
    """Give a temporary file/folder the mode ``open()``/``mkdir()`` would (``mkstemp``
    and ``mkdtemp`` create them private to the user, 0600/0700)."""
    os.chmod(path, mode & ~_umask())


def _temp_prefix(path: Path) -> str:
    """``.<name>.<pid>.``: temporary files and folders beside ``path`` name the process that
    writes them, so a cleanup can tell a killed writer's leftovers from a live writer's."""
    return f".{path.name}.{os.getpid()}."


def _writer_alive(tmp: Path, prefix: str) -> bool:
    """Whether the process named in temporary file ``tmp`` (``<prefix><pid>.<random>...``)
    still runs; a name without a pid (an older version's) counts as a dead writer's."""
    pid, dot, _ = tmp.name[len(prefix) :].partition(".")
    if not (dot and pid.isdigit()):
        return False
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, but belongs to another user
        pass
    return True


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    If the body raises, the temporary file is removed and ``path`` is untouched, so
    an interrupted run never leaves a half-written artifact behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=".tmp" + path.suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    _normal_mode(tmp_path, 0o666)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; move it onto ``path`` on success.

    A folder written in several steps (a saved model) is either complete at ``path``
    or not there: an interrupted save leaves only a hidden temporary folder, removed here.
    """
    path = Path(path)
    with temp_dir(path) as tmp:
        yield tmp
        if path.exists():  # os.replace cannot overwrite a non-empty folder: move the old one aside
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, old / path.name)
            os.replace(tmp, path)
            shutil.rmtree(old)
        else:
            os.replace(tmp, path)


@contextlib.contextmanager
def temp_dir(path: str | Path) -> Iterator[Path]:
    """Yield a new temporary folder beside ``path`` (``.<name>.<pid>.<random>.tmp``); it is
    removed with its contents when the body ends, however it ends.

    A killed process cannot remove it: :func:`remove_stale_temps` of ``path`` does, later.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=_temp_prefix(path), suffix=".tmp", dir=path.parent))
    _normal_mode(tmp, 0o777)
    try:
        yield tmp
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def remove_stale_temps(path: str | Path) -> list[Path]:
    """Delete the temporary files and folders that a killed writer of ``path`` left beside it.

    :func:`atomic_path`, :func:`atomic_dir` and :func:`temp_dir` remove their temporary file
    or folder on any exception, but not when the process is killed (SIGKILL, power loss); call
    this before writing ``path`` again. Only those whose writing process is gone are removed:
    a live writer's are its own.
    """
    path = Path(path)
    prefix = f".{path.name}."
    temps = sorted(
        {
            *path.parent.glob(f"{glob.escape(prefix)}*.tmp{glob.escape(path.suffix)}"),
            *(p for p in path.parent.glob(f"{glob.escape(prefix)}*.tmp") if p.is_dir()),
        }
    )
    stale = [tmp for tmp in temps if not _writer_alive(tmp, prefix)]
    for tmp in stale:
        if tmp.is_dir() and not tmp.is_symlink():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
    return stale


@contextlib.contextmanager
def _flocked(path: Path, how: int) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:  # the lock goes with the open file: a killed process releases it
        fcntl.flock(fh, how)
        yield


def lock_file(path: str | Path) -> contextlib.AbstractContextManager[None]:
    """Hold an exclusive lock on the file ``path`` (created empty if needed); other
    processes wait for it, and a killed holder releases it."""
    return _flocked(Path(path), fcntl.LOCK_EX)


def locked(folder: str | Path) -> contextlib.AbstractContextManager[None]:
    """Hold an exclusive lock on ``<folder>/.lock``; other processes wait for it.

    Used around short check-and-write steps on a folder that several processes write
    into (a run folder whose folds are trained by several ``train`` commands).
    """
    return lock_file(Path(folder) / ".lock")


def marked_busy(folder: str | Path) -> contextlib.AbstractContextManager[None]:
    """Mark ``folder`` as in use while the body runs (a shared lock on ``<folder>/.busy``:
    any number of processes may hold it, and it ends with the process)."""
    return _flocked(Path(folder) / ".busy", fcntl.LOCK_SH)


def is_busy(folder: str | Path) -> bool:
    """True while another process is inside :func:`marked_busy` for ``folder``."""
    path = Path(folder) / ".busy"
    if not path.exists():
        return False
    with open(path, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
    return False


def write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def write_json(path: str | Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically (numpy scalars and arrays allowed)."""
    write_text(path, json.dumps(obj, indent=2, default=_json_default) + "\n")


def read_json(path: str | Path) -> Any:
    """Read a JSON file."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_with(path: str | Path, writer: Callable[[Path], None]) -> None:
    """Call ``writer(tmp_path)`` and atomically move its output onto ``path``."""
    with atomic_path(path) as tmp:
        writer(tmp)


def write_hashed(path: str | Path, writer: Callable[[Path], None]) -> str:
    """:func:`write_with`, returning the SHA-256 of the bytes ``writer`` wrote (hashed from
    this process's own temporary file, so another process writing ``path`` at the same
    time cannot change the answer)."""
    with atomic_path(path) as tmp:
        writer(tmp)
        return file_sha256(tmp)


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def tree_sha256(*folders: str | Path) -> str:
    """Hex SHA-256 of every file under ``folders``: each one's path inside its folder and its bytes."""
    digest = hashlib.sha256()
    for folder in map(Path, folders):
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(f"{path.relative_to(folder).as_posix()}\0{file_sha256(path)}\0".encode())
        digest.update(b"\1")
    return digest.hexdigest()


def git_commit(cwd: str | Path | None = None) -> str | None:
    """The current git commit (with ``+dirty`` when the tree has changes), or None."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("+dirty" if dirty else "")


def package_versions() -> dict[str, str]:
    """Versions of the packages that shape results (missing ones are skipped)."""
    versions = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def provenance(seed: int | None = None) -> dict[str, Any]:
    """The block saved next to every artifact: when, where, which code, which seed."""
    return {
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "seed": seed,
        "command": mask_command([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "host": platform.node(),
        "versions": package_versions(),
    }
