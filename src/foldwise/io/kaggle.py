"""Upload a submission with the official ``kaggle`` CLI, or say exactly how to."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

from ..errors import FoldwiseError


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


def submissions_listing(competition: str) -> str:
    """``kaggle competitions submissions -c <competition> --csv``'s output (your submissions and
    their scores); a one-line error naming the command when the CLI is not set up or fails."""
    command = ["kaggle", "competitions", "submissions", "-c", competition, "--csv"]
    if not kaggle_configured():
        raise FoldwiseError(
            f"the kaggle CLI is not installed or has no credentials: record scores by hand with "
            f"`foldwise lb <submission> <score>`, or set it up and run `{shlex.join(command)}`"
        )
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise FoldwiseError(f"`{shlex.join(command)}` failed: {reason}")
    return done.stdout
