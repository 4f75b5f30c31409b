"""A competition's download (a zip, maybe holding zips such as ``train.csv.zip``) unpacked into its folder."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path

from ..errors import FoldwiseError
from ..io import artifacts

#: what a sample submission's file name contains
SAMPLE_WORDS = ("sample", "submission")


def unpack(archive: Path, folder: Path) -> list[str]:
    """Extract ``archive`` (and the zips inside it) into ``folder``; the names written, sorted.

    Nothing is written unless the archive holds a sample submission (a file whose name says
    ``sample`` or ``submission``): an archive that is not a competition's leaves ``folder`` as it
    was. Each file is moved into place whole, so an interrupted unpack never leaves half a file.
    """
    if not zipfile.is_zipfile(archive):
        raise FoldwiseError(f"{archive}: not a zip archive")
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".unpack.", dir=folder) as tmp:
        staging = Path(tmp)
        _extract(archive, staging)
        files = sorted(p for p in staging.rglob("*") if p.is_file())
        names = [str(p.relative_to(staging)) for p in files]
        if not any(word in Path(n).name.lower() for n in names for word in SAMPLE_WORDS):
            raise FoldwiseError(f"{archive}: no sample_submission file in the archive ({', '.join(names) or 'empty'}); "
                                "foldwise reads the submission's ids and columns from it")
        for path, name in zip(files, names):
            with artifacts.atomic_path(folder / name) as target:
                shutil.move(path, target)
    return names


def _extract(archive: Path, into: Path) -> None:
    """Extract every member, then each extracted ``*.zip`` in its place (Kaggle zips CSVs one by one)."""
    _extract_members(archive, into)
    while inner := next((p for p in sorted(into.rglob("*.zip")) if zipfile.is_zipfile(p)), None):
        _extract_members(inner, inner.parent)
        inner.unlink()


def _extract_members(archive: Path, into: Path) -> None:
    with zipfile.ZipFile(archive) as zf:
        for member in zf.infolist():
            if not (into / member.filename).resolve().is_relative_to(into.resolve()):
                raise FoldwiseError(f"{archive}: member {member.filename!r} would be written outside the folder")
        zf.extractall(into)
