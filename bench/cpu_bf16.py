"""Is bf16 autocast worth it on this CPU? fp32 vs bf16 matmul GFLOP/s at SmolLM2/MiniLM shapes.

    .venv/bin/python bench/cpu_bf16.py

Times ``F.linear`` in fp32, on bf16 tensors, and under ``torch.autocast("cpu", bf16)``
(what ``precision: bf16`` does) for the projection shapes of a batch of 4,096 tokens, and
prints each one's ratio to fp32 in the same run, with whether ``/proc/cpuinfo`` lists
``amx_bf16`` (the test ``precision: auto`` uses on a CPU). With AMX bf16 ran 6.9x fp32
(DESIGN.md); with AVX512-BF16 alone it ran at 0.43-0.59x.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F

SHAPES = ((4096, 576, 576), (4096, 576, 1536), (4096, 1536, 576), (2048, 2048, 2048))


def seconds_per_call(fn, repeats: int = 10) -> float:
    fn()  # warm-up: kernel selection, allocations
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def main() -> None:
    from foldwise.train.precision import cpu_has_amx

    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, amx_bf16: {cpu_has_amx()}")
    print(f"{'M x K x N':<18} {'fp32 GFLOP/s':>13} {'bf16':>8} {'autocast':>9} {'autocast/fp32':>14}")
    for m, k, n in SHAPES:
        x, w = torch.randn(m, k), torch.randn(n, k)
        xb, wb = x.bfloat16(), w.bfloat16()
        flops = 2 * m * k * n

        def autocast() -> torch.Tensor:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return F.linear(x, w)

        fp32 = flops / seconds_per_call(lambda: F.linear(x, w)) / 1e9
        bf16 = flops / seconds_per_call(lambda: F.linear(xb, wb)) / 1e9
        auto = flops / seconds_per_call(autocast) / 1e9
        print(f"{f'{m} x {k} x {n}':<18} {fp32:>13.0f} {bf16:>8.0f} {auto:>9.0f} {auto / fp32:>13.2f}x")


if __name__ == "__main__":
    main()
