"""Upload a submission with the official ``kaggle`` CLI, or say exactly how to."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path


def kaggle_command(csv: str | Path, competition: str, message: str) -> list[str]:
    """The ``kaggle competitions submit`` command line for a file."""
    return ["kaggle", "competitions", "submit", "-c", competition, "-f", str(csv), "-m", message]


def download_command(competition: str, folder: str | Path) -> list[str]:
    """The ``kaggle competitions download`` command line that puts ``<competition>.zip`` in ``folder``."""
    return ["kaggle", "competitions", "download", "-c", competition, "-p", str(folder)]


def kaggle_configured(environ: dict[str, str] | None = None, home: Path | None = None) -> bool:
    """Whether the kaggle CLI is on PATH and has credentials (env vars or ~/.kaggle)."""
    env = os.environ if environ is None else environ
    home = Path.home() if home is None else home
    if shutil.which("kaggle") is None:
        return False
    if env.get("KAGGLE_API_TOKEN") or (env.get("KAGGLE_USERNAME") and env.get("KAGGLE_KEY")):
        return True
    config_dir = Path(env.get("KAGGLE_CONFIG_DIR", home / ".kaggle"))
    return (config_dir / "kaggle.json").exists() or (config_dir / "access_token").exists()


def submit(csv: str | Path, competition: str, message: str, dry_run: bool = False) -> tuple[bool, str]:
    """Run the upload when possible; otherwise return the command to run by hand.

    Returns
    -------
    (uploaded, the command line as a shell string)
    """
    command = kaggle_command(csv, competition, message)
    line = shlex.join(command)
    if dry_run or not kaggle_configured():
        return False, line
    subprocess.run(command, check=True)
    return True, line
