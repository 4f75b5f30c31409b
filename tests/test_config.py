import pytest

from foldwise.config import apply_overrides, load_experiment
from foldwise.errors import FoldwiseError


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


@pytest.mark.parametrize("text, overrides, message", [
    ("data: toy\nmodel: {kind: tfidf, Cee: 1}\n", [], "unknown key 'model.Cee'"),
    ("data: toy\nmodel: {kind: tfidf}\ntext: {demojise: true}\n", [], "unknown key 'text.demojise'"),
    ("data: toy\nmodel: {kind: tfidf}\n", ["data.foldz.n=2"], "unknown key 'data.foldz'"),
    ("data: toy\nmodel: {kind: nope}\n", [], "unknown model.kind 'nope'"),
    ("data: toy\nmodel: {C: 1}\n", [], "missing key 'model.kind'"),
    ("data: toy\nmodel: {kind: tfidf, C: fast}\n", [], "key 'model.C' has value 'fast', expected float"),
    ("data: toy\nmodel: {kind: tfidf}\nthresholds: {mode: best}\n", [], "expected one of"),
    ("data: missing\nmodel: {kind: tfidf}\n", [], "missing.yaml: config file not found"),
    ("data: toy\nmodel: [oops\n", [], "invalid YAML"),
])
def test_config_errors_name_the_key(tmp_path, text, overrides, message):
    with pytest.raises(FoldwiseError, match=message.replace("(", r"\(")):
        load_experiment(write(tmp_path, text), overrides)


def test_override_syntax():
    assert apply_overrides({}, ["a.b=[1, 2]", "c=x"]) == {"a": {"b": [1, 2]}, "c": "x"}
    with pytest.raises(FoldwiseError, match="not of the form key=value"):
        apply_overrides({}, ["novalue"])


def test_fingerprint_ignores_thresholds_but_not_model(tmp_path):
    path = write(tmp_path, "data: toy\nmodel: {kind: tfidf}\n")
    base = load_experiment(path).training_fingerprint()
    assert load_experiment(path, ["thresholds.mode=global"]).training_fingerprint() == base
    assert load_experiment(path, ["model.C=1"]).training_fingerprint() != base


def test_repo_configs_load():
    from pathlib import Path

    for path in (Path(__file__).parents[1] / "configs").glob("*.yaml"):
        load_experiment(path)
