"""Reading the competition's CSV files: every column as text, one-line errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import FoldwiseError


def read_csv(path: Path, sep: str = ",", **options: Any) -> pd.DataFrame:
    """Read a competition CSV with every column as text (ids keep leading zeros).

    ``options`` go to :func:`pandas.read_csv` (e.g. ``header=None, names=[...]``).
    """
    if not path.is_file():
        raise FoldwiseError(f"{path}: file not found")
    try:
        if "header" not in options and "names" not in options:
            _check_unique_header(path, sep, options)
        return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, na_values=[""], **options)
    except UnicodeDecodeError as exc:
        raise FoldwiseError(
            f"{path}: cannot parse CSV: not {options.get('encoding') or 'UTF-8'} text "
            f"({exc.reason} at byte {exc.start}); set data.encoding (e.g. latin-1)"
        ) from None
    except LookupError:
        raise FoldwiseError(f"{path}: unknown encoding {options.get('encoding')!r} (data.encoding)") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise FoldwiseError(f"{path}: cannot parse CSV ({str(exc).splitlines()[0]})") from None


def _check_unique_header(path: Path, sep: str, options: dict[str, Any]) -> None:
    """Refuse a header naming a column twice: pandas would rename the second 'x' to 'x.1'
    and every later message (or a submission's header) would carry the made-up name."""
    header = (
        pd.read_csv(path, sep=sep, header=None, nrows=1, dtype=str, keep_default_na=False, **options).iloc[0].tolist()
    )
    seen: dict[str, int] = {}
    for position, name in enumerate(header, start=1):
        if name in seen:
            raise FoldwiseError(
                f"{path}: column '{name}' appears twice in the header (columns {seen[name]} "
                f"and {position}); rename or remove one"
            )
        seen[name] = position
