"""Output layers over a model's hidden states, and the head contract the loop trains through.

A *head* (built by the task: :meth:`foldwise.tasks.Task.head`) says what a neural model
outputs and learns: it builds the output module over an encoder, the loss (bound to the
fold's training targets), how rows become tokenised sequences with their targets, how
the sequences' outputs become the task's predictions, and the validation scores. The
module returns ``{"loss", "logits"}`` like a Hugging Face model, so the loop never asks
which task it trains; nor do the backbones: a head says whether it is the model's own
``language_model`` head (generation) or an output layer they build (``n_outputs``), and
``saved_kind``, what a saved model folder's ``head.json`` records as its kind (None: none).
:class:`Head` is what the loop and the backbones call. Each task kind's head lives in its package
(:mod:`foldwise.tasks.classification.head`, :mod:`foldwise.tasks.span.head`,
:mod:`foldwise.tasks.generation.head`); the pieces they share live here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import numpy as np
import torch
from torch import nn

from .batching import TokenizedRows

#: a head's predictions (the task's), the outputs it gathers from the module, and its sequences
P = TypeVar("P")
Out = TypeVar("Out")
S = TypeVar("S", bound=TokenizedRows)
V = TypeVar("V")


class Head(Protocol[P, Out, S]):
    """What the training loop and the backbones call on a task's head.

    ``P`` is the task's predictions (classification: (n, L) probabilities); ``Out`` what the
    head gathers from the module's raw outputs over all sequences ((n, L) logits, each
    window's token logits, each row's generated token ids); ``S`` its tokenised sequences
    (:class:`~foldwise.train.batching.TokenizedRows`, or a subclass with what decoding needs).

    Attributes
    ----------
    n_outputs : the logits per row a backbone's classification model is built with (0: none).
    language_model : the backbone's model keeps its own language-model head (generation),
        rather than getting an output layer of ``n_outputs``.
    saved_kind : what a saved model folder's ``head.json`` records as its kind (None: none).
    """

    n_outputs: int

    @property
    def language_model(self) -> bool: ...

    @property
    def saved_kind(self) -> str | None: ...

    def module(self, base: nn.Module, pooling: str, dropout: float) -> nn.Module:
        """The loop's module over the backbone's pretrained ``base``: ``module(**batch)``
        returns ``{"loss", "logits"}``."""
        ...

    def loss(self, targets: Any) -> Callable[..., torch.Tensor] | None:
        """The loss the module owns, bound to the fold's training ``targets`` (None: the
        model computes its own)."""
        ...

    def infer(self, module: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """A batch's raw outputs at inference: logits, or generated token ids."""
        ...

    def encode(self, backbone: Any, tokenizer: Any, texts: np.ndarray, targets: Any = None) -> S:
        """Rows as tokenised sequences, each with its training targets when ``targets`` come."""
        ...

    def collect(self, raw: torch.Tensor, batch: dict[str, torch.Tensor]) -> Out:
        """One batch's :meth:`infer` outputs, kept on the CPU."""
        ...

    def outputs(self, pieces: list[tuple[np.ndarray, Out]], n: int) -> Out:
        """The ``n`` sequences' outputs in sequence order, from ``(sequence indices, collected)`` batches."""
        ...

    def predictions(self, outputs: Out, sequences: S, texts: np.ndarray) -> P:
        """The task's predictions of the rows behind ``sequences``."""
        ...

    def valid_scores(self, loss_fn: Any, outputs: Out, sequences: S, preds: P, targets: Any) -> dict[str, float]:
        """The validation scores of a fold's held-out rows (``valid_<name>`` keys)."""
        ...

    def score_title(self, name: str) -> str:
        """How the evaluation line names a validation score (``macro_f1`` -> macro-F1)."""
        ...

    def selection(self) -> tuple[str, bool]:
        """The history key the best evaluation is chosen by, and whether higher is better."""
        ...

    def state(self) -> dict:
        """What a saved model needs besides its weights to predict as trained (JSON data; a
        regression head's target scale), kept in ``head_state.json`` beside it."""
        ...

    def restore(self, state: dict) -> None:
        """Take back what :meth:`state` gave, for a reloaded model."""
        ...


class Stateless:
    """The :meth:`Head.state` and :meth:`Head.restore` of a head that learns nothing outside its module."""

    def state(self) -> dict:
        """Nothing beside the weights."""
        return {}

    def restore(self, state: dict) -> None:
        """Nothing to take back."""


def pool(hidden: torch.Tensor, attention_mask: torch.Tensor, pooling: str) -> torch.Tensor:
    """One vector per row: ``cls`` (first position), ``mean`` (over real tokens) or
    ``last`` (the last real token, wherever the padding is)."""
    if pooling == "cls":
        return hidden[:, 0]
    if pooling == "last":
        positions = torch.arange(attention_mask.shape[1], device=attention_mask.device)
        last = (positions * attention_mask).argmax(dim=1)
        return hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)


def logits_of(module: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """A scoring head's inference on a batch: the module's logits (a generating head generates instead)."""
    return module(**batch)["logits"]


class PooledRows(Stateless):
    """The row pieces of a head with one pooled vector per row and ``n_outputs`` float outputs
    (classification logits, regression outputs): one truncated sequence per row with its float
    targets, the module's logits as they come, gathered back into row order."""

    n_outputs: int

    #: a scoring head's inference: the module's logits
    infer = staticmethod(logits_of)

    def encode(self, backbone: Any, tokenizer: Any, texts: np.ndarray, targets: np.ndarray | None = None) -> Any:
        """One truncated sequence per row, its targets (0/1 labels, numbers) as float32."""
        rows = backbone.tokenize(tokenizer, texts)
        if targets is not None:
            rows.targets = np.asarray(targets, dtype=np.float32)
        return rows

    def collect(self, raw: torch.Tensor, batch: dict[str, torch.Tensor]) -> np.ndarray:
        """A batch's (b, n_outputs) logits as float32 numpy."""
        return raw.float().cpu().numpy()

    def outputs(self, pieces: list[tuple[np.ndarray, np.ndarray]], n: int) -> np.ndarray:
        """(n, n_outputs) logits in sequence order from ``(rows, logits)`` batches."""
        out = np.zeros((n, self.n_outputs), dtype=np.float32)
        for rows, logits in pieces:
            out[rows] = logits
        return out


def config_int(cfg: Any, name: str, default: int) -> int:
    """A task's optional integer key of a neural config: its value, or ``default`` where unset (None)."""
    value = getattr(cfg, name, None)
    return default if value is None else int(value)


def hidden_size(model: nn.Module) -> int:
    """The width of a Hugging Face model's hidden states (``model.config.hidden_size``)."""
    # torch types a module's unknown attributes as Tensor | Module; a Hugging Face config is neither
    return int(model.config.hidden_size)  # type: ignore[union-attr,arg-type]


def without_pooler(model: nn.Module) -> nn.Module:
    """``model`` without its pooler, for a head that pools (or scores every token) itself: an
    unused pooler would waste compute and leave DDP with parameters that never get gradients."""
    if getattr(model, "pooler", None) is not None:
        model.pooler = None  # type: ignore[assignment]  # torch types a module's attributes as Tensor | Module
    return model


def in_order(pieces: list[tuple[np.ndarray, list[V]]], n: int) -> list[V]:
    """The ``n`` sequences' values in sequence order, from ``(sequence indices, values)`` batches."""
    by_sequence = {int(r): value for rows, values in pieces for r, value in zip(rows, values)}
    return [by_sequence[i] for i in range(n)]


def with_loss(module: nn.Module, logits: torch.Tensor, labels: torch.Tensor | None) -> dict[str, Any]:
    """``{"loss", "logits"}``: the loss of ``module.loss_fn`` when labels come and it has one."""
    loss_fn = getattr(module, "loss_fn", None)
    loss = loss_fn(logits, labels) if labels is not None and loss_fn is not None else None
    return {"loss": loss, "logits": logits}


class PooledClassifier(nn.Module):
    """Base model -> pooling -> dropout -> linear head -> float32 logits (and the loss, with labels)."""

    #: the loss bound to the fold's targets (:meth:`Head.loss`), set by the loop; None: no loss
    loss_fn: Callable[..., torch.Tensor] | None

    def __init__(self, backbone: nn.Module, n_labels: int, pooling: str, dropout: float):
        super().__init__()
        self.backbone = without_pooler(backbone)  # the head pools the hidden states itself
        self.pooling = pooling
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size(backbone), n_labels)
        self.loss_fn = None  # set by the loop from the head (bound to the fold's targets)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        types = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
        hidden = self.backbone(input_ids=input_ids, attention_mask=attention_mask, **types).last_hidden_state
        pooled = pool(hidden, attention_mask, self.pooling)
        return with_loss(self, self.head(self.dropout(pooled.to(self.head.weight.dtype))).float(), labels)


class LogitsOf(nn.Module):
    """A Hugging Face (or peft-wrapped) classification model as ``module(**batch) -> {"loss", "logits"}``."""

    #: the loss bound to the fold's targets (:meth:`Head.loss`), set by the loop; None: no loss
    loss_fn: Callable[..., torch.Tensor] | None

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        self.loss_fn = None

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor | None = None, **_: Any
    ) -> dict[str, Any]:
        out = self.model(input_ids=input_ids, attention_mask=attention_mask)
        logits = out["logits"] if isinstance(out, dict) else (out.logits if hasattr(out, "logits") else out)
        return with_loss(self, logits.float(), labels)


def selection_key(select_by: str, metric: Any) -> tuple[str, bool]:
    """``select_by`` as (history key, higher is better): ``loss``, ``macro_f1`` or the
    competition ``metric`` (its own direction)."""
    if select_by == "loss":
        return "valid_loss", False
    if select_by == "metric":
        if metric is None:
            raise ValueError("select_by: metric needs the competition metric")
        return f"valid_{metric.name}", metric.greater_is_better
    return f"valid_{select_by}", True
