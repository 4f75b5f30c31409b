"""The stage layout: each module is imported by its path under its floor (``foldwise.stages.cv``);
no one-floor alias (``foldwise.cv``) imports. The documentation's layout: a short README that
links every docs/ page, and relative links that resolve."""

import importlib
import importlib.util
import re
import sys
from collections import Counter
from pathlib import Path

import pytest
from conftest import REPO, doc_pages, markdown_heading, markdown_lines

import foldwise

PACKAGE = Path(foldwise.__file__).parent
#: ``foldwise.<module>`` for every module inside a floor (``tasks/metrics.py`` -> ``foldwise.metrics``)
ONE_FLOOR_NAMES = sorted(
    {f"foldwise.{p.stem}" for p in PACKAGE.glob("*/*.py") if p.stem != "__init__"}
    - {f"foldwise.{p.stem}" for p in PACKAGE.glob("*.py")}
)


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
    from foldwise.data import CompetitionData, load_competition  # noqa: F401
    from foldwise.stages.cv import run_cv  # noqa: F401
    from foldwise.tasks.metrics import METRICS  # noqa: F401


def _public_definitions() -> list[tuple[str, str]]:
    """(module file, name) of every top-level public function and class of the package."""
    import ast

    return [
        (str(path.relative_to(PACKAGE)), node.name)
        for path in sorted(PACKAGE.rglob("*.py"))
        for node in ast.parse(path.read_text(encoding="utf-8")).body
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_")
    ]


def test_every_public_function_is_used_outside_the_tests():
    """A public function only its own definition names (or only a test calls) is dead code."""
    import re
    import subprocess
    from collections import Counter

    from conftest import REPO

    tracked = subprocess.run(
        ["git", "ls-files", "src", "bench", "notebooks", "configs", "Makefile", "README.md", "docs"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    corpus = "\n".join((REPO / f).read_text(encoding="utf-8", errors="ignore") for f in tracked if (REPO / f).is_file())
    words = Counter(re.findall(r"\w+", corpus))
    unused = [f"{module}: {name}" for module, name in _public_definitions() if words[name] < 2]
    assert unused == []


#: the floors, lowest first: a module imports only from its own floor or below (function-level
#: imports included); modules of one floor import each other freely
FLOORS = [
    {"errors", "redact", "progress"},
    {"io"},
    {"config"},
    {"data"},
    {"train"},
    {"tasks"},
    {"models"},
    {"experiment"},
    {"stages"},
    {"cli"},
]


def _floor(module: str) -> int:
    """The floor of ``foldwise.<top>...``: the index in :data:`FLOORS` of its top-level name."""
    top = module.split(".")[1] if "." in module else module
    return next(i for i, names in enumerate(FLOORS) if top in names)


def _imports(source: str, module: str) -> list[tuple[str, int]]:
    """(absolute foldwise module, line) of every import in ``source`` (the text of ``module``,
    ``foldwise.x.y``; a package's ``__init__`` named ``foldwise.x.__init__``), at any depth."""
    import ast

    parts = module.split(".")
    package = parts[:-1]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            targets = [f"{target}.{a.name}" for a in node.names] if target == "foldwise" else [target]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            continue
        found += [(t, node.lineno) for t in targets if t.startswith("foldwise.")]
    return found


def _upward_imports(source: str, module: str) -> list[str]:
    return [
        f"{module}:{line} imports {target}"
        for target, line in _imports(source, module)
        if _floor(target) > _floor(module)
    ]


def test_imports_point_down_the_floors():
    """io at the ground floor, stages on top: no import (module- or function-level) reaches a higher floor."""
    up = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(["foldwise", *path.relative_to(PACKAGE).with_suffix("").parts])
        if module != "foldwise.__init__":
            up += _upward_imports(path.read_text(encoding="utf-8"), module)
    assert up == []


def test_every_module_sits_on_a_floor():
    tops = {
        p.name.removesuffix(".py")
        for p in PACKAGE.iterdir()
        if p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists())
    } - {"__init__"}
    assert tops == set().union(*FLOORS)


def test_the_floor_check_sees_function_level_and_relative_imports():
    source = "from . import artifacts\n\ndef f():\n    from ..tasks.classification import report\n"
    assert _upward_imports(source, "foldwise.io.plots") == ["foldwise.io.plots:4 imports foldwise.tasks.classification"]
    assert _upward_imports("from ...io import paths\n", "foldwise.tasks.span.task") == []
    assert _upward_imports("from .. import models\n", "foldwise.train.__init__") == [
        "foldwise.train.__init__:1 imports foldwise.models"
    ]


#: a comparison with a task kind's name: ``task == "span"``, ``kind not in ("multilabel", ...)``
KIND_COMPARISON = r"""(==|!=|in) *[\(\[]?['"](multilabel|multiclass|binary|span|generation)['"]"""


def _kind_comparisons(source: str, where: str) -> list[str]:
    return [
        f"{where}:{n}: {line.strip()}"
        for n, line in enumerate(source.splitlines(), 1)
        if re.search(KIND_COMPARISON, line)
    ]


def test_only_the_task_packages_compare_task_kinds():
    """A task kind owns every decision about it (tasks/): the rest of the kit asks the task, its head or a
    task registry, so that a new kind is an addition there, not edits across the kit."""
    outside = [
        path.relative_to(PACKAGE)
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.relative_to(PACKAGE).parts[0] != "tasks"
    ]
    compared = [
        hit for path in outside for hit in _kind_comparisons((PACKAGE / path).read_text(encoding="utf-8"), str(path))
    ]
    assert compared == []


def test_the_kind_check_sees_comparisons_and_memberships():
    source = 'if task == "span":\n    pass\nok = kind not in ("multilabel", "binary")\nname = "binary"\n'
    assert _kind_comparisons(source, "x.py") == [
        'x.py:1: if task == "span":',
        'x.py:3: ok = kind not in ("multilabel", "binary")',
    ]


README_MAX_LINES = 300
#: a markdown link or image: [text](target); the text may span lines
MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _github_anchor(title: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation but ``-`` and ``_`` dropped, spaces as ``-``."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    """Every heading anchor of a markdown page (a repeated heading gets ``-1``, ``-2``, ... as on GitHub)."""
    seen, anchors = Counter(), set()
    for line, prose in markdown_lines(page):
        heading = markdown_heading(line) if prose else None
        if heading:
            anchor = _github_anchor(heading[1])
            anchors.add(anchor if not seen[anchor] else f"{anchor}-{seen[anchor]}")
            seen[anchor] += 1
    return anchors


def _relative_links(page: Path) -> list[str]:
    """The targets of a page's links that point into the repository, outside code blocks and inline code."""
    prose = re.sub(r"`[^`]*`", "", "".join(line for line, is_prose in markdown_lines(page) if is_prose))
    return [link for link in MARKDOWN_LINK.findall(prose) if not re.match(r"[a-z][a-z0-9+.-]*:", link)]


def _target(page: Path, link: str) -> tuple[Path, str]:
    """(file, anchor) a relative link of ``page`` points at."""
    path, _, anchor = link.partition("#")
    return ((page.parent / path).resolve() if path else page), anchor


def test_readme_stays_short():
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; move detail to a docs/ page"


def test_every_docs_page_is_reachable_from_the_readme():
    reached, todo = set(), [REPO / "README.md"]
    while todo:
        page = todo.pop()
        if page not in reached:
            reached.add(page)
            todo += [
                file
                for file, _ in (_target(page, link) for link in _relative_links(page))
                if file.suffix == ".md" and file.is_file()
            ]
    pages = set(doc_pages()[1:])
    assert len(pages) >= 10
    assert sorted(str(p.relative_to(REPO)) for p in pages - reached) == []


def test_every_relative_link_of_the_docs_resolves():
    broken, checked = [], 0
    for page in doc_pages():
        for link in _relative_links(page):
            file, anchor = _target(page, link)
            checked += 1
            if REPO not in file.parents or not file.exists():
                broken.append(f"{page.relative_to(REPO)}: {link} (no such file in the repository)")
            elif anchor and file.suffix == ".md" and anchor not in _anchors(file):
                broken.append(f"{page.relative_to(REPO)}: {link} (no heading with that anchor)")
    assert checked >= 50 and broken == []
