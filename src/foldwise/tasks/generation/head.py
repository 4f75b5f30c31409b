"""The generation head: a language model trained on the target text, predicting by generating.

Training is teacher-forced: an encoder-decoder (T5, BART, bert2bert) reads the input and
learns the target tokens as its labels; a decoder LLM reads ``prompt + target + EOS`` as
one sequence with the loss on the target tokens only (prompt and padding labelled
-100). The model computes its own token cross-entropy, so the head has no loss of its
own. Predictions are generated in length-sorted batches with the KV cache (decoder
prompts padded on the left), greedy or beam search, with ``max_new_tokens``,
``length_penalty`` and ``no_repeat_ngram_size`` from the model config. Validation scores
the generated texts with the competition metric, which also picks the best evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ...errors import FoldwiseError
from ...train.batching import TokenizedRows, pad_batch
from ...train.heads import Stateless, config_int, in_order
from ..metrics import score_title

#: the label of a position that has no loss (prompt, padding)
IGNORE = -100
#: defaults of the generation keys of a neural config (None there: the key is not set)
MAX_TARGET_LENGTH, MAX_NEW_TOKENS = 64, 64


class GeneratorModule(nn.Module):
    """A Hugging Face language model (maybe peft-wrapped) as ``module(**batch) -> {"loss", "logits"}``,
    the loss the token cross-entropy over ``labels`` (-100 ignored).

    A decoder LLM projects onto its vocabulary only the positions that predict a target
    token (``logits_to_keep`` as a mask): a prompt of 256 tokens before a 40-token summary
    would otherwise spend most of the language-model head's work (a 49k-word vocabulary
    for SmolLM2) on positions that carry no loss. The loss is the same mean over target
    tokens; ``logits`` are then those positions' rows only.
    """

    pooling = "none"
    loss_fn: Callable[..., torch.Tensor] | None  # None: the language model computes its own loss

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        self.loss_fn = None
        self.target_logits_only = _keeps_logits_by_mask(model)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor | None = None, **_: Any
    ) -> dict[str, Any]:
        if labels is None or not self.target_logits_only:
            out = self.model(input_ids=input_ids, attention_mask=attention_mask, labels=labels)
            return {"loss": out.loss, "logits": out.logits}
        predicts_target = torch.zeros_like(labels, dtype=torch.bool)
        predicts_target[:, :-1] = labels[:, 1:] != IGNORE  # position t predicts token t + 1
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, logits_to_keep=predicts_target)
        loss = nn.functional.cross_entropy(out.logits.float(), labels[:, 1:][predicts_target[:, :-1]])
        return {"loss": loss, "logits": out.logits}


def _keeps_logits_by_mask(model: Any) -> bool:
    """Whether ``model`` is a decoder whose forward takes ``logits_to_keep`` (a boolean mask
    keeps those positions: transformers' ``slice_logits_to_keep``)."""
    import inspect

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    if getattr(getattr(base, "config", None), "is_encoder_decoder", False):
        return False
    try:
        return "logits_to_keep" in inspect.signature(base.forward).parameters
    except (TypeError, ValueError):
        return False


@dataclass
class GenerationRows(TokenizedRows):
    """Prompts (``input_ids``) and, for training rows, their target token ids.

    ``decoder_only``: a decoder LLM trains on ``prompt + target`` as one sequence and
    generates from prompts padded on the left; an encoder-decoder takes the prompt as
    its input and the target as its labels, padded on the right.
    """

    target_ids: list[list[int]] | None = None
    decoder_only: bool = False

    def lengths(self) -> np.ndarray:
        """Prompt plus target tokens: what a training step costs (inference sorts by it too)."""
        targets = self.target_ids or [[]] * len(self.input_ids)
        return np.array([len(p) + len(t) for p, t in zip(self.input_ids, targets)])

    def batch(
        self,
        rows: np.ndarray,
        pad_id: int,
        labels: np.ndarray | None = None,
        padding_side: str = "right",
        with_targets: bool = False,
    ) -> dict[str, torch.Tensor]:
        prompts = [self.input_ids[r] for r in rows]
        if not (with_targets and self.target_ids is not None):
            return pad_batch(prompts, pad_id, padding_side="left" if self.decoder_only else "right")
        targets = [self.target_ids[r] for r in rows]
        if self.decoder_only:
            batch = pad_batch([p + t for p, t in zip(prompts, targets)], pad_id, padding_side="right")
            label_rows = [[IGNORE] * len(p) + t for p, t in zip(prompts, targets)]
        else:
            batch = pad_batch(prompts, pad_id, padding_side="right")
            label_rows = targets
        width = max(len(r) for r in label_rows)
        batch["labels"] = torch.tensor([r + [IGNORE] * (width - len(r)) for r in label_rows], dtype=torch.long)
        return batch


class GenerationHead(Stateless):
    """Teacher-forced training, generated predictions; see the module docstring.

    Parameters
    ----------
    model_cfg : the neural config (``max_length``, ``max_target_length``, ``max_new_tokens``,
        ``num_beams``, ``length_penalty``, ``no_repeat_ngram_size``, ``select_by``).
    scores : ``(preds, truth) -> {metric: ...}`` (:meth:`GenerationTask.untuned_scores`).
    metric : the competition metric (it selects the best evaluation).
    """

    #: backbones build a model with its language-model head for this head
    language_model = True
    n_outputs = 0
    #: what a saved model folder's ``head.json`` records as its kind (what loading checks)
    saved_kind = "generation"

    def __init__(self, model_cfg: Any, scores: Any = None, metric: Any = None):
        self.cfg = model_cfg
        self._scores = scores
        self.metric = metric
        self.tokenizer: Any = None  # set by encode: decoding generated ids needs it
        self.decoder_only = False

    def module(self, base: nn.Module, pooling: str = "none", dropout: float = 0.0) -> nn.Module:
        """The language model ``base`` as the loop's module (``pooling``, ``dropout``: not used)."""
        return GeneratorModule(base)

    def loss(self, targets: Any) -> None:
        """None: the language model computes its own token cross-entropy."""
        return None

    # -- rows <-> sequences --

    def encode(self, backbone: Any, tokenizer: Any, texts: np.ndarray, targets: Any = None) -> GenerationRows:
        """Prompts (``input_prefix`` + text, truncated to ``max_length`` tokens) and, with ``targets``, the first
        reference of each row as target tokens (``max_target_length``, EOS at the end)."""
        self.tokenizer = tokenizer
        self.decoder_only = backbone.decoder_only
        prefix = getattr(self.cfg, "input_prefix", None) or ""
        prompts = backbone.prompts(tokenizer, [prefix + str(t) for t in np.asarray(texts, dtype=object).reshape(-1)])
        target_ids = None
        if targets is not None:
            limit = config_int(self.cfg, "max_target_length", MAX_TARGET_LENGTH)
            target_ids = backbone.targets(tokenizer, targets.first, limit)
        return GenerationRows(prompts, target_ids=target_ids, decoder_only=self.decoder_only)

    def infer(self, module: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Generated token ids of a batch of prompts (without the prompt, for decoders)."""
        model: Any = module.model if isinstance(module, GeneratorModule) else module  # a Hugging Face generator
        cfg = self.cfg
        tokenizer = self.tokenizer
        options = {
            "max_new_tokens": config_int(cfg, "max_new_tokens", MAX_NEW_TOKENS),
            "num_beams": int(getattr(cfg, "num_beams", None) or 1),
            "do_sample": False,
            "pad_token_id": tokenizer.pad_token_id,
        }
        if getattr(cfg, "length_penalty", None) is not None and options["num_beams"] > 1:
            options["length_penalty"] = float(cfg.length_penalty)
        if getattr(cfg, "no_repeat_ngram_size", None):
            options["no_repeat_ngram_size"] = int(cfg.no_repeat_ngram_size)
        eos = _eos_id(model, tokenizer)
        if eos is not None:
            options["eos_token_id"] = eos
        out = model.generate(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], **options)
        return out[:, batch["input_ids"].shape[1] :] if self.decoder_only else out

    def collect(self, raw: torch.Tensor, batch: dict[str, torch.Tensor]) -> list[list[int]]:
        """Each row's generated token ids."""
        return raw.cpu().tolist()

    def outputs(self, pieces: list[tuple[np.ndarray, list[list[int]]]], n: int) -> list[list[int]]:
        """Every sequence's generated ids, in sequence order."""
        return in_order(pieces, n)

    def predictions(self, outputs: list[list[int]], sequences: GenerationRows, texts: np.ndarray) -> Any:
        """The generated texts, special tokens and surrounding spaces removed."""
        from .predictions import GenerationPredictions

        decoded = self.tokenizer.batch_decode(outputs, skip_special_tokens=True) if outputs else []
        return GenerationPredictions(np.array([d.strip() for d in decoded], dtype=object))

    # -- validation --

    def valid_scores(
        self, loss_fn: Any, outputs: Any, sequences: GenerationRows, preds: Any, targets: Any
    ) -> dict[str, float]:
        """The competition metric of the generated validation texts, and its secondary scores."""
        if self._scores is None:
            return {}
        return {f"valid_{k}": v for k, v in self._scores(preds, targets).items()}

    #: how the loop's evaluation line names a validation score (``macro_f1`` -> macro-F1)
    score_title = staticmethod(score_title)

    def selection(self) -> tuple[str, bool]:
        """The competition metric of the generated texts, whatever ``select_by`` (``loss``
        has no teacher-forced counterpart here); ``macro_f1`` is refused."""
        if self.cfg.select_by == "macro_f1":
            raise FoldwiseError(
                "model.select_by macro_f1 is for classification; task generation selects by the "
                "metric of the generated validation texts"
            )
        return f"valid_{self.metric.name}", True


def _eos_id(model: nn.Module, tokenizer: Any) -> int | None:
    config = getattr(model, "generation_config", None)
    eos = getattr(config, "eos_token_id", None) if config is not None else None
    return eos if eos is not None else tokenizer.eos_token_id
