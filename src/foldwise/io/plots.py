"""PNG figures: matplotlib without a display, saved atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import artifacts


def pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: Path) -> None:
    """Write ``fig`` to ``path`` as a PNG, atomically."""
    artifacts.write_with(path, lambda tmp: fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png"))
