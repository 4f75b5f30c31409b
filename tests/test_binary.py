"""Binary competitions (one 0/1 target), the binary metrics, task inference, post-processing
keys read from the current config, and probability calibration for log loss."""

import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import foldwise_cli
from sklearn import metrics as sk

from foldwise.config import DataConfig, ThresholdConfig
from foldwise.data.competition import infer_task
from foldwise.errors import FoldwiseError
from foldwise.tasks import metrics, task_for
from foldwise.tasks.classification import report
from foldwise.tasks.classification.calibration import PlattScaling, TemperatureScaling
from foldwise.tasks.classification.decisions import decider_from_record, decider_record, make_decider
from foldwise.tasks.classification.submission import decimals_summing_to_one

TFIDF = "model: {kind: tfidf, word_min_df: 1, char_ngram_range: [], n_jobs: 1}\n"
DANGER, CALM = "fire flood storm crash smoke".split(), "song dinner movie garden lunch".split()


def tweets(n: int, prefix: str, seed: int) -> pd.DataFrame:
    """Disaster-tweet-like rows: keyword (often blank), location (blank), text, 0/1 target."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        y = int(rng.random() < 0.35)
        words = [(DANGER if (rng.random() < 0.75) == bool(y) else CALM)[rng.integers(5)] for _ in range(3)]
        rows.append(
            {
                "id": f"{prefix}{i}",
                "keyword": "" if rng.random() < 0.5 else words[0],
                "location": "",
                "text": "we saw " + " ".join(words),
                "target": y,
            }
        )
    return pd.DataFrame(rows)


def binary_project(root: Path, data_keys: str = "metric: f1\n") -> Path:
    """A Getting-Started-shaped competition: sample ``id,target`` of 0s; a data config with only
    name, dir, text_columns and the metric; a TF-IDF experiment ``tw-words``."""
    folder = root / "data" / "tw"
    folder.mkdir(parents=True)
    train, test = tweets(240, "a", 0), tweets(60, "b", 1)
    train.to_csv(folder / "train.csv", index=False)
    test.drop(columns="target").to_csv(folder / "test.csv", index=False)
    pd.DataFrame({"id": test["id"], "target": 0}).to_csv(folder / "sample_submission.csv", index=False)
    test[["id", "target"]].to_csv(root / "solution.csv", index=False)
    (root / "configs" / "data").mkdir(parents=True)
    (root / "configs" / "data" / "tw.yaml").write_text(f"name: tw\ndir: data/tw\ntext_columns: [text]\n{data_keys}")
    (root / "configs" / "tw-words.yaml").write_text(f"data: tw\n{TFIDF}")
    return root


# --- a binary competition end to end ---


def test_a_binary_competition_runs_from_name_dir_text_and_metric(tmp_path):
    root = binary_project(tmp_path)
    folds = foldwise_cli("folds", "configs/tw-words.yaml", cwd=root).stdout
    assert "task: binary (inferred: one 0/1 label column 'target')" in folds
    out = foldwise_cli("train", "configs/tw-words.yaml", cwd=root).stdout
    assert "positive class" in out and "valid F1@0.5" in out and "MCC" in out
    record = json.loads((root / "runs" / "tw-words" / "metrics.json").read_text())
    assert record["task"] == "binary" and record["metric"] == "f1"
    assert record["score"] >= record["score_untuned"]  # the cut tuned on OOF is at least the 0.5 cut
    assert set(record["tuned"]) == {"f1", "accuracy", "mcc"}
    ens = foldwise_cli("ensemble", "tw-words", cwd=root).stdout
    assert "submission format: binary" in ens and "'target' holds 0/1" in ens
    sub = pd.read_csv(root / "submissions" / "tw-words.csv", dtype=str)
    assert list(sub.columns) == ["id", "target"] and set(sub["target"]) <= {"0", "1"}
    scored = foldwise_cli("score", "submissions/tw-words.csv", "--solution", "solution.csv", cwd=root).stdout
    assert ": F1 " in scored and "metric f1" in scored


def test_predict_reads_a_files_texts_as_the_run_joined_them(tmp_path):
    root = binary_project(tmp_path)
    (root / "configs" / "data" / "tw.yaml").write_text(
        "name: tw\ndir: data/tw\ntext_columns: [keyword, text]\nmetric: f1\n"
    )
    foldwise_cli("folds", "tw", cwd=root)
    foldwise_cli("train", "configs/tw-words.yaml", "--set", "save_models=true", cwd=root)
    pd.DataFrame({"keyword": ["fire", ""], "text": ["we saw song", "we saw song"]}).to_csv(
        root / "new.csv", index=False
    )
    out = foldwise_cli("predict", "tw-words", "--file", "new.csv", "--json", cwd=root).stdout
    first, second = json.loads(out)
    assert first["text"] == "fire | we saw song" and second["text"] == "we saw song"
    assert first["top"][0]["probability"] != second["top"][0]["probability"]  # the keyword counts
    plain = foldwise_cli("predict", "tw-words", "we saw fire", cwd=root).stdout
    assert "predicted: target = " in plain
    missing = foldwise_cli("predict", "tw-words", "--file", "new.csv", "--text-column", "body", cwd=root, code=2)
    assert "missing column 'body'" in missing.stderr


def test_binary_folds_are_stratified_on_the_label(tmp_path):
    root = binary_project(tmp_path)
    foldwise_cli("folds", "tw", cwd=root)
    folds = pd.read_csv(root / "folds" / "tw.csv", dtype={"id": str})
    train = pd.read_csv(root / "data" / "tw" / "train.csv", dtype={"id": str})
    rates = train.merge(folds, on="id").groupby("fold")["target"].mean()
    assert rates.max() - rates.min() < 0.03  # StratifiedKFold: every fold has the same share of 1s


def test_a_binary_log_loss_competition_gets_platt_scaled_probabilities(tmp_path):
    root = binary_project(tmp_path, "metric: log_loss\n")
    # a strongly regularised model: flat probabilities that Platt scaling sharpens out of fold too
    (root / "configs" / "tw-words.yaml").write_text(f"data: tw\n{TFIDF.replace('n_jobs: 1', 'n_jobs: 1, C: 0.05')}")
    foldwise_cli("folds", "tw", cwd=root)
    out = foldwise_cli("train", "configs/tw-words.yaml", cwd=root).stdout
    assert "raw" in out and "calibrated" in out
    ev = json.loads((root / "runs" / "tw-words" / "metrics.json").read_text())
    assert ev["decision"]["kind"] == "calibrated" and list(ev["decision"]["calibration"]["platt"]) == ["target"]
    assert ev["score"] < ev["score_untuned"]
    foldwise_cli("ensemble", "tw-words", cwd=root)
    cells = pd.read_csv(root / "submissions" / "tw-words.csv")["target"].to_numpy()
    raw = pd.read_csv(root / "submissions" / "tw-words.probs.csv")["target"].to_numpy()
    a, b = json.loads((root / "submissions" / "tw-words.json").read_text())["decision"]["calibration"]["platt"][
        "target"
    ]
    logit = np.log(raw) - np.log1p(-raw)
    np.testing.assert_allclose(cells, 1 / (1 + np.exp(-(a * logit + b))), rtol=1e-4)  # the calibrated ones
    assert not np.allclose(cells, raw, atol=1e-3)


# --- metrics ---


@pytest.mark.parametrize("seed", range(3))
def test_binary_metrics_equal_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    y = (rng.random((200, 1)) < 0.3).astype(np.uint8)
    probs = np.clip(y * 0.3 + rng.random((200, 1)) * 0.7, 0, 1)
    pred = (probs >= 0.5).astype(np.uint8)
    assert metrics.get_metric("f1", "binary").score(y, pred) == pytest.approx(sk.f1_score(y[:, 0], pred[:, 0]))
    assert metrics.get_metric("mcc", "binary").score(y, pred) == pytest.approx(
        sk.matthews_corrcoef(y[:, 0], pred[:, 0])
    )
    assert metrics.get_metric("macro_f1", "binary").score(y, pred) == pytest.approx(
        sk.f1_score(y[:, 0], pred[:, 0], average="macro")
    )
    assert metrics.get_metric("accuracy", "binary").score(y, pred) == pytest.approx(
        sk.accuracy_score(y[:, 0], pred[:, 0])
    )
    assert metrics.get_metric("roc_auc", "binary").score(y, probs) == pytest.approx(
        sk.roc_auc_score(y[:, 0], probs[:, 0])
    )
    assert metrics.get_metric("log_loss", "binary").score(y, probs) == pytest.approx(
        sk.log_loss(y[:, 0], np.clip(probs[:, 0], 1e-15, 1 - 1e-15))
    )


def test_mcc_of_a_constant_prediction_is_zero():
    y = np.array([[1], [0], [1], [0]])
    assert metrics.mcc(y, np.ones_like(y)) == 0.0 and metrics.mcc(y, y) == 1.0


@pytest.mark.parametrize("name", ["f1", "mcc", "macro_f1", "accuracy"])
def test_the_binary_cut_is_the_exact_best_for_its_metric(name):
    rng = np.random.default_rng(7)
    y = (rng.random((300, 1)) < 0.25).astype(np.uint8)
    probs = np.round(np.clip(0.35 * y + rng.random((300, 1)) * 0.65, 0, 1), 3)
    metric = metrics.get_metric(name, "binary")
    decider = make_decider(metric, "binary").fit(probs, y)
    brute = max(metric.score(y, (probs >= c).astype(np.uint8)) for c in np.r_[np.unique(probs), 1.01])
    assert decider.train_score_ == pytest.approx(brute)
    assert decider.train_score_ >= metric.score(y, (probs >= 0.5).astype(np.uint8))
    assert not decider.at_least_one_  # one column: "at least one label" would make every row positive


@pytest.mark.parametrize("name, task", [("f1", "multilabel"), ("mcc", "multiclass"), ("jaccard", "binary")])
def test_a_metric_that_does_not_fit_the_task_is_one_line(name, task):
    with pytest.raises(FoldwiseError, match=f"key 'data.metric' is '{name}', which does not fit {task} data"):
        metrics.get_metric(name, task)


def test_two_class_multiclass_with_a_class_averaged_metric_says_what_kaggle_usually_means():
    sample = pd.DataFrame({"id": ["a"], "label": ["yes"]})
    task = task_for(DataConfig(task="multiclass", metric="macro_f1"), ["no", "yes"], sample)
    hint = task.task_line.splitlines()[1]
    assert "task: binary" in hint and "metric: f1" in hint
    assert (
        len(task_for(DataConfig(task="multiclass", metric="accuracy"), ["no", "yes"], sample).task_line.splitlines())
        == 1
    )
    binary_sample = pd.DataFrame({"id": ["a"], "target": [0]})
    default = task_for(DataConfig(task="binary"), ["target"], binary_sample)  # metric left at macro_f1
    assert "on binary data averages over both classes" in default.task_line
    assert len(task_for(DataConfig(task="binary", metric="f1"), ["target"], binary_sample).task_line.splitlines()) == 1


def test_a_one_column_sample_of_class_names_asks_for_label_column():
    frame = pd.DataFrame({"id": ["1", "2"], "text": "t", "author": ["EAP", "HPL"]})
    with pytest.raises(FoldwiseError, match="column 'author' holds 'EAP', not 0/1: set label_column: author"):
        infer_task(DataConfig(), frame, pd.DataFrame({"id": ["9"], "author": ["EAP"]}), Path("train.csv"))


def test_calibration_not_kept_when_its_cross_fitted_loss_is_worse(monkeypatch):
    from foldwise.tasks.classification import task as classification

    rng = np.random.default_rng(6)
    y = rng.random((100, 1)) < 0.4
    probs = np.clip(np.where(y, 0.8, 0.2) + rng.normal(0, 0.1, y.shape), 0.01, 0.99)
    raw = metrics.binary_log_loss(y, probs)
    monkeypatch.setattr(classification, "crossfit_score", lambda *args: raw + 0.01)  # worse than raw out of fold
    sample = pd.DataFrame({"id": ["a"], "target": [0.5]})
    task = task_for(DataConfig(task="binary", metric="log_loss"), ["target"], sample)
    ev = task.evaluate(probs, y, np.arange(100) % 5, ThresholdConfig())
    assert ev.decision["kind"] == "probabilities" and ev.decision["calibration_not_kept"]["crossfit"] == raw + 0.01
    assert ev.score == pytest.approx(raw) and ev.score_crossfit is None
    np.testing.assert_array_equal(ev.decider.predict(probs), probs)  # the raw probabilities are submitted
    from foldwise.tasks.report import headline

    assert "calibration not kept" in headline(ev)


# --- task inference ---


@pytest.mark.parametrize(
    "train, sample, keys, expected",
    [
        ({"target": ["0", "1", "0"]}, ["target"], {}, "binary"),
        ({"a": ["1", "0", "0"], "b": ["0", "1", "1"]}, ["a", "b"], {}, "multiclass"),
        ({"a": ["1", "1", "0"], "b": ["0", "1", "1"]}, ["a", "b"], {}, "multilabel"),
        ({"author": ["EAP", "HPL", "EAP"]}, ["EAP", "HPL"], {"label_column": "author"}, "multiclass"),
        ({"genres": ["['x', 'y']", "['x']", "['y']"]}, ["x", "y"], {"label_column": "genres"}, "multilabel"),
        ({"genres": ["x|y", "x", "y"]}, ["genres"], {"label_column": "genres"}, "multilabel"),
        ({"label": ["1", "0", "0"]}, ["target"], {"label_column": "label"}, "binary"),
    ],
)
def test_task_auto_is_inferred_from_the_files(train, sample, keys, expected):
    frame = pd.DataFrame({"id": ["1", "2", "3"], "text": "t", **train})
    sample_frame = pd.DataFrame({"id": ["9"], **dict.fromkeys(sample, "0")})
    task, reason = infer_task(DataConfig(**keys), frame, sample_frame, Path("train.csv"))
    assert task == expected and reason.startswith("inferred: ")


def test_a_binary_label_column_is_submitted_under_the_sample_column(tmp_path):
    from foldwise.data.competition import load_competition

    folder = tmp_path / "c"
    folder.mkdir()
    pd.DataFrame({"id": ["1", "2", "3"], "text": ["a", "b", "c"], "label": ["1", "0", "1"]}).to_csv(
        folder / "train.csv", index=False
    )
    pd.DataFrame({"id": ["9"], "text": ["d"]}).to_csv(folder / "test.csv", index=False)
    pd.DataFrame({"id": ["9"], "target": [0]}).to_csv(folder / "sample_submission.csv", index=False)
    data = load_competition(DataConfig(dir=str(folder), label_column="label", metric="f1"))
    assert data.task == "binary" and data.label_names == ["target"]
    assert data.labels[:, 0].tolist() == [1, 0, 1]


def test_a_two_name_label_column_is_binary_with_its_positive_label(tmp_path):
    from foldwise.data.competition import load_competition

    folder = tmp_path / "sms"
    folder.mkdir()
    train = pd.DataFrame(
        {
            "id": ["1", "2", "3", "4"],
            "v2": ["win cash", "hi mum", "free prize", "ok"],
            "v1": ["spam", "ham", "spam", "ham"],
        }
    )
    train.to_csv(folder / "train.csv", index=False)
    pd.DataFrame({"id": ["9"], "v2": ["d"]}).to_csv(folder / "test.csv", index=False)
    pd.DataFrame({"id": ["9"], "spam": [0]}).to_csv(folder / "sample_submission.csv", index=False)
    cfg = DataConfig(dir=str(folder), text_columns=["v2"], label_column="v1", positive_label="spam", metric="f1")
    data = load_competition(cfg)
    assert data.task == "binary" and "positive_label 'spam'" in data.task_reason
    assert data.label_names == ["spam"] and data.labels[:, 0].tolist() == [1, 0, 1, 0]
    train.assign(v1=["spam", "ham", "eggs", "ham"]).to_csv(folder / "train.csv", index=False)
    with pytest.raises(FoldwiseError, match=r"column 'v1' holds 3 values \('eggs', 'ham', 'spam'\)"):
        load_competition(cfg)
    with pytest.raises(FoldwiseError, match="'spamm' is not a value of column 'v1'"):
        load_competition(DataConfig(dir=str(folder), text_columns=["v2"], label_column="v1", positive_label="spamm"))


def test_a_latin_1_competition_reads_with_data_encoding(tmp_path):
    from foldwise.data.competition import load_competition

    folder = tmp_path / "sms"
    folder.mkdir()
    (folder / "train.csv").write_bytes("id,v1,v2\n1,spam,Gagnez un caf\xe9\n2,ham,d\xe9j\xe0 vu\n".encode("latin-1"))
    (folder / "test.csv").write_bytes("id,v2\n9,\xe9t\xe9\n".encode("latin-1"))
    (folder / "sample_submission.csv").write_text("id,spam\n9,0\n")
    keys = dict(dir=str(folder), text_columns=["v2"], label_column="v1", positive_label="spam")
    with pytest.raises(FoldwiseError, match="not UTF-8 text .*set data.encoding"):
        load_competition(DataConfig(**keys))
    data = load_competition(DataConfig(**keys, encoding="latin-1"))
    assert data.train_texts.tolist() == ["Gagnez un café", "déjà vu"] and data.test_texts.tolist() == ["été"]
    with pytest.raises(FoldwiseError, match="unknown encoding 'latin-9x'"):
        load_competition(DataConfig(**keys, encoding="latin-9x"))


@pytest.mark.parametrize(
    "keys, problem",
    [
        ({"positive_label": "spam"}, "no label_column"),
        ({"positive_label": "spam", "label_column": "v1", "task": "multiclass"}, "for task binary"),
    ],
)
def test_a_positive_label_that_cannot_apply_is_one_line(keys, problem):
    from foldwise.config import build

    with pytest.raises(FoldwiseError, match=f"key 'positive_label' .*{problem}"):
        build(DataConfig, {"metric": "accuracy", **keys}, "configs/data/sms.yaml")


# --- post-processing keys follow the current config ---


def test_ensemble_follows_the_current_metric_without_retraining(tmp_path):
    root = binary_project(tmp_path, "")  # trained without a metric: macro-F1 (both classes)
    foldwise_cli("folds", "tw", cwd=root)
    foldwise_cli("train", "configs/tw-words.yaml", "--name", "renamed", cwd=root)
    (root / "configs" / "data" / "tw.yaml").write_text(
        "name: tw\ndir: data/tw\ntext_columns: [text]\nmetric: log_loss\n"
    )
    out = foldwise_cli("ensemble", "renamed", cwd=root).stdout
    assert "post-processing from configs/tw-words.yaml" in out and "data.metric 'macro_f1' -> 'log_loss'" in out
    record = json.loads((root / "submissions" / "renamed.json").read_text())
    assert record["metric"] == "log_loss" and record["submission_format"] == "probabilities"
    (root / "configs" / "tw-words.yaml").write_text(f"data: tw\n{TFIDF}thresholds: {{mode: fixed}}\n")
    out = foldwise_cli("ensemble", "renamed", cwd=root).stdout
    assert "thresholds.mode 'auto' -> 'fixed'" in out
    assert json.loads((root / "submissions" / "renamed.json").read_text())["decision"]["kind"] == "probabilities"


# --- calibration ---


def test_temperature_scaling_recovers_the_temperature_that_sharpened_the_probabilities():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(4000, 3)) * 1.5
    true_p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = np.eye(3)[[rng.choice(3, p=p) for p in true_p]]
    sharp = np.exp(logits * 2.0) / np.exp(logits * 2.0).sum(axis=1, keepdims=True)  # overconfident by T = 2
    fitted = TemperatureScaling().fit(sharp, y)
    assert fitted.temperature_ == pytest.approx(2.0, rel=0.1)
    calibrated = fitted.predict(sharp)
    np.testing.assert_allclose(calibrated.sum(axis=1), 1.0)
    assert metrics.categorical_log_loss(y, calibrated) < metrics.categorical_log_loss(y, sharp)
    np.testing.assert_array_equal(calibrated.argmax(axis=1), sharp.argmax(axis=1))


def test_platt_scaling_lowers_the_log_loss_of_each_label_and_leaves_a_constant_label_alone():
    rng = np.random.default_rng(1)
    y = (rng.random((2000, 2)) < [0.3, 0.0]).astype(np.uint8)
    probs = np.clip(np.where(y, 0.9, 0.4) + rng.normal(0, 0.05, y.shape), 0.01, 0.99)
    fitted = PlattScaling().fit(probs, y)
    assert metrics.binary_log_loss(y[:, :1], fitted.predict(probs)[:, :1]) < metrics.binary_log_loss(
        y[:, :1], probs[:, :1]
    )
    np.testing.assert_array_equal(fitted.coef_[1], [1.0, 0.0])


@pytest.mark.parametrize("task", ["multiclass", "multilabel"])
def test_a_calibration_record_loads_back_to_the_same_probabilities(task):
    rng = np.random.default_rng(2)
    probs = rng.dirichlet(np.ones(3), 300) if task == "multiclass" else rng.random((300, 3))
    y = np.eye(3)[rng.integers(3, size=300)] if task == "multiclass" else (rng.random((300, 3)) < 0.4)
    metric = metrics.get_metric("log_loss", task)
    decider = make_decider(metric, task).fit(probs, y)
    record = json.loads(json.dumps(decider_record(decider, ["a", "b", "c"])))
    loaded = decider_from_record(record, metric, ["a", "b", "c"], "thresholds.json")
    np.testing.assert_allclose(loaded.predict(probs), decider.predict(probs))
    with pytest.raises(FoldwiseError, match="kind 'calibrated' needs 'calibration'"):
        decider_from_record({"kind": "calibrated"}, metric, ["a", "b", "c"], "thresholds.json")


def test_calibration_is_cross_fitted_in_the_evaluation():
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(600, 3)) * 2
    y = np.eye(3)[logits.argmax(axis=1)]
    y[rng.random(600) < 0.3] = np.eye(3)[rng.integers(3)]
    sharp = np.exp(logits * 3) / np.exp(logits * 3).sum(axis=1, keepdims=True)
    sample = pd.DataFrame({"id": ["a"], "x": [0.3], "y": [0.3], "z": [0.4]})
    task = task_for(DataConfig(task="multiclass", metric="log_loss"), ["x", "y", "z"], sample)
    ev = task.evaluate(sharp, y.astype(bool), np.arange(600) % 3, ThresholdConfig())
    assert ev.score < ev.score_crossfit < ev.score_untuned


def test_probability_rows_of_a_multiclass_submission_sum_to_exactly_one():
    rng = np.random.default_rng(4)
    probs = np.vstack(
        [rng.dirichlet(np.ones(5) * 0.1, 200), np.full((1, 5), 0.2), [[1 - 4e-12, 1e-12, 1e-12, 1e-12, 1e-12]]]
    )
    cells = decimals_summing_to_one(probs)
    assert all(sum(Decimal(c) for c in row) == 1 for row in cells)
    assert all(Decimal(c) > 0 for c in cells.ravel())  # never a 0 that log loss punishes without bound
    np.testing.assert_allclose(cells.astype(float), probs, atol=2e-9 * 5)


# --- reports of metrics scored on probabilities (ROC AUC, log loss) ---


@pytest.mark.parametrize("task", ["multilabel", "multiclass", "binary"])
def test_per_label_roc_auc_and_log_loss_equal_scikit_learn(task):
    rng = np.random.default_rng(11)
    n_labels = 1 if task == "binary" else 3
    if task == "multiclass":
        y = np.eye(3, dtype=np.uint8)[rng.integers(0, 3, 300)]
        probs = rng.dirichlet(np.ones(3), 300) * 0.6 + 0.4 * y
    else:
        y = (rng.random((300, n_labels)) < 0.3).astype(np.uint8)
        probs = np.clip(0.5 * y + 0.5 * rng.random(y.shape), 0.01, 0.99)
    auc = metrics.per_label_scores("roc_auc", task, y, probs)
    np.testing.assert_allclose(auc, [sk.roc_auc_score(y[:, j], probs[:, j]) for j in range(n_labels)])
    loss = metrics.per_label_scores("log_loss", task, y, probs)
    if task == "multiclass":  # each class's rows' -log p(true class); their row-weighted mean is the metric
        np.testing.assert_allclose(
            loss @ y.sum(axis=0) / len(y), sk.log_loss(y.argmax(1), probs / probs.sum(1, keepdims=True))
        )
    else:
        np.testing.assert_allclose(loss, [sk.log_loss(y[:, j], probs[:, j]) for j in range(n_labels)])


def test_a_roc_auc_report_shows_each_labels_auc_with_support_and_no_cuts(tmp_path):
    """Probabilities ranked perfectly but all below 0.5: AUC 1.0 per label, F1 at 0.5 would be 0.000
    (decisions nobody submits on an AUC competition); the table and the figure show AUC, no cuts."""
    rng = np.random.default_rng(3)
    y = (rng.random((120, 3)) < 0.3).astype(np.uint8)
    y[:, 2] = rng.random(120) < 0.5
    probs = 0.1 + 0.3 * y + 0.05 * rng.random(y.shape)
    probs[:, 2] = rng.random(120) * 0.4  # a label the model cannot rank: AUC near 0.5
    sample = pd.DataFrame({"id": ["x"], "a": [0.5], "b": [0.5], "c": [0.5]})
    task = task_for(DataConfig(task="multilabel", metric="roc_auc"), ["a", "b", "c"], sample)
    ev = task.evaluate(probs, y, np.arange(120) % 4, ThresholdConfig())
    table = task.report(ev, probs, y, tmp_path, "auc-run")
    lines = table.splitlines()
    assert lines[0].split() == ["label", "support", "ROC", "AUC"]
    assert [line.split()[:3] for line in lines[1:4]] == [
        ["a", str(y[:, 0].sum()), "1.0000"],
        ["b", str(y[:, 1].sum()), "1.0000"],
        ["c", str(y[:, 2].sum()), f"{sk.roc_auc_score(y[:, 2], probs[:, 2]):.4f}"],
    ]
    assert "cut" not in table and "F1 tuned" not in table and "0.000 " not in table
    assert (tmp_path / "per_class_f1.png").read_bytes()[:4] == b"\x89PNG"
    assert not (tmp_path / "threshold_curves.png").exists()
    # read back from metrics.json's plain data, as `runs` and the notebook do
    assert report.per_class_table(json.loads(json.dumps(ev.to_json()))) == table


def test_a_calibrated_log_loss_report_shows_each_labels_raw_and_calibrated_loss():
    rng = np.random.default_rng(5)
    y = (rng.random((200, 2)) < 0.4).astype(np.uint8)
    probs = np.clip(0.5 + 0.08 * (2 * y - 1) + rng.normal(0, 0.05, y.shape), 0.01, 0.99)  # flat: Platt sharpens
    sample = pd.DataFrame({"id": ["x"], "p": [0.5], "q": [0.5]})
    task = task_for(DataConfig(task="multilabel", metric="log_loss"), ["p", "q"], sample)
    ev = task.evaluate(probs, y, np.arange(200) % 5, ThresholdConfig())
    assert ev.decision["kind"] == "calibrated"
    table = report.per_class_table(ev)
    assert table.splitlines()[0].split() == ["label", "support", "raw", "calibrated"]
    calibrated = ev.decider.predict(probs)
    for j, name in enumerate("pq"):
        row = next(line.split() for line in table.splitlines() if line.split()[0] == name)
        assert row[2:] == [f"{sk.log_loss(y[:, j], probs[:, j]):.4f}", f"{sk.log_loss(y[:, j], calibrated[:, j]):.4f}"]
    assert "cut" not in table and "honest estimate" in table
