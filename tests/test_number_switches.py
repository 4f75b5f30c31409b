"""Every switch on a competition scored on numbers (regression, ordinal scores): ``seeds``, ``distill``,
``pseudo_labels``, ``predict``, ``runs`` and ``remote``, end to end with TF-IDF ridge."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import TINY_TFIDF, foldwise_cli, write_competition, write_configs
from test_remote import NO_KAGGLE, run_kernel

from foldwise.experiment import load_experiment
from foldwise.stages import cv

#: dataset -> (task, metric, target column)
DATASETS = {"essays": ("ordinal", "qwk", "score"), "ease": ("regression", "rmse", "ease")}


def number_rows(n: int, seed: int, prefix: str) -> pd.DataFrame:
    """A score of 1 to 6 per text, said by how many of its words are long, and a real number beside it."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        level = int(rng.integers(1, 7))
        words = ["notwithstanding"] * level + ["cat"] * (7 - level) + [f"w{j}" for j in rng.integers(50, size=3)]
        rng.shuffle(words)
        rows.append({"id": f"{prefix}{i}", "text": " ".join(words), "score": level, "ease": level + rng.normal(0, 0.3)})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def numbers(tmp_path_factory) -> Path:
    """Two competitions of numbers, each with a TF-IDF teacher (fold models kept) blended alone."""
    root = tmp_path_factory.mktemp("numbers")
    train, test = number_rows(90, 0, "r"), number_rows(20, 1, "t")
    experiments = {}
    for name, (kind, metric, target) in DATASETS.items():
        other = ({"score", "ease"} - {target}).pop()
        sample = test[["id"]].assign(**{target: 3})
        write_competition(root / "data" / name, train.drop(columns=other), test[["id", "text"]], sample)
        experiments[f"{name}-teacher"] = f"data: {name}\nsave_models: true\n" + TINY_TFIDF
        experiments[f"{name}-distilled"] = f"data: {name}\ndistill: {{teacher: {name}-teacher, weight: 0.5}}\n"
        experiments[f"{name}-pseudo"] = (
            f"data: {name}\npseudo_labels: {{teacher: {name}-teacher, min_agreement: 0.5}}\n"
        )
    experiments = {k: v if "model:" in v else v + TINY_TFIDF for k, v in experiments.items()}
    data = {
        name: f"name: {name}\ntask: {kind}\nmetric: {metric}\nkaggle_competition: {name}-comp\n"
        "folds: {n_splits: 3, seed: 0}\n"
        for name, (kind, metric, _) in DATASETS.items()
    }
    write_configs(root, data, experiments)
    for name in DATASETS:
        for args in (("folds", name), ("train", f"configs/{name}-teacher.yaml"), ("ensemble", f"{name}-teacher")):
            foldwise_cli(*args, cwd=root, env=NO_KAGGLE)
    return root


@pytest.fixture
def project(numbers: Path, tmp_path: Path) -> Path:
    """A copy of the project of this test's own."""
    return Path(shutil.copytree(numbers, tmp_path / "numbers", copy_function=shutil.copy2))


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_a_student_of_numbers_distils_and_pseudo_labels_end_to_end(project, name):
    target = DATASETS[name][2]
    distilled = foldwise_cli("train", f"configs/{name}-distilled.yaml", cwd=project).stdout
    assert re.search(rf"fold 0: runs/{name}-teacher's fold-0 models predict the 60 training rows", distilled)
    pseudo = foldwise_cli("train", f"configs/{name}-pseudo.yaml", cwd=project).stdout
    assert "fold 2: 10 of 20 test rows pseudo-labelled (hard, the 50% its 3 fold models agree on most" in pseudo
    teacher = pd.read_csv(project / "runs" / f"{name}-teacher" / "oof.csv")[target]
    for student in ("distilled", "pseudo"):
        oof = pd.read_csv(project / "runs" / f"{name}-{student}" / "oof.csv")
        assert len(oof) == 90 and not np.allclose(oof[target], teacher)  # the students learnt something else


class NoisyNumbers:
    """A fake fold model that knows each text's level, blurred by noise its seed fixes."""

    history_ = None
    valid_preds_ = None
    precision_ = None

    def __init__(self, seed: int):
        self.seed = seed

    def fit(self, *args):
        pass

    def predict(self, texts):
        level = np.array([[t.split().count("notwithstanding")] for t in texts], dtype=float)
        return (level + np.random.default_rng(self.seed).normal(0, 0.8, level.shape)).astype(np.float32)


def test_seeds_of_numbers_are_averaged_and_an_error_falls_as_a_gain(project, monkeypatch):
    monkeypatch.chdir(project)
    monkeypatch.setattr(cv, "build_model", lambda model_cfg, task, n_labels, seed, **kw: NoisyNumbers(seed))
    cv.run_cv(load_experiment("configs/ease-teacher.yaml", ["seeds=[1, 2, 3]", "name=seeded", "save_models=false"]))
    record = json.loads(Path("runs/seeded/seeds.json").read_text())
    metrics = json.loads(Path("runs/seeded/metrics.json").read_text())
    alone = [r["score"] for r in record["seeds"]]
    assert (record["metric"], record["greater_is_better"]) == ("rmse", False)
    assert metrics["score"] < min(alone)  # three noisy seeds averaged err less than any one
    assert record["gain_over_mean_seed"] == pytest.approx(np.mean(alone) - metrics["score"])
    assert record["gain_over_mean_seed"] > 0 and record["best_single_seed"] == min(alone)


def test_predict_prints_the_number_and_the_ordinal_level(numbers):
    texts = ["cat cat cat notwithstanding cat cat", "notwithstanding notwithstanding notwithstanding cat"]
    out = foldwise_cli("predict", "essays-teacher", *texts, cwd=numbers).stdout
    lines = re.findall(r"  score: (\d+) \(predicted (-?[\d.]+)\)", out)
    assert len(lines) == 2 and int(lines[0][0]) < int(lines[1][0])
    rule = json.loads((numbers / "runs" / "essays-teacher" / "thresholds.json").read_text())["cuts"]["score"]
    for level, value in lines:  # the level the run's fitted cuts give the printed number
        assert float(level) == rule["levels"][np.searchsorted(rule["cuts"], float(value), side="right")]
    out = foldwise_cli("predict", "--json", "ease-teacher", texts[0], cwd=numbers).stdout
    record = json.loads(out)[0]
    assert set(record) == {"text", "predicted", "decided"} and set(record["predicted"]) == {"ease"}


def test_runs_rank_an_error_lowest_first(project):
    foldwise_cli(
        "train", "configs/ease-teacher.yaml", "--set", "model.alpha=30", "--set", "name=ease-stiff", cwd=project
    )
    listed = foldwise_cli("runs", "--sort", "score", "--dataset", "ease", cwd=project).stdout
    names = [line.split()[1] for line in listed.splitlines()[1:] if line.startswith("run ")]
    scores = {n: json.loads((project / "runs" / n / "metrics.json").read_text())["score"] for n in names}
    assert set(names) == {"ease-teacher", "ease-stiff"} and names == sorted(names, key=scores.get)


def test_a_kernel_trains_a_regression_experiment_and_its_run_joins_local_runs(project):
    foldwise_cli("remote", "kaggle", "configs/ease-teacher.yaml", "--build-only", cwd=project, env=NO_KAGGLE)
    local_oof = (project / "runs" / "ease-teacher" / "oof.csv").read_bytes()
    output = run_kernel(project, project / "remote" / "ease-teacher", "ease", project / "data" / "ease")
    foldwise_cli("remote", "kaggle", "configs/ease-teacher.yaml", "--output", str(output), cwd=project, env=NO_KAGGLE)
    assert (project / "runs" / "ease-teacher" / "oof.csv").read_bytes() == local_oof
    foldwise_cli("ensemble", "ease-teacher", cwd=project, env=NO_KAGGLE)  # the pulled run blends like a local one
