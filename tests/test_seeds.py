"""``seeds: [..]``: each fold trains once per seed and keeps the average; fingerprints, saved models and
packaged submissions follow."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from conftest import TINY_TFIDF, foldwise_cli, toy_frames, write_competition, write_configs

from foldwise.experiment import load_experiment
from foldwise.stages import cv


class SeededModel:
    """A fake fold model whose probabilities are its seed / 100 everywhere."""

    history_ = None
    valid_preds_ = None
    precision_ = None

    def __init__(self, seed: int, n_labels: int):
        self.seed, self.n_labels = seed, n_labels

    def fit(self, *args):
        pass

    def predict(self, texts):
        return np.full((len(texts), self.n_labels), self.seed / 100, dtype=np.float32)


def test_each_fold_averages_its_seeds(in_tmp, monkeypatch):
    train, test = toy_frames()
    write_competition(in_tmp / "data" / "toy", train, test)
    write_configs(
        in_tmp,
        {"toy": "name: toy\ntask: multilabel\nfolds: {n_splits: 3, seed: 0}\n"},
        {"words": "data: toy\nseeds: [10, 30]\n" + TINY_TFIDF},
    )
    foldwise_cli("folds", "toy")
    built = []
    monkeypatch.setattr(
        cv,
        "build_model",
        lambda model_cfg, task, n_labels, seed, **kw: (
            built.append((seed, kw["workdir"].name)) or SeededModel(seed, n_labels)
        ),
    )
    cfg = load_experiment("configs/words.yaml")
    cv.run_cv(cfg)
    assert sorted(built) == sorted([(10 + k, f"fold_{k}") for k in range(3)] + [(30 + k, "seed_30") for k in range(3)])
    oof = np.loadtxt("runs/words/oof.csv", delimiter=",", skiprows=1, usecols=(1, 2, 3))
    folds = np.loadtxt("folds/toy.csv", delimiter=",", skiprows=1, usecols=1, dtype=str)
    for k in range(3):  # fold k's rows: the mean of seeds 10 + k and 30 + k
        np.testing.assert_allclose(oof[folds == str(k)], (20 + k) / 100, atol=1e-6)
    one_seed = load_experiment("configs/words.yaml", ["seeds=[10]"])
    assert one_seed.training_fingerprint() != cfg.training_fingerprint()
    without = load_experiment("configs/words.yaml", ["seeds=null"]).to_dict()
    assert "seeds" not in cv.training_settings(without)  # runs without seeds keep their fingerprints


def test_a_multi_seed_run_saves_every_seed_and_its_package_re_makes_the_submission(tmp_path):
    train, test = toy_frames()
    write_competition(tmp_path / "data" / "toy", train, test)
    write_configs(
        tmp_path,
        {"toy": "name: toy\ntask: multilabel\nfolds: {n_splits: 3, seed: 0}\n"},
        {"words": "data: toy\nsave_models: true\nseeds: [1, 2]\n" + TINY_TFIDF},
    )
    for args in (("folds", "toy"), ("train", "configs/words.yaml"), ("ensemble", "words"), ("package", "words")):
        foldwise_cli(*args, cwd=tmp_path)
    assert (tmp_path / "runs" / "words" / "fold_2" / "seed_2" / "model" / "model.joblib").exists()
    bundle = tmp_path / "packages" / "words"
    assert (bundle / "runs" / "words" / "fold_2" / "seed_2" / "model" / "model.joblib").exists()
    # the bundle's predict.py in a process of its own: that it runs alone is what is tested
    done = subprocess.run(
        [
            sys.executable,
            str(bundle / "predict.py"),
            "--test",
            str(tmp_path / "data" / "toy" / "test.csv"),
            "--sample",
            str(tmp_path / "data" / "toy" / "sample_submission.csv"),
            "--out",
            str(tmp_path / "made.csv"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "made.csv").read_bytes() == (tmp_path / "submissions" / "words.csv").read_bytes()
    assert json.loads((tmp_path / "runs" / "words" / "run.json").read_text())["n_splits"] == 3
    assert Path(tmp_path / "runs" / "words" / "config.yaml").read_text().count("seeds") == 1


class NoisyModel(SeededModel):
    """A fake fold model that knows the keyword rule, blurred by noise its seed fixes."""

    KEYWORDS = (("happy", "glad"), ("angry", "mad"), ("scared", "afraid"))

    def predict(self, texts):
        truth = np.array([[any(w in t for w in words) for words in self.KEYWORDS] for t in texts], dtype=float)
        noise = np.random.default_rng(self.seed).normal(0, 0.45, truth.shape)
        return np.clip(0.25 + 0.5 * truth + noise, 0, 1).astype(np.float32)


def test_each_seed_is_scored_alone_beside_the_average(in_tmp, monkeypatch, capsys):
    train, test = toy_frames(n_train=150)
    write_competition(in_tmp / "data" / "toy", train, test)
    write_configs(
        in_tmp,
        {"toy": "name: toy\ntask: multilabel\nfolds: {n_splits: 3, seed: 0}\n"},
        {"words": "data: toy\nseeds: [1, 2, 3]\n" + TINY_TFIDF},
    )
    foldwise_cli("folds", "toy")
    real_model = cv.build_model
    monkeypatch.setattr(cv, "build_model", lambda model_cfg, task, n_labels, seed, **kw: NoisyModel(seed, n_labels))
    cv.run_cv(load_experiment("configs/words.yaml"))
    record = json.loads(Path("runs/words/seeds.json").read_text())
    metrics = json.loads(Path("runs/words/metrics.json").read_text())
    assert [r["seed"] for r in record["seeds"]] == [1, 2, 3]
    for seed in (1, 2, 3):  # a seed's own predictions of fold k, not the average
        saved = np.load(f"runs/words/fold_2.seed_{seed}.npz")["valid_probs"]
        np.testing.assert_allclose(
            saved,
            NoisyModel(seed + 2, 3).predict(
                list(train.text[np.isin(train.id, np.load("runs/words/fold_2.npz")["valid_ids"])])
            ),
            atol=1e-6,
        )
    alone = [r["score_crossfit"] for r in record["seeds"]]
    assert len(set(alone)) == 3 and record["averaged"]["score_crossfit"] == metrics["score_crossfit"]
    assert abs(record["gain_over_mean_seed"] - (metrics["score_crossfit"] - np.mean(alone))) < 1e-9
    assert record["gain_over_mean_seed"] > 0  # averaging three noisy seeds blurs less than one
    assert "seeds alone (macro_f1, OOF cross-fitted): 1 " in capsys.readouterr().out
    from foldwise.stages.benchmarks import _seed_scores  # a benchmark record shows the same figures

    assert _seed_scores("words") == {
        "single_seed_mean": round(np.mean(alone), 4),
        "seed_gain": round(record["gain_over_mean_seed"], 4),
    }
    assert record["seeds_identical"] is False
    cv.run_cv(load_experiment("configs/words.yaml", ["seeds=[1]", "name=one"]))
    assert not Path("runs/one/seeds.json").exists()
    monkeypatch.setattr(cv, "build_model", real_model)  # TF-IDF: deterministic, one model trained thrice
    cv.run_cv(load_experiment("configs/words.yaml", ["name=tfidf"]))
    assert json.loads(Path("runs/tfidf/seeds.json").read_text())["seeds_identical"] is True
    assert "every seed predicted the same" in capsys.readouterr().out
