"""Training and inference speed of MiniLM and SmolLM2-LoRA in fp32 and in the auto precision, with MFU.

    .venv/bin/python bench/speed.py                         # both models, fp32 vs auto (+ forced bf16 on a CPU)
    .venv/bin/python bench/speed.py --models smollm2-lora --rows 96 --compile
    .venv/bin/python bench/speed.py --json bench/speed.json  # the table as JSON too

The first line names the hardware (CPU model, threads, AMX and AVX512-BF16; or the GPU),
so that every figure can be attributed. Then the matmul peak of this machine, measured in
this run (fp32 and bf16 GFLOP/s, the best of a few GEMM shapes), and one row per model and
setting: training samples/s (one epoch of the experiment's own loop, ``foldwise.train.training.fit``,
on the first ``--rows`` training rows of the experiment's data, after an untimed warm-up),
inference rows/s (``predict`` on the same rows), the ratio of each to the model's fp32
row, peak memory (the process's peak RSS on a CPU, peak allocated GPU memory on CUDA; each
setting runs in its own process so that peaks do not mix) and the model FLOPs utilisation:
the matmul FLOPs the model needs per real token (counted by ``torch.utils.flop_counter``
on one batch, forward + backward for training) times the tokens processed per second,
over the measured peak of the dtype the setting computes in.

On a CPU a forced ``bf16`` row shows what bf16 costs there, and its memory, beside the
``auto`` row (whose ``computes_in`` in ``--json`` is what its probe measured and chose:
``foldwise.train.precision_probe``). ``--compile`` adds a ``torch.compile`` row per model;
``--vary "KEY=VALUE ..."`` a row with those model settings, applied as ``--set model.KEY=VALUE``
(a key the model lacks: that row is skipped for it, with the config loader's one-line error).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

#: model name -> experiment config whose model, data and settings are measured
MODELS = {"minilm": "configs/movie_genres-minilm.yaml", "smollm2-lora": "configs/movie_genres-smollm2-lora.yaml"}
#: GEMM shapes (M x K x N) the matmul peak is the best of: SmolLM2 / MiniLM projections and a square one
PEAK_SHAPES = ((4096, 576, 1536), (4096, 1536, 576), (2048, 2048, 2048))


def matmul_peak(dtype) -> float:
    """The best GEMM rate of this device in ``dtype`` over :data:`PEAK_SHAPES`, in GFLOP/s."""
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    shapes = PEAK_SHAPES if device == "cpu" else ((8192, 8192, 8192),)
    best = 0.0
    for m, k, n in shapes:
        a = torch.randn(m, k, device=device, dtype=dtype)
        b = torch.randn(k, n, device=device, dtype=dtype)
        torch.mm(a, b)  # warm-up: kernel choice, allocations
        repeats = 5 if device == "cpu" else 20
        _sync()
        start = time.perf_counter()
        for _ in range(repeats):
            torch.mm(a, b)
        _sync()
        best = max(best, 2 * m * k * n * repeats / (time.perf_counter() - start) / 1e9)
    return best


def _sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def settings(precisions: list[str], compile_too: bool, variants: list[str]) -> list[tuple[str, str]]:
    """(label, model overrides) of every row per model: one per precision, a forced bf16 one
    on a CPU (where ``auto`` measured each model's choice: a real epoch checks it), a compiled
    one, and one per ``--vary``."""
    import torch

    rows = [(p, f"precision={p}") for p in precisions]
    if not torch.cuda.is_available() and "bf16" not in precisions:
        rows.append(("bf16 (forced)", "precision=bf16"))
    if compile_too:
        rows.append(("auto + compile", "precision=auto compile=true"))
    return rows + [(v, v) for v in variants]


def model_sets(setting: str) -> list[str]:
    """``"precision=bf16 lean_lora=false"`` -> ``["model.precision=bf16", "model.lean_lora=false"]``:
    ``--set`` overrides, validated by the config loader like ``foldwise train --set``."""
    return [f"model.{item}" for item in setting.split()]


def measure_one(model_name: str, setting: str, n_rows: int) -> dict:
    """One setting of one model, in this process: rates, peak memory and FLOPs per token."""
    import numpy as np
    import torch

    from foldwise.data.competition import load_competition
    from foldwise.data.text import clean_texts
    from foldwise.experiment import load_experiment
    from foldwise.models import model_class
    from foldwise.tasks.classification.head import ClassificationHead
    from foldwise.train import training
    from foldwise.train.precision import autocast_dtype

    experiment = load_experiment(MODELS[model_name], model_sets(setting))
    data = load_competition(experiment.data)
    cfg = dataclasses.replace(experiment.model, epochs=1, max_rows_per_fold=None, warmup_ratio=0.0)
    n_rows -= n_rows % cfg.batch_size  # whole batches: the loop's rate counts batch_size per batch
    texts = clean_texts(data.train_texts[:n_rows], experiment.text)
    labels = data.labels[:n_rows].astype(np.float32)
    backbone = model_class(cfg.kind).backbone_class(cfg)
    head = ClassificationHead("multilabel", labels.shape[1], cfg)
    warm = min(len(texts), cfg.batch_size)
    training.fit(backbone, head, 0, texts[:warm], labels[:warm])  # untimed: lazy imports, caches, compilation
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    fitted = training.fit(backbone, head, 0, texts, labels)
    train_rate = fitted.history[-1]["samples_per_s"]
    start = time.perf_counter()
    training.predict(backbone, head, fitted.model, fitted.tokenizer, texts)
    predict_rate = len(texts) / (time.perf_counter() - start)
    tokens_per_row = float(np.mean(backbone.tokenize(fitted.tokenizer, texts).lengths()))
    train_flops, predict_flops = flops_per_token(backbone, head, fitted, texts, labels, cfg)
    peak = (
        torch.cuda.max_memory_allocated()
        if torch.cuda.is_available()
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    )
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    computes_in = autocast_dtype(cfg, device) or torch.float32
    frozen = {str(p.dtype).removeprefix("torch.") for p in fitted.model.parameters() if not p.requires_grad}
    return {
        "train_samples_per_s": train_rate,
        "predict_rows_per_s": predict_rate,
        "peak_memory_gib": peak / 2**30,
        "tokens_per_row": tokens_per_row,
        "train_flops_per_token": train_flops,
        "predict_flops_per_token": predict_flops,
        "computes_in": str(computes_in).removeprefix("torch."),
        "frozen_weights": sorted(frozen),
        "rows": len(texts),
        "batch_size": cfg.batch_size,
        "max_length": cfg.max_length,
    }


def flops_per_token(backbone, head, fitted, texts, labels, cfg) -> tuple[float, float]:
    """Matmul FLOPs per token of one training step (forward + backward) and of one inference
    forward, counted on a batch of the first ``batch_size`` rows (padded tokens included: a
    row's FLOPs grow with its length about linearly at these lengths)."""
    import numpy as np
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from foldwise.train import training

    module, n = fitted.model, min(cfg.batch_size, len(texts))
    device = next(module.parameters()).device
    sequences = head.encode(backbone, fitted.tokenizer, texts[:n], labels[:n])
    batch = training._inputs(
        sequences, np.arange(n), backbone.pad_id(fitted.tokenizer), backbone.padding_side, device, with_targets=True
    )
    dtype = training.autocast_dtype(cfg, device)
    module.loss_fn = head.loss(labels)
    module.train()
    with FlopCounterMode(display=False) as train_count, training._autocast(device, dtype):
        module(**batch)["loss"].float().backward()
    module.eval()
    batch.pop("labels")
    with torch.no_grad(), FlopCounterMode(display=False) as predict_count, training._autocast(device, dtype):
        module(**batch)
    padded = batch["input_ids"].numel()
    return train_count.get_total_flops() / padded, predict_count.get_total_flops() / padded


def run_child(model_name: str, label: str, setting: str, rows: int) -> dict:
    """:func:`measure_one` in a fresh process (its own peak memory); its JSON result."""
    command = [sys.executable, __file__, "--one", model_name, setting, "--rows", str(rows)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        print(f"  {model_name} {label}: failed: {tail}", file=sys.stderr)
        return {}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    import torch

    from foldwise.train.precision import capability_line

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS), help=f"comma-separated: {', '.join(MODELS)}")
    parser.add_argument("--precisions", default="fp32,auto")
    parser.add_argument("--rows", type=int, default=128, help="training (and inference) rows per setting")
    parser.add_argument("--compile", action="store_true", help="add a torch.compile row per model")
    parser.add_argument(
        "--vary",
        action="append",
        default=[],
        metavar='"KEY=VALUE ..."',
        help='one more row per model, e.g. "precision=bf16 base_dtype=fp32 lean_lora=false"',
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--one", nargs=2, metavar=("MODEL", "SETTING"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        from foldwise.errors import FoldwiseError

        try:
            print(json.dumps(measure_one(args.one[0], args.one[1], args.rows)))
        except FoldwiseError as err:  # a key the model lacks, data not prepared: one line for the parent
            raise SystemExit(f"error: {err}")
        return
    print(capability_line(), flush=True)
    peaks = {"float32": matmul_peak(torch.float32), "bfloat16": matmul_peak(torch.bfloat16)}
    if torch.cuda.is_available():
        peaks["float16"] = matmul_peak(torch.float16)
    print("matmul peak: " + ", ".join(f"{k} {v:,.0f} GFLOP/s" for k, v in peaks.items()), flush=True)
    table = []
    for model_name in args.models.split(","):
        if model_name not in MODELS:
            raise SystemExit(f"error: --models: unknown '{model_name}' (known: {', '.join(MODELS)})")
        for label, setting in settings(args.precisions.split(","), args.compile, args.vary):
            result = run_child(model_name, label, setting, args.rows)
            if result:
                table.append({"model": model_name, "setting": label, **result, **mfu(result, peaks)})
                print(f"  {model_name} {label}: done", file=sys.stderr, flush=True)
    print_table(table)
    if args.json:
        from foldwise.io import artifacts

        artifacts.write_json(args.json, {"hardware": capability_line(), "matmul_peak_gflops": peaks, "rows": table})


def mfu(result: dict, peaks: dict) -> dict:
    """Model FLOPs utilisation of training and inference against the peak of the compute dtype."""
    peak = peaks[result["computes_in"]] * 1e9
    tokens = result["tokens_per_row"]
    return {
        "train_mfu": result["train_samples_per_s"] * tokens * result["train_flops_per_token"] / peak,
        "predict_mfu": result["predict_rows_per_s"] * tokens * result["predict_flops_per_token"] / peak,
    }


def print_table(table: list[dict]) -> None:
    """One line per model and setting, ratios against the model's fp32 line."""
    width = max([15] + [len(r["setting"]) for r in table])
    print(
        f"{'model':<13} {'setting':<{width}} {'train/s':>8} {'vs fp32':>8} {'MFU':>6} {'predict/s':>10} "
        f"{'vs fp32':>8} {'MFU':>6} {'peak GiB':>9} {'frozen':>9}"
    )
    base = {r["model"]: r for r in table if r["setting"] == "fp32"}
    for r in table:
        ref = base.get(r["model"], r)
        print(
            f"{r['model']:<13} {r['setting']:<{width}} {r['train_samples_per_s']:>8.2f} "
            f"{r['train_samples_per_s'] / ref['train_samples_per_s']:>7.2f}x {100 * r['train_mfu']:>5.1f}% "
            f"{r['predict_rows_per_s']:>10.2f} {r['predict_rows_per_s'] / ref['predict_rows_per_s']:>7.2f}x "
            f"{100 * r['predict_mfu']:>5.1f}% {r['peak_memory_gib']:>9.2f} {','.join(r['frozen_weights']) or '-':>9}"
        )


if __name__ == "__main__":
    main()
