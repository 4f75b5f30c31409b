"""The span head: start and end logits per token over question + context windows.

Rows become windows (:func:`foldwise.tasks.span.windows.make_windows`: contexts longer
than ``model.max_length`` split with ``model.doc_stride`` tokens of overlap), each
window a sequence whose ``row_of`` names its row; the module scores every token as the
answer's start and end and owns the loss (cross-entropy of both, averaged; a window
without the whole answer points at ``[CLS]``). Predictions put each row's token logits
back onto its context's characters (as log-probabilities, maximum over windows) and
decode the best span of at most ``model.max_answer_length`` tokens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ...errors import FoldwiseError
from ...train.batching import TokenizedRows
from ...train.heads import (
    Stateless,
    config_int,
    hidden_size,
    in_order,
    logits_of,
    selection_key,
    with_loss,
    without_pooler,
)
from ..metrics import score_title

#: defaults of the span keys of a neural config (None there: the key is not set)
DOC_STRIDE, MAX_ANSWER_LENGTH, N_BEST, MAX_QUESTION_LENGTH = 128, 30, 20, 64


class SpanModule(nn.Module):
    """Encoder -> dropout -> linear (2 per token) -> ``{"loss", "logits": (batch, tokens, 2)}``."""

    pooling = "tokens"  # what the saved head.json records: no pooling
    loss_fn: Callable[..., torch.Tensor] | None  # set by the loop (:meth:`SpanHead.loss`)

    def __init__(self, backbone: nn.Module, dropout: float):
        super().__init__()
        self.backbone = without_pooler(backbone)  # every token is scored
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size(backbone), 2)
        self.loss_fn = None

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
        logits = self.head(self.dropout(hidden.to(self.head.weight.dtype))).float()
        logits = logits.masked_fill(attention_mask.unsqueeze(-1) == 0, -1e4)  # padding never starts an answer
        return with_loss(self, logits, labels)


def span_loss(logits: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of the start and the end token (``positions``: (batch, 2))."""
    start = nn.functional.cross_entropy(logits[..., 0], positions[:, 0])
    end = nn.functional.cross_entropy(logits[..., 1], positions[:, 1])
    return (start + end) / 2


@dataclass
class WindowRows(TokenizedRows):
    """Windows as sequences, with the offsets that map their tokens back onto the context."""

    windows: Any = None


class SpanHead(Stateless):
    """Start/end logits per token; see the module docstring.

    Parameters
    ----------
    model_cfg : the neural config (``max_length``, ``doc_stride``, ``max_answer_length``,
        ``n_best``, ``select_by``).
    scores : ``(preds, truth) -> {metric: ...}`` (:meth:`SpanTask.untuned_scores`).
    metric : the competition metric (for ``select_by: metric``).
    """

    n_outputs = 2
    #: a scoring head over an encoder (no language-model head); its saved folders record no kind
    language_model = False
    saved_kind = None

    def __init__(self, model_cfg: Any, scores: Any = None, metric: Any = None):
        self.cfg = model_cfg
        self._scores = scores
        self.metric = metric
        self.doc_stride = config_int(model_cfg, "doc_stride", DOC_STRIDE)
        self.max_answer_length = config_int(model_cfg, "max_answer_length", MAX_ANSWER_LENGTH)
        self.n_best = config_int(model_cfg, "n_best", N_BEST)
        if self.doc_stride >= model_cfg.max_length:
            raise FoldwiseError(
                f"model.doc_stride {self.doc_stride} must be below model.max_length "
                f"{model_cfg.max_length} (windows share doc_stride tokens)"
            )

    def module(self, base: nn.Module, pooling: str, dropout: float) -> nn.Module:
        """The token scorer over the encoder ``base`` (``pooling`` is not used)."""
        return SpanModule(base, dropout)

    def loss(self, targets: Any) -> Any:
        """Cross-entropy of the start and end positions."""
        return span_loss

    infer = staticmethod(logits_of)

    def encode(self, backbone: Any, tokenizer: Any, texts: np.ndarray, targets: Any = None) -> WindowRows:
        """(n, 2) question/context rows as windows, with answer token positions when ``targets``."""
        from .windows import make_windows

        if not getattr(tokenizer, "is_fast", False):
            raise FoldwiseError(
                f"model.name_or_path '{self.cfg.name_or_path}': task span needs a fast tokenizer (character offsets)"
            )
        texts = np.asarray(texts, dtype=object).reshape(-1, 2)
        answers = None if targets is None else targets.first
        windows = make_windows(
            tokenizer,
            [str(q) for q in texts[:, 0]],
            [str(c) for c in texts[:, 1]],
            self.cfg.max_length,
            self.doc_stride,
            answer_starts=None if targets is None else list(targets.starts),
            answer_texts=answers,
            max_question_length=MAX_QUESTION_LENGTH,
        )
        positions = (
            None
            if windows.start_positions is None or windows.end_positions is None
            else np.stack([windows.start_positions, windows.end_positions], axis=1).astype(np.int64)
        )
        return WindowRows(
            windows.input_ids, windows.token_type_ids, row_of=windows.row_of, targets=positions, windows=windows
        )

    def collect(self, raw: torch.Tensor, batch: dict[str, torch.Tensor]) -> list[np.ndarray]:
        """Each window's (tokens, 2) logits without its padding."""
        lengths = batch["attention_mask"].sum(dim=1).tolist()
        values = raw.float().cpu().numpy()
        mask = batch["attention_mask"].cpu().numpy().astype(bool)
        return [values[i][mask[i]] for i in range(len(lengths))]

    def outputs(self, pieces: list[tuple[np.ndarray, list[np.ndarray]]], n: int) -> list[np.ndarray]:
        """Every window's logits, in window order."""
        return in_order(pieces, n)

    def predictions(self, outputs: list[np.ndarray], sequences: WindowRows, texts: np.ndarray) -> Any:
        """Each row's best span (n-best start/end pairs, at most ``max_answer_length`` tokens)
        and its context's character scores as log-probabilities."""
        from .predictions import SpanPredictions, log_probabilities
        from .windows import char_scores, decode_spans

        contexts = [str(c) for c in np.asarray(texts, dtype=object).reshape(-1, 2)[:, 1]]
        starts = [o[:, 0] for o in outputs]
        ends = [o[:, 1] for o in outputs]
        spans = decode_spans(
            starts, ends, sequences.windows, contexts, n_best=self.n_best, max_answer_length=self.max_answer_length
        )
        chars = char_scores(starts, ends, sequences.windows, contexts)
        return SpanPredictions(
            np.array([s.text for s in spans], dtype=object),
            np.array([s.score for s in spans], dtype=np.float32),
            [log_probabilities(s) for s, _ in chars],
            [log_probabilities(e) for _, e in chars],
            np.array(contexts, dtype=object),
        )

    def valid_scores(
        self, loss_fn: Any, outputs: list[np.ndarray], sequences: WindowRows, preds: Any, targets: Any
    ) -> dict[str, float]:
        """Validation loss over the windows, then the competition metric and its secondary scores."""
        if sequences.targets is None:
            raise ValueError("validation windows need their answer positions (encode them with targets)")
        losses = []
        for logits, (start, end) in zip(outputs, sequences.targets):
            log_start = logits[:, 0] - np.logaddexp.reduce(logits[:, 0])
            log_end = logits[:, 1] - np.logaddexp.reduce(logits[:, 1])
            losses.append(-(log_start[start] + log_end[end]) / 2)
        scores = {"valid_loss": float(np.mean(losses)) if losses else float("nan")}
        if self._scores is not None:
            scores.update({f"valid_{k}": v for k, v in self._scores(preds, targets).items()})
        return scores

    #: how the loop's evaluation line names a validation score (``macro_f1`` -> macro-F1)
    score_title = staticmethod(score_title)

    def selection(self) -> tuple[str, bool]:
        """``select_by``: ``loss`` or ``metric`` (macro-F1 means nothing for spans)."""
        if self.cfg.select_by == "macro_f1":
            raise FoldwiseError("model.select_by macro_f1 is for classification; task span selects by loss or metric")
        return selection_key(self.cfg.select_by, self.metric)
