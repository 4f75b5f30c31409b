"""The stage layout: old one-floor module names still import, as the moved modules."""

import importlib

import pytest

from foldwise._moved import MOVED


@pytest.mark.parametrize("old", sorted(MOVED))
def test_an_old_module_name_is_the_moved_module(old):
    moved = importlib.import_module(MOVED[old])
    assert importlib.import_module(old) is moved
    assert moved.__spec__.name == MOVED[old]  # the alias does not rename the module


def test_public_imports_of_readme_and_notebook_keep_working():
    from foldwise.cv import run_cv
    from foldwise.data import CompetitionData, load_competition, read_csv  # noqa: F401
    from foldwise.metrics import TITLES  # noqa: F401
    from foldwise.stages.cv import run_cv as moved

    assert run_cv is moved
