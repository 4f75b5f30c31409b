"""A competition's download (a zip, maybe holding zips such as ``train.csv.zip``) unpacked into its folder."""

from __future__ import annotations

import json
import shutil
import unicodedata
import zipfile
import zlib
from collections import Counter
from pathlib import Path

from ..errors import FoldwiseError
from ..io import artifacts

#: what a sample submission's file name contains
SAMPLE_WORDS = ("sample", "submission")

#: ``<folder>/.unpacked.json``: the files the last unpacks wrote, which ``unpack(replace=True)`` removes
MANIFEST = ".unpacked.json"

#: characters refused in a member's name: they end up in data configs and generated scripts
QUOTES = "\"'`\\"

#: what unreadable zip data raises (a bad CRC, a truncated member, encryption, an unknown compression)
UNREADABLE = (zipfile.BadZipFile, EOFError, zlib.error, RuntimeError, NotImplementedError)


def unpack(archive: Path, folder: Path, replace: bool = False) -> list[str]:
    """Extract ``archive`` (and the zips inside it) into ``folder``; the names written, sorted.

    Nothing is written unless the archive holds a sample submission (a file whose name says
    ``sample`` or ``submission``) and reads whole, with plain, distinct member names: an archive
    that is refused leaves ``folder`` as it was. Each file is moved into place whole, so an
    interrupted unpack never leaves half a file; what a killed unpack left is removed by the next.
    ``replace``: the files that earlier unpacks wrote into ``folder`` go first, so that only this
    archive's files (and any put there by other means) are left.
    """
    if not zipfile.is_zipfile(archive):
        raise FoldwiseError(f"{archive}: not a zip archive")
    staging_beside = folder / "unpack"
    artifacts.remove_stale_temps(staging_beside)
    with artifacts.temp_dir(staging_beside) as staging:
        _extract(archive, staging, folder)
        files = sorted(p for p in staging.rglob("*") if p.is_file())
        names = [str(p.relative_to(staging)) for p in files]
        if not any(word in Path(n).name.lower() for n in names for word in SAMPLE_WORDS):
            raise FoldwiseError(
                f"{archive}: no sample_submission file in the archive ({', '.join(names) or 'empty'}); "
                "foldwise reads the submission's ids and columns from it"
            )
        manifest = folder / MANIFEST
        earlier = _unpacked_before(manifest)
        for name in {*earlier, *names, MANIFEST}:  # what a killed unpack was writing
            artifacts.remove_stale_temps(folder / name)
        artifacts.write_json(manifest, sorted({*earlier, *names}))  # names every file that may be there meanwhile
        if replace:
            for name in sorted(set(earlier) - set(names)):
                _remove(folder, name)
        for path, name in zip(files, names):
            with artifacts.atomic_path(folder / name) as target:
                shutil.move(path, target)
        if replace:
            artifacts.write_json(manifest, names)
    return names


def _unpacked_before(manifest: Path) -> list[str]:
    """The names in ``manifest`` (none when it is not there)."""
    if not manifest.exists():
        return []
    try:
        names = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        names = exc
    if not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        raise FoldwiseError(
            f"{manifest}: not the list of unpacked file names foldwise writes ({names}); delete it and unpack again"
        )
    return names


def _remove(folder: Path, name: str) -> None:
    """Delete ``folder/name`` (an earlier unpack's file) and the folders it leaves empty."""
    path = folder / name
    if not path.resolve().is_relative_to(folder.resolve()) or path == folder:
        raise FoldwiseError(f"{folder / MANIFEST}: names {name!r}, outside {folder}/; delete the file and unpack again")
    path.unlink(missing_ok=True)
    for parent in path.parents:
        if parent == folder or any(parent.iterdir()):
            break
        parent.rmdir()


def _extract(archive: Path, into: Path, folder: Path) -> None:
    """Extract every member, then each extracted ``*.zip`` in its place (Kaggle zips CSVs one by one).

    Errors name ``archive`` and, for a zip inside it, that zip's path in the archive.
    """
    _extract_members(archive, into, into, archive, folder)
    while inner := next((p for p in sorted(into.rglob("*.zip")) if zipfile.is_zipfile(p)), None):
        _extract_members(inner, inner.parent, into, f"{archive}: {inner.relative_to(into)}", folder)
        inner.unlink()


def _extract_members(archive: Path, into: Path, root: Path, origin: str | Path, folder: Path) -> None:
    """Extract ``archive`` into ``into`` (inside ``root``, the staging folder), after :func:`_check_members`."""
    try:
        with zipfile.ZipFile(archive) as zf:
            _check_members(zf, into, root, origin)
            zf.extractall(into)
    except UNREADABLE as exc:
        raise FoldwiseError(
            f"{origin}: cannot be unpacked ({type(exc).__name__}: {exc}); download it again, "
            f"or unzip it into {folder}/ yourself"
        ) from exc


def _check_members(zf: zipfile.ZipFile, into: Path, root: Path, origin: str | Path) -> None:
    """Refuse a member whose name is unsafe, escapes ``into``, repeats, or names a file already extracted."""
    files = [m.filename for m in zf.infolist() if not m.is_dir()]
    for name in (m.filename for m in zf.infolist()):
        if any(c in QUOTES or unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
            raise FoldwiseError(
                f"{origin}: member {name!r} has a quote, backslash or control character in its "
                "name; rename it (file names go into the data config and generated scripts)"
            )
        if not (into / name).resolve().is_relative_to(into.resolve()):
            raise FoldwiseError(f"{origin}: member {name!r} would be written outside the folder")
    for name, count in Counter(files).items():
        if count > 1:
            raise FoldwiseError(f"{origin}: member {name!r} is in the archive {count} times; keep one")
    for name in files:
        if (into / name).exists():
            raise FoldwiseError(
                f"{origin}: holds {name!r}, which would replace the archive's "
                f"{str((into / name).relative_to(root))!r}; remove one of the two"
            )
