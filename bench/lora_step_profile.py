"""Where one SmolLM2-LoRA training step goes: matmul against everything else, under torch's profiler.

    .venv/bin/python bench/lora_step_profile.py                      # lean LoRA vs peft's forward, fp32
    .venv/bin/python bench/lora_step_profile.py --vary "lora_dropout=0.05" --vary "precision=bf16"

Builds the model of configs/movie_genres-smollm2-lora.yaml once per setting (the config as
it is, ``lean_lora=false``: peft's own LoRA forward, and each ``--vary``), takes one batch of
the first ``--batch`` training rows, and times forward + backward: two untimed steps each,
then ``--repeats`` rounds that step every setting in turn (interleaved, so that a busy
neighbour slows them alike). For each it prints the median seconds per step, its speed
against the config's, the share of self CPU time spent in matrix multiplications
(``mm``/``addmm``/``bmm``/attention kernels) and the largest other operators.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

CONFIG = "configs/movie_genres-smollm2-lora.yaml"
#: operators counted as matrix multiplication (attention kernels included)
MATMUL = ("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "aten::_scaled_dot_product")


def prepare(text: str, n_rows: int):
    """The model of one setting, in training mode, and a step on one batch of the first ``n_rows`` rows."""
    import numpy as np
    import torch
    from speed import model_sets

    from foldwise.data.competition import load_competition
    from foldwise.data.text import clean_texts
    from foldwise.experiment import load_experiment
    from foldwise.models import model_class
    from foldwise.tasks.classification.head import ClassificationHead
    from foldwise.train import training

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
    batch = training._inputs(
        sequences, np.arange(len(texts)), backbone.pad_id(tokenizer), backbone.padding_side, device, with_targets=True
    )
    dtype = training.autocast_dtype(cfg, device)
    module.train()

    def step() -> None:
        with training._autocast(device, dtype):
            loss = module(**batch)["loss"].float()
        loss.backward()

    return step, "x".join(str(d) for d in batch["input_ids"].shape)


def profile_line(step) -> str:
    """The matmul share of one step's self CPU time and the largest other operators."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        step()
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events)
    matmul = sum(e.self_cpu_time_total for e in events if e.key.startswith(MATMUL))
    others = [e for e in events if not e.key.startswith(MATMUL)][:6]
    return f"matmul {100 * matmul / total:.0f} %; " + ", ".join(
        f"{e.key.removeprefix('aten::')} {100 * e.self_cpu_time_total / total:.1f} %" for e in others
    )


def main() -> None:
    from foldwise.train.precision import capability_line

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16, help="rows in the profiled batch")
    parser.add_argument("--repeats", type=int, default=5, help="timed steps per setting, interleaved")
    parser.add_argument("--vary", action="append", default=[], metavar='"KEY=VALUE ..."')
    args = parser.parse_args()
    print(capability_line())
    texts = ["", "lean_lora=false", *args.vary]
    steps = {text: prepare(text, args.batch) for text in texts}
    for step, _ in steps.values():  # untimed: allocations, kernel choice
        step(), step()
    seconds: dict[str, list[float]] = {text: [] for text in texts}
    for _ in range(args.repeats):  # interleaved, so that a noisy neighbour hits every setting alike
        for text, (step, _) in steps.items():
            start = time.perf_counter()
            step()
            seconds[text].append(time.perf_counter() - start)
    base = statistics.median(seconds[""])
    for text, (step, shape) in steps.items():
        median = statistics.median(seconds[text])
        print(
            f"{text or 'as configured':<36} {median:>6.2f} s/step (median of {args.repeats}; {base / median:.2f}x "
            f"the config's speed)  batch {shape}  {profile_line(step)}",
            flush=True,
        )


if __name__ == "__main__":
    main()
