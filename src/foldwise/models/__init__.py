"""Model kinds behind one small interface (see :mod:`foldwise.models.base`).

Each kind registers a config dataclass and a model class; they are imported lazily so
the classical model never imports torch.
"""

from __future__ import annotations

import importlib
from typing import Any

from ..errors import FoldwiseError
from .base import TextModel

#: kind -> (module, config class, model class)
MODEL_KINDS: dict[str, tuple[str, str, str]] = {
    "tfidf": ("foldwise.models.tfidf", "TfidfConfig", "TfidfModel"),
    "transformer": ("foldwise.models.transformer", "TransformerConfig", "TransformerModel"),
    "llm": ("foldwise.models.llm", "LlmConfig", "LlmModel"),
    "overlap": ("foldwise.models.overlap", "OverlapConfig", "OverlapModel"),
    "seq2seq": ("foldwise.models.seq2seq", "Seq2SeqConfig", "Seq2SeqModel"),
    "lead": ("foldwise.models.lead", "LeadConfig", "LeadModel"),
}


def _kind_entry(kind: str, source: str) -> tuple[Any, Any]:
    if kind not in MODEL_KINDS:
        raise FoldwiseError(f"{source}: unknown model.kind '{kind}' (known: {', '.join(sorted(MODEL_KINDS))})")
    module_name, config_name, model_name = MODEL_KINDS[kind]
    module = importlib.import_module(module_name)
    return getattr(module, config_name), getattr(module, model_name)


def model_config_class(kind: str, source: str = "config") -> type:
    """The config dataclass of a model kind."""
    return _kind_entry(kind, source)[0]


def model_class(kind: str) -> type[TextModel]:
    """The model class of a kind."""
    return _kind_entry(kind, "config")[1]


def build_model(
    config: Any,
    task: str,
    n_labels: int,
    seed: int,
    workdir: Any = None,
    resume: bool = False,
    fingerprint: str | None = None,
    head: Any = None,
    single_label: bool = False,
    numeric: bool = False,
) -> TextModel:
    """A fresh, unfitted model for one fold (``fingerprint``, ``head``, ``single_label``, ``numeric``: see
    :class:`TextModel`)."""
    return model_class(config.kind)(
        config,
        task=task,
        n_labels=n_labels,
        seed=seed,
        workdir=workdir,
        resume=resume,
        fingerprint=fingerprint,
        head=head,
        single_label=single_label,
        numeric=numeric,
    )


__all__ = ["MODEL_KINDS", "TextModel", "build_model", "model_class", "model_config_class"]
