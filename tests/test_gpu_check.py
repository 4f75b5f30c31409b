"""bench/gpu_check.sh: the GPU check's whole run on tiny shapes (a CPU takes the GPU's code path), its
record and its one-line failures."""

import json
import os
import subprocess
import sys
import time

import pytest
from conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
import gpu_check  # noqa: E402  (a bench script, importable from bench/)


def test_tiny_run_prints_every_figure_and_writes_the_record(tmp_path):
    out = tmp_path / "gpu_check.json"
    env = {**os.environ, "PYTHON": sys.executable, "FOLDWISE_CACHE": str(tmp_path / "cache")}
    start = time.perf_counter()
    done = subprocess.run(
        ["bash", str(REPO / "bench" / "gpu_check.sh"), "--tiny", "--ddp-processes", "2", "--out", str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=50,
    )
    wall = time.perf_counter() - start
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    # one line per figure: hardware, peak, 2 encoders x 2 paddings, LoRA training and generation,
    # the CPU's no-bitsandbytes line, 2 QLoRA depths and the whole-depth line, DDP, the record
    assert len(lines) == 14, done.stdout
    assert lines[0].startswith("CPU: ") and "n/a (not in the table)" in lines[1]
    assert sum("padded by length" in line for line in lines) == 4  # 2 encoders, LoRA, DDP
    assert any("no bitsandbytes" in line for line in lines)
    assert lines[-1] == f"wrote {out} in {json.loads(out.read_text())['wall_s']:.0f} s; no section failed"

    record = json.loads(out.read_text())
    assert record["tiny"] is True and record["bf16_peak_tflops"] is None and record["failed"] == []
    assert record["measured_bf16_gemm_tflops"] > 0 and record["wall_s"] < wall
    sections = record["sections"]
    assert {name: s["status"] for name, s in sections.items()} == dict.fromkeys(gpu_check.SECTIONS, "ok")

    rows = sections["encoders"]["rows"]
    assert [(r["model"], r["padding"]) for r in rows] == [
        (m, p) for m in ("minilm", "bert-base") for p in ("by length", "to 32")
    ]
    for r in rows:
        assert r["samples_per_s"] > 0
        assert r["real_tokens_per_s"] == pytest.approx(r["samples_per_s"] * r["real_tokens_per_row"])
        assert r["mfu"] is None and r["peak_gib"] is None  # no bf16 peak and no CUDA memory on a CPU
        assert r["weights"] == "random init (tiny shape)" and r["non_embedding_params"] > 0
    assert 3 < rows[0]["real_tokens_per_row"] < 32  # log-normal lengths under the 32-token cut

    lora = sections["lora"]
    assert lora["train"]["samples_per_s"] > 0 and lora["train"]["trainable_params"] > 0
    generate = lora["generate"]
    assert generate["rows"] == 8 and 0 < generate["mean_new_tokens"] <= generate["max_new_tokens"] == 8
    assert generate["new_tokens_per_s"] == pytest.approx(generate["rows_per_s"] * generate["mean_new_tokens"])

    qlora = sections["qlora"]
    assert (qlora["quantization"], qlora["optimizer"], qlora["gradient_checkpointing"]) == ("none", "adamw", True)
    assert [p["layers"] for p in qlora["points"]] == [1, 2] and qlora["layers"] == 4
    assert qlora["peak_gib"] is None and qlora["how"] == "n/a (no CUDA)"

    assert sections["ddp"]["processes"] == 2 and sections["ddp"]["samples_per_s"] > 0


def test_a_failed_section_is_one_line_the_others_run_and_the_exit_status_says_so(tmp_path, monkeypatch, capsys):
    def broken(check, processes):
        raise RuntimeError("CUDA out of memory.\nTried to allocate 2.00 GiB")

    import speed
    import torch

    monkeypatch.setattr(gpu_check, "ddp", broken)
    monkeypatch.setattr(gpu_check, "lora", lambda check: {"train": {"samples_per_s": 1.0}})
    monkeypatch.setattr(speed, "matmul_peak", lambda dtype: 1e3)
    monkeypatch.setattr(torch, "set_num_threads", lambda n: None)  # --tiny's one thread: not for this process
    out = tmp_path / "record.json"
    assert gpu_check.main(["--tiny", "--only", "ddp,lora", "--out", str(out)]) == 1
    printed = capsys.readouterr().out.splitlines()
    assert printed[2:] == [
        "ddp: FAILED: RuntimeError: CUDA out of memory.",
        f"wrote {out} in {json.loads(out.read_text())['wall_s']:.0f} s; 1 section(s) failed: ddp",
    ]
    record = json.loads(out.read_text())
    assert record["failed"] == ["ddp"] and "Tried to allocate" in record["sections"]["ddp"]["traceback"]
    assert record["sections"]["lora"] == {"status": "ok", "train": {"samples_per_s": 1.0}, "wall_s": 0.0}


def test_ddp_is_skipped_in_one_line_with_one_gpu(capsys):
    record = gpu_check.run_section("ddp", lambda: gpu_check.ddp(None, processes=1))
    assert record["status"] == "skipped" and record["reason"] == "1 GPU here, DDP needs 2 or more"
    assert capsys.readouterr().out == "ddp: skipped: 1 GPU here, DDP needs 2 or more\n"


def test_bf16_peak_by_device_name_and_the_linear_extrapolation():
    assert gpu_check.bf16_peak_tflops("NVIDIA H100 80GB HBM3") == 989.0  # the SXM part
    assert gpu_check.bf16_peak_tflops("NVIDIA H100 PCIe") == 756.0
    assert gpu_check.bf16_peak_tflops("NVIDIA H200") == 989.0
    assert gpu_check.bf16_peak_tflops("NVIDIA A100-SXM4-80GB") == 312.0
    assert gpu_check.bf16_peak_tflops("Tesla T4") is None
    assert gpu_check.extrapolate([(2, 5.0), (4, 6.0)], 32) == (20.0, 0.5)
