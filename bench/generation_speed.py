"""Generation throughput: length-sorted batches with the KV cache vs one example at a time.

    .venv/bin/python bench/generation_speed.py                     # SmolLM2 on 32 XSum articles
    .venv/bin/python bench/generation_speed.py --rows 48 --batch 16 --max-new-tokens 32
    .venv/bin/python bench/generation_speed.py --rows 16 --batch 16 --set model.precision=bf16

The experiment's own model and prediction path (``foldwise.train.training.predict`` under
the generation head, which sorts rows by length, pads prompts on the left and generates
with the KV cache) runs three ways on the same rows, same weights, same greedy decoding,
in one process: one example at a time without the KV cache (every step re-reads the whole
prefix), one at a time with it, and ``--batch`` rows per batch with it. It prints examples/s
and the ratio to the one-at-a-time rows, and checks that the batched texts equal the
one-at-a-time ones. The first line names the hardware.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("experiment", nargs="?", default="configs/xsum-smollm2-lora.yaml")
    parser.add_argument("--rows", type=int, default=32, help="examples generated (the test rows, in file order)")
    parser.add_argument("--batch", type=int, default=16, help="rows per batch of the batched setting")
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=256, help="prompt tokens (inputs are cut to this)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="more config overrides, e.g. model.precision=bf16 (repeatable)",
    )
    args = parser.parse_args(argv)

    import numpy as np
    from experiment_model import build_experiment

    from foldwise.train import training
    from foldwise.train.precision import capability_line

    print(capability_line(), flush=True)
    cfg, data, task, head, model, module, tokenizer = build_experiment(
        args.experiment,
        [f"model.max_new_tokens={args.max_new_tokens}", f"model.max_length={args.max_length}", *args.set],
    )
    module.eval()
    texts = np.asarray(data.test_texts[: args.rows], dtype=object)
    print(
        f"{cfg.model.name_or_path}: {args.rows} examples of {cfg.data.name}, prompts cut to {args.max_length} "
        f"tokens, {args.max_new_tokens} new tokens at most, greedy",
        flush=True,
    )

    def run(batch: int, cache: bool) -> tuple[float, list[str]]:
        model.backbone.config.eval_batch_size = batch
        generate = module.model.generate
        if not cache:
            module.model.generate = functools.partial(generate, use_cache=False)
        try:
            start = time.perf_counter()
            out = training.predict(model.backbone, head, module, tokenizer, texts).texts
            return time.perf_counter() - start, list(out)
        finally:
            module.model.generate = generate

    training.predict(model.backbone, head, module, tokenizer, texts[:2])  # warm-up
    settings = [
        ("one at a time, no KV cache", 1, False),
        ("one at a time, KV cache", 1, True),
        (f"batches of {args.batch}, length-sorted, KV cache", args.batch, True),
    ]
    results = {name: run(batch, cache) for name, batch, cache in settings}
    base = results[settings[1][0]][0]
    naive = results[settings[0][0]][0]
    print(f"{'setting':<42} {'examples/s':>10} {'vs one-at-a-time':>17} {'vs no cache':>12}")
    for name, (seconds, _) in results.items():
        print(f"{name:<42} {args.rows / seconds:>10.2f} {base / seconds:>16.2f}x {naive / seconds:>11.2f}x")
    same = sum(a == b for a, b in zip(results[settings[1][0]][1], results[settings[2][0]][1]))
    print(f"batched texts equal to one-at-a-time: {same}/{args.rows}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    main()
