import re

import pytest

from foldwise.config import apply_overrides
from foldwise.errors import FoldwiseError
from foldwise.experiment import load_dataset_configs, load_experiment


def write(tmp_path, text, name="exp.yaml"):
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "toy.yaml").write_text("name: toy\nfolds: {n_splits: 3}\n")
    path = tmp_path / name
    path.write_text(text)
    return path


def test_experiment_resolves_data_by_name_and_overrides(tmp_path):
    path = write(tmp_path, "data: toy\nmodel:\n  kind: tfidf\n  C: 2\n")
    cfg = load_experiment(path, ["model.C=0.5", "data.max_train_rows=10", "text.demojize=true"])
    assert cfg.name == "exp"
    assert cfg.data.name == "toy" and cfg.data.folds.n_splits == 3 and cfg.data.max_train_rows == 10
    assert cfg.model.C == 0.5 and isinstance(cfg.model.C, float)
    assert cfg.text.demojize is True
    assert cfg.to_dict()["model"]["kind"] == "tfidf"


@pytest.mark.parametrize(
    "text, overrides, message",
    [
        ("data: toy\nmodel: {kind: tfidf, Cee: 1}\n", [], "unknown key 'model.Cee'"),
        ("data: toy\nmodel: {kind: tfidf}\ntext: {demojise: true}\n", [], "unknown key 'text.demojise'"),
        ("data: toy\nmodel: {kind: tfidf}\n", ["data.foldz.n=2"], "unknown key 'data.foldz'"),
        ("data: toy\nmodel: {kind: nope}\n", [], "unknown model.kind 'nope'"),
        ("data: toy\nmodel: {C: 1}\n", [], "missing key 'model.kind'"),
        ("data: toy\nmodel: {kind: tfidf, C: fast}\n", [], "key 'model.C' has value 'fast', expected float"),
        ("data: toy\nmodel: {kind: tfidf}\nthresholds: {mode: best}\n", [], "expected one of"),
        ("data: missing\nmodel: {kind: tfidf}\n", [], "missing.yaml: config file not found"),
        ("data: toy\nmodel: [oops\n", [], "invalid YAML"),
        ("data: toy\nmodel: {kind: tfidf}\n", ["model.C={1"], "'model.C={1': the value is not valid YAML"),
        (
            "data: toy\nmodel: {kind: tfidf}\n",
            ["model=tfidf"],
            "--set model=tfidf: 'model' must be a mapping with a 'kind' key",
        ),
        ("data: toy\nmodel: {kind: tfidf}\n", ["model={C: 2}"], "--set model={C: 2}: missing key 'model.kind'"),
        (
            "data: toy\nseeds: [1, 2, 1]\nmodel: {kind: tfidf}\n",
            [],
            "exp.yaml: key 'seeds' lists seed 1 more than once",
        ),
        (
            "data: toy\nmodel: {kind: tfidf}\n",
            ["seeds=[3, 3]"],
            "--set seeds=[3, 3]: key 'seeds' lists seed 3 more than once",
        ),
        ("data: toy\nmodel: {kind: tfidf}\n", ["data=3"], "'data' must be a mapping, got 3"),
        ("data: 3\nmodel: {kind: tfidf}\n", [], "'data' must be a dataset name or a mapping, got 3"),
        ("data: toy\nmodel: {kind: tfidf}\n", ["data=missing"], "missing.yaml: config file not found"),
        ("data: toy\nmodel: {kind: tfidf}\n", ["data.name=missing"], "missing.yaml: config file not found"),
        ("data: toy\nmodel: {kind: tfidf, C: 0}\n", [], "key 'model.C' is 0.0, must be > 0"),
        ("data: toy\nmodel: {kind: tfidf, C: .nan}\n", [], "key 'model.C' is nan, must be > 0"),
        (
            "data: toy\nmodel: {kind: tfidf, char_ngram_range: [0, 3]}\n",
            [],
            "'model.char_ngram_range' is [0, 3], must be >= 1",
        ),
        ("data: toy\nmodel: {kind: tfidf, word_ngram_range: [1, 2, 3]}\n", [], "must be [] or [min, max]"),
        ("data: toy\nmodel: {kind: tfidf, class_weight: balance}\n", [], "expected one of ['balanced']"),
        (
            "data: toy\nmodel: {kind: tfidf}\n",
            ["data.max_train_rows=all"],
            "'data.max_train_rows' has value 'all', expected int",
        ),
        ("data: toy\nmodel: {kind: tfidf}\n", ["thresholds.value=-0.1"], "'thresholds.value' is -0.1, must be >= 0"),
        ("data: toy\nmodel: {kind: tfidf}\n", ["data.folds.n_splits=1"], "'data.folds.n_splits' is 1, must be >= 2"),
        ("data: toy\nmodel: {kind: transformer, warmup_ratio: 2}\n", [], "'model.warmup_ratio' is 2.0, must be <= 1"),
        ("data: toy\nmodel: {kind: transformer, max_length: 0}\n", [], "'model.max_length' is 0, must be >= 1"),
    ],
)
def test_config_errors_name_the_key(tmp_path, text, overrides, message):
    with pytest.raises(FoldwiseError, match=re.escape(message)):
        load_experiment(write(tmp_path, text), overrides)


@pytest.mark.parametrize("pick", [["data=other"], ["data.name=other"]])
def test_set_data_by_name_loads_that_data_config(tmp_path, pick):
    path = write(tmp_path, "data: toy\nmodel: {kind: tfidf}\n")
    (tmp_path / "data" / "other.yaml").write_text("task: multiclass\nfolds: {n_splits: 4}\nkaggle_competition: o\n")
    for overrides in (pick + ["data.max_train_rows=7"], ["data.max_train_rows=7"] + pick):  # any order
        cfg = load_experiment(path, overrides)
        assert cfg.data.name == "other"  # the file's stem when it has no name: key
        assert cfg.data.task == "multiclass" and cfg.data.folds.n_splits == 4 and cfg.data.kaggle_competition == "o"
        assert cfg.data.max_train_rows == 7  # other data.* overrides apply on top


def test_dataset_configs_from_names_and_experiments(tmp_path):
    write(tmp_path, "data: toy\nmodel: {kind: tfidf}\n", name="a.yaml")
    write(
        tmp_path, "data: {name: toy, max_train_rows: 10, folds: {n_splits: 3}}\nmodel: {kind: tfidf}\n", name="b.yaml"
    )
    (tmp_path / "data" / "other.yaml").write_text("folds: {n_splits: 4}\n")
    configs = load_dataset_configs(
        [str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml"), "other"], ["folds.seed=9"], configs_dir=tmp_path
    )
    assert [(c.name, c.folds.n_splits, c.folds.seed, c.max_train_rows) for c in configs] == [
        ("toy", 3, 9, None),
        ("other", 4, 9, None),
    ]  # one per distinct dataset, all rows


def test_override_syntax():
    assert apply_overrides({}, ["a.b=[1, 2]", "c=x"]) == {"a": {"b": [1, 2]}, "c": "x"}
    with pytest.raises(FoldwiseError, match="not of the form key=value"):
        apply_overrides({}, ["novalue"])


def test_fingerprint_ignores_thresholds_but_not_model(tmp_path):
    path = write(tmp_path, "data: toy\nmodel: {kind: tfidf}\n")
    base = load_experiment(path).training_fingerprint()
    assert load_experiment(path, ["thresholds.mode=global"]).training_fingerprint() == base
    assert load_experiment(path, ["model.C=1"]).training_fingerprint() != base


def test_fingerprint_ignores_the_metric_and_submission_format(tmp_path):
    path = write(tmp_path, "data: toy\nmodel: {kind: tfidf}\n")
    base = load_experiment(path).training_fingerprint()
    changed = load_experiment(path, ["data.metric=jaccard", "data.submission_format=label_list"])
    assert changed.data.metric == "jaccard" and changed.training_fingerprint() == base


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["data.metric=f2"], "key 'data.metric' is 'f2', not a known metric (known: accuracy, f1, jaccard"),
        (
            ["data.task=multilabel", "data.metric=accuracy"],
            "key 'data.metric' is 'accuracy', which does not fit multilabel data",
        ),
        (["data.task=multiclass", "data.metric=jaccard"], "'jaccard', which does not fit multiclass data"),
        (["data.submission_format=csv"], "key 'data.submission_format' is 'csv', expected one of"),
    ],
)
def test_metric_that_is_unknown_or_does_not_fit_the_task_is_one_line(tmp_path, overrides, message):
    path = write(tmp_path, "data: toy\nmodel: {kind: tfidf}\n")
    with pytest.raises(FoldwiseError) as err:
        load_experiment(path, overrides)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_repo_configs_load():
    from pathlib import Path

    for path in (Path(__file__).parents[1] / "configs").glob("*.yaml"):
        load_experiment(path)


def test_fingerprint_ignores_keys_left_at_none_and_post_training_keys(tmp_path):
    from foldwise.config import training_settings

    path = tmp_path / "e.yaml"
    path.write_text("data: {name: toy}\nmodel: {kind: tfidf}\n")
    resolved = load_experiment(path).to_dict()
    base = training_settings(resolved)
    later = dict(resolved, data={**resolved["data"], "a_new_optional_key": None, "metric": "jaccard"})
    assert training_settings(later) == base  # runs trained before an optional key was added stay valid
    changed = dict(resolved, data={**resolved["data"], "max_train_rows": 10})
    assert training_settings(changed) != base


def test_fingerprint_change_names_what_differs():
    from foldwise.config import fingerprint_change

    assert fingerprint_change("c1-d1", "c1-d1") == "the same config and data"
    assert fingerprint_change("c1-d1", "c2-d1") == "another config"
    assert fingerprint_change("c1-d1", "c1-d2") == "other data (ids, texts or labels changed since)"
    assert fingerprint_change(None, "c1-d1") == "another config and other data (ids, texts or labels changed since)"
    # a fingerprint without its data part (the kit's first days) is other data, as any other
    assert fingerprint_change("c1", "c1-d1") == "other data (ids, texts or labels changed since)"


def test_a_data_config_is_not_checked_without_the_registries_that_check_it(monkeypatch):
    """The metric and task-key checks live above config; with none registered, building a data
    config refuses instead of skipping them."""
    from foldwise import config

    monkeypatch.setattr(config, "DATA_CHECKS", [])
    with pytest.raises(RuntimeError, match="registries are not loaded"):
        config.build(config.DataConfig, {"metric": "nope"}, "x.yaml")
    monkeypatch.setattr(config, "GENERATED_HELP", {})
    with pytest.raises(RuntimeError, match="registries are not loaded"):
        config.describe_keys(config.DataConfig)
