"""Fine-tuned Hugging Face encoders (BERT, RoBERTa, DeBERTa, MiniLM, ...) behind the fold interface."""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..config import option
from ..tasks import CLASSIFICATION_KINDS, NUMBER_KINDS
from ..train.backbone import NeuralConfig, is_no_decay, no_inference_change
from .neural import NeuralModel


@dataclass
class TransformerConfig(NeuralConfig):
    """An encoder with a pooled linear head, fine-tuned per fold (see foldwise.train.training)."""

    kind: str = field(default="transformer", init=False)
    pooling: Literal["cls", "mean"] = option("sentence vector: first token or attention-masked mean", "mean")
    dropout: float = option("dropout before the linear head", 0.1, ge=0, lt=1)
    llrd: float = option("layer-wise lr decay: layer i from the top gets lr * llrd^i", 1.0, gt=0)


class EncoderBackbone:
    """An encoder (``AutoModel``) under a pooled linear head, every weight trained."""

    padding_side = "right"

    def __init__(self, config: TransformerConfig):
        self.config = config

    def build(self, head: Any, device: Any) -> tuple[Any, Any]:
        """The encoder under the task's head, and its tokenizer, from a hub id, a local folder or
        ``pkg:<dist>``."""
        from transformers import AutoModel, AutoTokenizer

        from .. import progress
        from .model_files import model_config, resolve_model_path

        cfg = self.config
        progress.quiet_library_bars()
        path = resolve_model_path(cfg.name_or_path)
        overrides = {} if cfg.num_hidden_layers is None else {"num_hidden_layers": cfg.num_hidden_layers}
        encoder_config = model_config(path, **overrides)
        kwargs = {"attn_implementation": cfg.attn_implementation} if cfg.attn_implementation else {}
        try:
            encoder = AutoModel.from_pretrained(path, config=encoder_config, **kwargs)
        except (ValueError, ImportError) as exc:  # a model without SDPA support
            warnings.warn(f"{cfg.attn_implementation} attention unavailable ({exc}); using the default")
            encoder = AutoModel.from_pretrained(path, config=encoder_config)
        if cfg.gradient_checkpointing:
            encoder.gradient_checkpointing_enable()
        model = head.module(encoder, cfg.pooling, cfg.dropout)
        return model.to(device), AutoTokenizer.from_pretrained(path)

    def tokenize(self, tokenizer: Any, texts: np.ndarray) -> Any:
        from ..train.batching import tokenize

        return tokenize(tokenizer, texts, self.config.max_length)

    def pad_id(self, tokenizer: Any) -> int:
        return tokenizer.pad_token_id or 0

    def param_groups(self, module: Any) -> list[dict]:
        """Layer-wise lr decay over encoder depth, the head at ``head_lr``, no decay on biases and norms."""
        cfg = self.config
        n_layers = int(getattr(module.backbone.config, "num_hidden_layers", 0) or 0)
        layer_re = re.compile(r"\.(?:layer|layers|block|h)\.(\d+)\.")
        groups: dict[tuple[float, float], list] = {}
        for name, param in module.named_parameters():
            if not param.requires_grad:
                continue
            if name.startswith("head."):
                lr = cfg.head_lr if cfg.head_lr is not None else cfg.lr
            else:
                match = layer_re.search(name)
                if match:
                    depth = int(match.group(1)) + 1  # embeddings are depth 0
                elif "embed" in name:
                    depth = 0
                else:  # pooler / final norm sit above the last layer
                    depth = n_layers + 1
                lr = cfg.lr * cfg.llrd ** max(0, n_layers - min(depth, n_layers))
            key = (lr, 0.0 if is_no_decay(name, param) else cfg.weight_decay)
            groups.setdefault(key, []).append(param)
        return [{"params": params, "lr": lr, "weight_decay": wd} for (lr, wd), params in groups.items()]

    inference = staticmethod(no_inference_change)

    def save(self, module: Any, tokenizer: Any, folder: Path, head: Any) -> None:
        """Weights, encoder config, head settings and tokenizer: enough to predict offline (``head``:
        the module's size and pooling say all it needs)."""
        import torch

        from ..io import artifacts

        folder.mkdir(parents=True, exist_ok=True)
        artifacts.write_with(folder / "model.pt", lambda tmp: torch.save(module.state_dict(), tmp))
        module.backbone.config.save_pretrained(folder / "backbone")
        tokenizer.save_pretrained(folder / "tokenizer")
        artifacts.write_json(folder / "head.json", {"n_labels": module.head.out_features, "pooling": module.pooling})

    def load(self, folder: Path, head: Any) -> tuple[Any, Any]:
        """A model saved by :meth:`save` under ``head`` (no hub access needed)."""
        import torch
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        saved = json.loads((folder / "head.json").read_text())
        encoder = AutoModel.from_config(AutoConfig.from_pretrained(folder / "backbone"))
        model = head.module(encoder, saved["pooling"], 0.0)
        model.load_state_dict(torch.load(folder / "model.pt", map_location="cpu", weights_only=True))
        model.eval()
        return model, AutoTokenizer.from_pretrained(folder / "tokenizer")


class TransformerModel(NeuralModel):
    """Fine-tune an encoder on a fold; predictions come from the best evaluation's weights."""

    backbone_class = EncoderBackbone
    tasks = (*CLASSIFICATION_KINDS, *NUMBER_KINDS, "span")
