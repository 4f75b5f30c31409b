"""Every task kind of ``TASKS`` plays every role of :mod:`foldwise.tasks.roles`, and every task's
head is a :class:`foldwise.train.heads.Head`: each protocol member exists on the object, as a
method whose parameters a caller of the protocol can pass (same names, in order; defaults
where the protocol has them), or as an attribute or property (the type checker, ``make
typecheck``, holds the types to the protocols)."""

from __future__ import annotations

import inspect
import re
from typing import Any, Protocol

import numpy as np
import pandas as pd
import pytest

from foldwise.config import DataConfig
from foldwise.tasks import TASKS, Task, task_for
from foldwise.tasks.roles import Decisions, Folds, Named, PredictionFiles, Presentation, Submissions
from foldwise.train.backbone import NeuralConfig
from foldwise.train.heads import Head

ROLES = [Named, Folds, PredictionFiles, Decisions, Submissions, Presentation]

#: data.task -> (data config, label names, sample submission) of a tiny competition of that kind
KINDS = {
    "multilabel": (
        DataConfig(task="multilabel"),
        ["sports", "tech"],
        pd.DataFrame({"id": ["a"], "sports": ["0"], "tech": ["0"]}),
    ),
    "multiclass": (
        DataConfig(task="multiclass", metric="accuracy"),
        ["sports", "tech"],
        pd.DataFrame({"id": ["a"], "label": ["sports"]}),
    ),
    "binary": (DataConfig(task="binary", metric="f1"), ["target"], pd.DataFrame({"id": ["a"], "target": ["0"]})),
    "span": (
        DataConfig(task="span", metric="squad", question_column="q", context_column="c", answer_column="answer"),
        ["answer"],
        pd.DataFrame({"id": ["a"], "answer": ["x"]}),
    ),
    "generation": (
        DataConfig(task="generation", metric="rouge", target_column="summary", text_template="{doc}"),
        ["summary"],
        pd.DataFrame({"id": ["a"], "summary": ["x"]}),
    ),
    "regression": (
        DataConfig(task="regression", metric="rmse"),
        ["score"],
        pd.DataFrame({"id": ["a"], "score": [0.5]}),
    ),
    "ordinal": (DataConfig(task="ordinal", metric="qwk"), ["score"], pd.DataFrame({"id": ["a"], "score": [3]})),
}


def _task(kind: str) -> Any:
    cfg, names, sample = KINDS[kind]
    return task_for(cfg, names, sample)


def members(protocol: type) -> dict[str, Any]:
    """Name -> the protocol's declaration (a function, a property, or None for an attribute) of
    every member of ``protocol`` and of the protocols it extends."""
    found: dict[str, Any] = {}
    for cls in reversed(protocol.__mro__):
        if cls in (object, Protocol) or not getattr(cls, "_is_protocol", False):
            continue
        found.update(dict.fromkeys(vars(cls).get("__annotations__", {})))
        found.update(
            {
                name: value
                for name, value in vars(cls).items()
                if not name.startswith("_") and (inspect.isfunction(value) or isinstance(value, property))
            }
        )
    return found


def problems(obj: Any, protocol: type) -> list[str]:
    """How ``obj`` falls short of ``protocol``: missing members, and methods whose parameters differ."""
    out = []
    for name, declared in members(protocol).items():
        if not hasattr(obj, name):
            out.append(f"{name}: missing")
        elif inspect.isfunction(declared):
            out += [f"{name}: {p}" for p in _signature_problems(declared, getattr(obj, name))]
        elif isinstance(declared, property) and callable(getattr(obj, name)):
            out.append(f"{name}: a method, the protocol reads a property")
    return out


def _signature_problems(declared: Any, actual: Any) -> list[str]:
    """The protocol method's parameters (after self) against the object's bound method: the same
    names in the same order, a default wherever the protocol has one; any further parameters of
    the object's method need defaults."""
    if not callable(actual):
        return ["not callable"]
    wanted = list(inspect.signature(declared).parameters.values())[1:]
    given = list(inspect.signature(actual).parameters.values())
    out = []
    if [p.name for p in given[: len(wanted)]] != [p.name for p in wanted]:
        out.append(f"parameters {[p.name for p in given]}, the protocol's {[p.name for p in wanted]}")
    out += [
        f"'{p.name}' has no default"
        for p, w in zip(given, wanted)
        if w.default is not inspect.Parameter.empty and p.default is inspect.Parameter.empty
    ]
    out += [
        f"extra parameter '{p.name}' has no default"
        for p in given[len(wanted) :]
        if p.default is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    return out


def test_every_task_kind_has_a_tiny_competition_here():
    assert set(KINDS) == set(TASKS)


def test_task_is_every_role_and_holds_what_the_stages_ask_and_nothing_more():
    """The members of Task are the names the stages, the CLI, ``task_for`` and the results
    notebook ask of a task: a role member nothing asks is dead, a name asked outside them untyped."""
    from conftest import REPO

    assert all(role in Task.__mro__ for role in ROLES)
    sources = [
        *sorted((REPO / "src/foldwise/stages").glob("*.py")),
        REPO / "src/foldwise/cli.py",
        REPO / "src/foldwise/tasks/__init__.py",
        REPO / "notebooks/results.ipynb",
    ]
    text = "\n".join(path.read_text(encoding="utf-8") for path in sources)
    asked = set(re.findall(r"\btask\.(\w+)", text)) | set(re.findall(r"_task\([^()]*\)\.(\w+)", text))
    assert set(members(Task)) == asked


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role.__name__)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_task_plays_every_role(kind, role):
    assert problems(_task(kind), role) == []


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_task_head_is_a_head(kind):
    head = _task(kind).head(NeuralConfig(max_length=256))
    assert problems(head, Head) == []


class _Lacking:
    """Half a task: a prediction reader whose parameter is named otherwise, a head without its own."""

    kind, label_names = "multilabel", ["a"]

    def truth(self, data):
        return None

    def take(self, values, indices):
        return values[indices]

    def concat(self, parts, axis):
        return np.concatenate(parts, axis)

    @property
    def head(self):
        return None


def test_a_task_that_lacks_a_member_or_names_a_parameter_otherwise_is_told():
    found = problems(_Lacking(), Folds)
    assert "metric: missing" in found and "stratify_on: missing" in found
    assert "take: parameters ['values', 'indices'], the protocol's ['values', 'rows']" in found
    assert "concat: extra parameter 'axis' has no default" in found
    assert "head: not callable" in found
