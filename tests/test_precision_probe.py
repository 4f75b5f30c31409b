"""``precision: auto`` on a CPU by measurement (foldwise.train.precision_probe), with a fake clock.

The probe runs real steps of a one-layer MiniLM (or a two-layer SmolLM2 with LoRA) on the
fold's rows; only the clock that times them is replaced, so each test says how fast bf16
and fp32 were and checks what was chosen, cached, printed and recorded.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch

from foldwise.io import paths
from foldwise.models.llm import LlmBackbone, LlmConfig, base_dtype
from foldwise.models.transformer import EncoderBackbone, TransformerConfig
from foldwise.tasks.classification.head import ClassificationHead
from foldwise.train import precision, precision_probe, training

CPU = torch.device("cpu")
TEXTS = np.array([f"I am {'very ' * (i % 5)}happy and glad today, number {i}" for i in range(24)], dtype=object)
LABELS = (np.arange(24)[:, None] % 3 == np.arange(3)).astype(np.float32)


@pytest.fixture
def probing(monkeypatch, tmp_path):
    """Probing on (the suite turns it off), a verdict cache of this test's own (converted models
    stay in the shared cache), no verdict known yet."""
    assert precision_probe.cache_path() == paths.cache_root() / "precision.json"
    with monkeypatch.context() as elsewhere:  # $FOLDWISE_CACHE moves it (and converted models: not here)
        elsewhere.setenv("FOLDWISE_CACHE", str(tmp_path / "elsewhere"))
        assert precision_probe.cache_path() == tmp_path / "elsewhere" / "precision.json"
    cache = tmp_path / "cache" / "precision.json"
    monkeypatch.setattr(precision_probe, "cache_path", lambda: cache)
    monkeypatch.setenv(precision_probe.PROBE_ENV, "on")
    monkeypatch.setattr(precision_probe, "_known", {})
    return cache


def steps_taking(monkeypatch, fp32: float, bf16: float) -> None:
    """Time every fp32 step at ``fp32`` seconds and every bf16 step at ``bf16``: the probe reads
    the clock before and after each timed step, fp32's and bf16's alternating, fp32 first."""
    readings, now = [], 0.0
    for seconds in [fp32, bf16] * precision_probe.STEPS:
        readings += [now, now + seconds]
        now += seconds
    monkeypatch.setattr(precision_probe, "clock", iter(readings).__next__)  # a further reading fails


def no_clock(monkeypatch) -> None:
    def read():
        raise AssertionError("the probe timed steps where a verdict was known")

    monkeypatch.setattr(precision_probe, "clock", read)


def encoder(**overrides):
    settings = {"num_hidden_layers": 1, "max_length": 24, "batch_size": 8, **overrides}
    cfg = TransformerConfig(**settings)
    return cfg, EncoderBackbone(cfg), ClassificationHead("multilabel", 3, cfg)


def resolve(cfg, backbone, head):
    """The fold's precision record, probing on the test's rows when it must."""
    return precision_probe.resolve(cfg, CPU, lambda: training._precision_probe(backbone, head, TEXTS, LABELS, CPU))


def never_probe():
    raise AssertionError("the probe ran where a verdict was known")


def test_bf16_measured_faster_is_chosen_printed_and_cached_then_read_without_measuring(probing, monkeypatch, capsys):
    monkeypatch.setattr(precision, "cpu_has_amx", lambda: False)  # the measurement decides, not the flags
    cfg, backbone, head = encoder()
    steps_taking(monkeypatch, fp32=1.0, bf16=0.5)
    record = resolve(cfg, backbone, head)
    assert record["computed_in"] == "bf16" and record["asked"] == "auto"
    measured = record["measurement"]
    assert measured["choice"] == "bf16" and measured["speedup"] == 2.0 and measured["agree"]
    assert measured["fp32_samples_per_cpu_s"] == 8.0 and measured["bf16_samples_per_cpu_s"] == 16.0  # 8 rows
    line = capsys.readouterr().out.strip()
    assert re.fullmatch(
        r"precision auto: bf16 trains at 2\.00x fp32's speed on .+ \(16\.0 vs 8\.0 samples per CPU-second\), "
        rf"outputs agree \(max diff 0\.0\d\d\): bf16 \(measured in [\d.]+ s; cached in {re.escape(str(probing))}\)",
        line,
    ), line
    assert json.loads(probing.read_text())[record["key"]]["choice"] == "bf16"
    assert precision.autocast_dtype(cfg, CPU) is torch.bfloat16

    # another process: the cache answers, no probe runs, one line says how to measure again
    monkeypatch.setattr(precision_probe, "_known", {})
    no_clock(monkeypatch)
    again = precision_probe.resolve(cfg, CPU, never_probe)
    assert again["computed_in"] == "bf16" and again["measurement"] == measured
    assert f"precision auto: bf16, measured on this machine on {measured['measured_at'][:10]}" in (
        capsys.readouterr().out
    )
    precision_probe.resolve(cfg, CPU, never_probe)  # a later fold of the same process: silent
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("bf16_seconds", [2.0, 0.95])  # slower; faster by less than the noise margin
def test_bf16_slower_or_within_noise_keeps_fp32(probing, monkeypatch, capsys, bf16_seconds):
    monkeypatch.setattr(precision, "cpu_has_amx", lambda: True)  # the CPU-flag rule would pick bf16
    cfg, backbone, head = encoder()
    steps_taking(monkeypatch, fp32=1.0, bf16=bf16_seconds)
    record = resolve(cfg, backbone, head)
    assert record["computed_in"] == "fp32" and record["measurement"]["choice"] == "fp32"
    assert (
        capsys.readouterr()
        .out.strip()
        .endswith(f": fp32 (measured in {record['measurement']['probe_seconds']:.1f} s; cached in {probing})")
    )
    assert precision.autocast_dtype(cfg, CPU) is None


def test_bf16_outputs_beyond_the_tolerance_keep_fp32_however_fast(probing, monkeypatch, capsys):
    monkeypatch.setattr(precision_probe, "TOLERANCE", 1e-9)  # bf16 never matches fp32 this closely
    cfg, backbone, head = encoder()
    steps_taking(monkeypatch, fp32=1.0, bf16=0.25)
    record = resolve(cfg, backbone, head)
    assert record["computed_in"] == "fp32"
    assert record["measurement"]["speedup"] == 4.0 and not record["measurement"]["agree"]
    assert "outputs differ (max diff" in capsys.readouterr().out


def test_deleting_the_cache_measures_again_and_each_model_has_its_own_verdict(probing, monkeypatch):
    cfg, backbone, head = encoder()
    steps_taking(monkeypatch, fp32=1.0, bf16=0.5)
    first = resolve(cfg, backbone, head)
    other, other_backbone, _ = encoder(max_length=200)  # another max_length bucket: another key
    steps_taking(monkeypatch, fp32=1.0, bf16=2.0)
    assert resolve(other, other_backbone, head)["computed_in"] == "fp32"
    assert set(json.loads(probing.read_text())) == {first["key"], precision_probe.probe_key(other)}
    probing.unlink()  # what README says to do: rm ~/.cache/foldwise/precision.json
    monkeypatch.setattr(precision_probe, "_known", {})
    steps_taking(monkeypatch, fp32=1.0, bf16=2.0)
    assert resolve(cfg, backbone, head)["computed_in"] == "fp32"  # measured again: slower now


def test_no_probe_when_asked_on_a_gpu_or_switched_off(probing, monkeypatch):
    no_clock(monkeypatch)
    cfg, _, _ = encoder(precision="fp32")
    assert precision_probe.resolve(cfg, CPU, never_probe) == {"asked": "fp32", "by": "asked", "computed_in": "fp32"}
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    gpu = precision_probe.resolve(encoder()[0], torch.device("cuda"), never_probe)
    assert gpu["computed_in"] == "bf16" and gpu["by"].startswith("gpu")
    monkeypatch.setattr(precision, "cpu_has_amx", lambda: True)
    assert precision_probe.resolve(encoder()[0], CPU, never_probe, world_size=2)["by"] == "cpu flags: AMX bf16 yes"
    monkeypatch.setenv(precision_probe.PROBE_ENV, "off")
    off = precision_probe.resolve(encoder()[0], CPU, never_probe)
    assert off == {"asked": "auto", "by": "cpu flags: AMX bf16 yes", "computed_in": "bf16"}
    assert not probing.exists()


def test_a_fit_records_its_verdict_and_trains_the_same_whether_it_measured_or_read_the_cache(probing, monkeypatch):
    cfg, backbone, head = encoder(max_steps=2, epochs=1)
    steps_taking(monkeypatch, fp32=1.0, bf16=0.5)
    measured = training.fit(backbone, head, 0, TEXTS, LABELS)
    monkeypatch.setattr(precision_probe, "_known", {})
    no_clock(monkeypatch)
    cached = training.fit(backbone, head, 0, TEXTS, LABELS)
    assert measured.precision == cached.precision and measured.precision["computed_in"] == "bf16"
    assert [r["train_loss"] for r in measured.history] == [r["train_loss"] for r in cached.history]
    assert all(
        torch.equal(a, b) for a, b in zip(measured.model.state_dict().values(), cached.model.state_dict().values())
    )


def test_llm_probe_times_bf16_with_the_frozen_base_in_bf16_and_the_verdict_sets_the_base_dtype(probing, monkeypatch):
    monkeypatch.setattr(precision, "cpu_has_amx", lambda: False)
    cfg = LlmConfig(num_hidden_layers=2, max_length=24, batch_size=8, lora_r=4)
    backbone, head = LlmBackbone(cfg), ClassificationHead("multilabel", 3, cfg)
    assert base_dtype(cfg, CPU) is torch.float32  # unmeasured, no AMX: fp32
    probe = training._precision_probe(backbone, head, TEXTS, LABELS, CPU)
    assert probe.frozen_in_bf16 and {p.dtype for p in probe.module.parameters()} == {torch.float32}
    steps_taking(monkeypatch, fp32=1.0, bf16=0.5)
    record = precision_probe.resolve(cfg, CPU, lambda: probe)
    assert record["computed_in"] == "bf16" and record["measurement"]["agree"]
    assert base_dtype(cfg, CPU) is torch.bfloat16


class Bf16Fails(torch.nn.Module):
    """A model with an operation that has no bf16 kernel: it raises under autocast."""

    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(50, 4)

    def forward(self, input_ids, attention_mask, labels):
        if torch.is_autocast_enabled("cpu"):
            raise RuntimeError("no bf16 kernel for this operation\nmore detail")
        logits = self.embed(input_ids).mean(1)
        return {"logits": logits, "loss": torch.nn.functional.mse_loss(logits, labels)}


def test_a_model_that_fails_in_bf16_keeps_fp32_and_says_why(probing, monkeypatch, capsys):
    cfg = encoder()[0]
    ids = torch.arange(12).reshape(3, 4)
    probe = precision_probe.Probe(
        Bf16Fails(), {"input_ids": ids, "attention_mask": ids > -1, "labels": torch.ones(3, 4)}
    )
    steps_taking(monkeypatch, fp32=1.0, bf16=0.5)  # only one fp32 step is timed
    record = precision_probe.resolve(cfg, CPU, lambda: probe)
    assert record["computed_in"] == "fp32" and record["measurement"]["error"] == "no bf16 kernel for this operation"
    assert record["measurement"]["step_seconds"] == {"fp32": [1.0], "bf16": []}
    assert "bf16 failed (no bf16 kernel for this operation): fp32" in capsys.readouterr().out
