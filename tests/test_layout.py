"""The stage layout: each module is imported by its path under its floor (``foldwise.stages.cv``);
no one-floor alias (``foldwise.cv``) imports."""

import importlib
import importlib.util
import sys
from pathlib import Path

import pytest

import foldwise

PACKAGE = Path(foldwise.__file__).parent
#: ``foldwise.<module>`` for every module inside a floor (``tasks/metrics.py`` -> ``foldwise.metrics``)
ONE_FLOOR_NAMES = sorted({f"foldwise.{p.stem}" for p in PACKAGE.glob("*/*.py") if p.stem != "__init__"}
                         - {f"foldwise.{p.stem}" for p in PACKAGE.glob("*.py")})


def test_the_floors_hold_modules():
    assert {"foldwise.metrics", "foldwise.cv", "foldwise.artifacts"} <= set(ONE_FLOOR_NAMES)


@pytest.mark.parametrize("name", ONE_FLOOR_NAMES)
def test_a_one_floor_name_does_not_import(name):
    assert importlib.util.find_spec(name) is None
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module(name)


def test_the_package_installs_no_import_hook():
    assert not [f for f in sys.meta_path if type(f).__module__.startswith("foldwise")]


def test_public_imports_of_readme_and_notebook_work():
    from foldwise.data import CompetitionData, load_competition, read_csv  # noqa: F401
    from foldwise.stages.cv import run_cv  # noqa: F401
    from foldwise.tasks.metrics import METRICS  # noqa: F401


def _public_definitions() -> list[tuple[str, str]]:
    """(module file, name) of every top-level public function and class of the package."""
    import ast

    return [(str(path.relative_to(PACKAGE)), node.name) for path in sorted(PACKAGE.rglob("*.py"))
            for node in ast.parse(path.read_text(encoding="utf-8")).body
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_")]


def test_every_public_function_is_used_outside_the_tests():
    """A public function only its own definition names (or only a test calls) is dead code."""
    import re
    import subprocess
    from collections import Counter

    from conftest import REPO

    tracked = subprocess.run(["git", "ls-files", "src", "bench", "notebooks", "configs", "Makefile", "README.md"],
                             cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    corpus = "\n".join((REPO / f).read_text(encoding="utf-8", errors="ignore") for f in tracked
                       if (REPO / f).is_file())
    words = Counter(re.findall(r"\w+", corpus))
    unused = [f"{module}: {name}" for module, name in _public_definitions() if words[name] < 2]
    assert unused == []
