"""Where one SmolLM2-LoRA training step goes: matmul against everything else, under torch's profiler.

    .venv/bin/python bench/lora_step_profile.py                      # lean LoRA vs peft's forward, fp32
    .venv/bin/python bench/lora_step_profile.py --vary "lora_dropout=0.05" --vary "precision=bf16"

Builds the model of configs/movie_genres-smollm2-lora.yaml, takes one batch of its first
``--batch`` training rows, and times forward + backward (after two untimed steps) once per
setting: the config as it is, ``lean_lora=false`` (peft's own LoRA forward), and each
``--vary``. For each it prints seconds per step, the share of self CPU time spent in matrix
multiplications (``mm``/``addmm``/``bmm``/attention kernels) and the largest other operators.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

CONFIG = "configs/movie_genres-smollm2-lora.yaml"
#: operators counted as matrix multiplication (attention kernels included)
MATMUL = ("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "aten::_scaled_dot_product")


def one_setting(text: str, n_rows: int, repeats: int) -> None:
    import numpy as np
    import torch
    from torch.profiler import ProfilerActivity, profile

    from foldwise.config import load_experiment
    from foldwise.data.competition import load_competition
    from foldwise.data.text import clean_texts
    from foldwise.models import model_class
    from foldwise.models.heads import ClassificationHead
    from foldwise.train import training
    from speed import model_sets

    experiment = load_experiment(CONFIG, model_sets(text))
    cfg = experiment.model
    data = load_competition(experiment.data)
    texts = clean_texts(data.train_texts[:n_rows], experiment.text)
    labels = data.labels[:n_rows].astype(np.float32)
    backbone = model_class(cfg.kind).backbone_class(cfg)
    head = ClassificationHead("multilabel", labels.shape[1], cfg)
    device = torch.device("cpu")
    torch.manual_seed(0)
    module, tokenizer = backbone.build(head, device)
    module.loss_fn = head.loss(labels)
    sequences = head.encode(backbone, tokenizer, texts, labels)
    batch = training._inputs(sequences, np.arange(len(texts)), backbone.pad_id(tokenizer), backbone.padding_side,
                             device, with_targets=True)
    dtype = training.autocast_dtype(cfg, device)
    module.train()

    def step() -> None:
        with training._autocast(device, dtype):
            loss = module(**batch)["loss"].float()
        loss.backward()

    step(), step()
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    seconds = (time.perf_counter() - start) / repeats
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        step()
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events)
    matmul = sum(e.self_cpu_time_total for e in events if e.key.startswith(MATMUL))
    others = [e for e in events if not e.key.startswith(MATMUL)][:6]
    shape = "x".join(str(d) for d in batch["input_ids"].shape)
    print(f"{text or 'as configured':<44} {seconds:>7.2f} s/step  batch {shape}  matmul {100 * matmul / total:.0f} %; "
          + ", ".join(f"{e.key.removeprefix('aten::')} {100 * e.self_cpu_time_total / total:.1f} %" for e in others),
          flush=True)


def main() -> None:
    from foldwise.train.precision import capability_line

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16, help="rows in the profiled batch")
    parser.add_argument("--repeats", type=int, default=3, help="timed steps per setting")
    parser.add_argument("--vary", action="append", default=[], metavar='"KEY=VALUE ..."')
    args = parser.parse_args()
    print(capability_line())
    for text in ["", "lean_lora=false", *args.vary]:
        one_setting(text, args.batch, args.repeats)


if __name__ == "__main__":
    main()
