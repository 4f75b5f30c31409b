"""Decoder generation training: the language-model head on target positions only vs on every position.

    .venv/bin/python bench/target_logits.py                  # SmolLM2 LoRA on 32 XSum articles
    .venv/bin/python bench/target_logits.py --rows 64 --precision fp32

A decoder LLM learning a summary reads ``prompt + summary`` as one sequence but has a loss
on the summary tokens only. ``GeneratorModule`` projects onto the vocabulary only the
positions that predict a target token; the baseline is transformers' own loss, which
projects every position (a 256-token article before a ~30-token summary, onto SmolLM2's
49k-word vocabulary). Both run the experiment's model, rows and batches (forward, backward,
AdamW step), same weights, in this run; prints samples/s, the ratio and the largest
difference between the two losses. The first line names the hardware.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("experiment", nargs="?", default="configs/xsum-smollm2-lora.yaml")
    parser.add_argument("--rows", type=int, default=32, help="training rows (the first of train.csv)")
    parser.add_argument("--precision", default="bf16", help="model.precision of both settings")
    args = parser.parse_args(argv)

    import numpy as np
    import torch
    from experiment_model import build_experiment

    from foldwise.train.precision import autocast_dtype, capability_line

    print(capability_line(), flush=True)
    cfg, data, task, head, model, module, tokenizer = build_experiment(
        args.experiment, [f"model.precision={args.precision}"]
    )
    rows = np.arange(args.rows)
    truth = task.take(task.truth(data), rows)
    sequences = head.encode(model.backbone, tokenizer, np.asarray(data.train_texts[rows], dtype=object), truth)
    size = cfg.model.batch_size
    batches = [
        sequences.batch(rows[i : i + size], model.backbone.pad_id(tokenizer), with_targets=True)
        for i in range(0, args.rows, size)
    ]
    print(
        f"{cfg.model.name_or_path}: {args.rows} rows of {cfg.data.name}, batches of {size}, "
        f"{np.mean(sequences.lengths()):.0f} tokens a row on average, precision {args.precision}",
        flush=True,
    )
    dtype = autocast_dtype(cfg.model, torch.device("cpu"))
    optimizer = torch.optim.AdamW([p for p in module.parameters() if p.requires_grad], lr=0.0)  # lr 0: same weights

    def run(target_only: bool) -> tuple[float, list[float]]:
        module.target_logits_only = target_only
        losses = []
        start = time.perf_counter()
        for batch in batches:
            with torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None):
                loss = module(**batch)["loss"].float()
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            losses.append(loss.item())
        return time.perf_counter() - start, losses

    module.train()
    run(True)  # warm-up
    full_s, full_losses = run(False)
    target_s, target_losses = run(True)
    print(f"{'setting':<40} {'samples/s':>10}")
    print(f"{'every position (transformers loss)':<40} {args.rows / full_s:>10.2f}")
    print(f"{'target positions only':<40} {args.rows / target_s:>10.2f}   {full_s / target_s:.2f}x")
    print(f"largest loss difference: {max(abs(a - b) for a, b in zip(full_losses, target_losses)):.2e}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    main()
