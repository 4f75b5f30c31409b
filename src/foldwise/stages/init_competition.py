"""``foldwise init <slug>``: a competition's files in ``data/<slug>/`` and a data config guessed from them.

The files come from what is already in ``data/<slug>/`` (the CSVs, or the zip the kaggle
CLI downloads), an archive given with ``--archive``, or ``kaggle competitions download``
when the CLI has credentials; otherwise the error says which command to run and where
the files go. The guessed ``configs/data/<slug>.yaml`` (:mod:`foldwise.stages.guess`) is
then loaded like any data config, so a guess that does not read the files is said at once.
"""

from __future__ import annotations

import shlex
import subprocess
from datetime import date
from pathlib import Path

from .. import progress
from ..config import CONFIGS_DIR, DataConfig, build
from ..data.archive import unpack
from ..data.competition import load_competition
from ..errors import FoldwiseError
from ..io import artifacts, paths
from ..io.kaggle import download_command, kaggle_configured
from .guess import ConfigGuess, competition_files, guess_config, render_yaml


def init_competition(
    slug: str, archive: str | Path | None = None, force: bool = False, configs_dir: Path = CONFIGS_DIR
) -> tuple[Path, ConfigGuess]:
    """Get ``slug``'s files into ``data/<slug>/`` and write ``configs/data/<slug>.yaml``.

    Returns the config path and the guesses (each with its reason). Refuses to overwrite an
    existing config unless ``force``. Raises :class:`FoldwiseError` when the files cannot be
    had (naming the download command), an archive has no sample submission, or the guessed
    config does not load the files (the config is then written all the same, for editing).
    """
    paths.check_name(slug, "competition slug")
    folder = Path("data") / slug  # the data config's default dir
    config_path = configs_dir / "data" / f"{slug}.yaml"
    if config_path.exists() and not force:
        raise FoldwiseError(f"{config_path}: already there; edit it, or `foldwise init {slug} --force` to guess again")
    _get_files(slug, folder, Path(archive) if archive else None)
    guess = guess_config(folder, slug)
    header = [
        f"{config_path}: written by `foldwise init {slug}` on {date.today()} from {folder}/.",
        "Each line says why; lines marked 'unsure' are guesses: check them against the competition's",
        "Overview and Evaluation pages. `foldwise config --keys` lists every data key.",
    ]
    problem = _loads(guess)
    if problem:
        header.append(f"NOT LOADING as written: {problem}")
    artifacts.write_text(config_path, render_yaml(guess, header))
    if problem:
        raise FoldwiseError(f"{config_path}: written, but the guessed config does not read the files: {problem}")
    return config_path, guess


def _get_files(slug: str, folder: Path, archive: Path | None) -> None:
    """The competition's CSVs in ``folder``: there already, unpacked from an archive, or downloaded."""
    if archive is not None:
        if not archive.is_file():
            raise FoldwiseError(f"{archive}: archive not found")
        progress.write(f"{folder}: unpacking {archive}: {', '.join(unpack(archive, folder, replace=True))}")
        return
    if _has_files(folder):
        progress.write(f"{folder}: the competition files are there")
        return
    zips = sorted(folder.glob("*.zip")) if folder.is_dir() else []
    if not zips:
        command = download_command(slug, folder)
        if not kaggle_configured():
            raise FoldwiseError(
                f"no files for '{slug}' and no kaggle credentials: run `{shlex.join(command)}` (the kaggle CLI, "
                "with ~/.kaggle/kaggle.json or KAGGLE_USERNAME/KAGGLE_KEY, after accepting the competition's "
                f"rules), or put its zip or train/test/sample_submission files in {folder}/; then `foldwise init "
                f"{slug}` again"
            )
        progress.write(f"$ {shlex.join(command)}")
        folder.mkdir(parents=True, exist_ok=True)
        if subprocess.run(command).returncode != 0:
            raise FoldwiseError(
                f"`{shlex.join(command)}` failed (see its message above); have the competition's "
                "rules been accepted on its page?"
            )
        zips = sorted(folder.glob("*.zip"))
        if not zips:
            raise FoldwiseError(f"`{shlex.join(command)}` left no zip in {folder}/")
    for zipped in zips:
        progress.write(f"{folder}: unpacking {zipped.name}: {', '.join(unpack(zipped, folder))}")


def _has_files(folder: Path) -> bool:
    try:
        competition_files(folder)
    except FoldwiseError:
        return False
    return folder.is_dir()


def _loads(guess: ConfigGuess) -> str | None:
    """None when the guessed config reads the files (as ``foldwise folds`` would), else why not."""
    mapping = {k: v for k, v in guess.mapping().items() if k != "kaggle_competition"}
    try:
        data = load_competition(build(DataConfig, mapping, "guessed config"))
    except FoldwiseError as exc:
        return str(exc)
    progress.write(f"loads: {len(data.train_ids):,} train rows, {len(data.test_ids):,} test rows; {data.task_line}")
    return None
