import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, jaccard_score, log_loss, roc_auc_score

from foldwise.errors import FoldwiseError
from foldwise.tasks import metrics


def test_f1_scores_match_sklearn():
    rng = np.random.default_rng(0)
    y = (rng.random((200, 6)) < 0.2).astype(int)
    pred = (rng.random((200, 6)) < 0.25).astype(int)
    y[:, 5] = 0
    pred[:, 5] = 0  # no positives and no predictions: F1 0, as sklearn's zero_division=0
    np.testing.assert_allclose(metrics.f1_per_class(y, pred), f1_score(y, pred, average=None, zero_division=0))
    assert metrics.macro_f1(y, pred) == pytest.approx(f1_score(y, pred, average="macro", zero_division=0))
    assert metrics.micro_f1(y, pred) == pytest.approx(f1_score(y, pred, average="micro", zero_division=0))


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="shape mismatch"):
        metrics.macro_f1(np.zeros((3, 2)), np.zeros((3, 3)))


# --- the metric registry ---


def random_multilabel(seed, n=300, n_labels=7):
    """0/1 truth and decisions with empty rows on both sides and a label with no positives."""
    rng = np.random.default_rng(seed)
    y = (rng.random((n, n_labels)) < 0.25).astype(int)
    pred = (rng.random((n, n_labels)) < 0.3).astype(int)
    y[:, -1] = 0
    y[: n // 10] = 0  # rows with no true label ...
    pred[n // 20 : n // 5] = 0  # ... some also with no prediction, some with no truth but predictions
    return y, pred


def random_multiclass(seed, n=300, n_classes=5):
    """One-hot truth and softmax probabilities (with ties) of a single-label problem."""
    rng = np.random.default_rng(seed)
    classes = rng.integers(0, n_classes, n)
    logits = np.round(rng.normal(size=(n, n_classes)) + 1.5 * np.eye(n_classes)[classes], 1)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return np.eye(n_classes, dtype=int)[classes], probs


@pytest.mark.parametrize("seed", range(3))
def test_row_metrics_match_sklearn_with_empty_rows(seed):
    y, pred = random_multilabel(seed)
    assert ((y.sum(axis=1) == 0) & (pred.sum(axis=1) == 0)).any()  # empty/empty rows are in the test
    expected_f1 = f1_score(y, pred, average="samples", zero_division=1.0)
    expected_jaccard = jaccard_score(y, pred, average="samples", zero_division=1.0)
    assert metrics.samples_f1(y, pred) == pytest.approx(expected_f1)
    assert metrics.jaccard(y, pred) == pytest.approx(expected_jaccard)
    assert metrics.get_metric("samples_f1", "multilabel").score(y, pred) == pytest.approx(expected_f1)
    assert metrics.get_metric("jaccard", "multilabel").score(y, pred) == pytest.approx(expected_jaccard)


@pytest.mark.parametrize("seed", range(3))
def test_multiclass_decision_metrics_match_sklearn(seed):
    y, probs = random_multiclass(seed)
    decided = np.eye(y.shape[1], dtype=int)[probs.argmax(axis=1)]
    truth, chosen = y.argmax(axis=1), probs.argmax(axis=1)
    assert metrics.get_metric("accuracy", "multiclass").score(y, decided) == pytest.approx(
        accuracy_score(truth, chosen)
    )
    for name in ("macro_f1", "micro_f1"):
        expected = f1_score(truth, chosen, average=name.split("_")[0], labels=range(y.shape[1]), zero_division=0)
        assert metrics.get_metric(name, "multiclass").score(y, decided) == pytest.approx(expected)


@pytest.mark.parametrize("seed", range(3))
def test_roc_auc_matches_sklearn_and_leaves_out_one_class_columns(seed):
    rng = np.random.default_rng(seed)
    y, _ = random_multilabel(seed)
    y[:, 0] = 1  # all positive: no AUC, like the all-negative last column
    scores = np.round(rng.random(y.shape) * 0.6 + 0.3 * y, 1)  # rounded: tied scores count half
    expected = np.mean([roc_auc_score(y[:, j], scores[:, j]) for j in range(1, y.shape[1] - 1)])
    assert metrics.get_metric("roc_auc", "multilabel").score(y, scores) == pytest.approx(expected)
    y_mc, probs = random_multiclass(seed)
    assert metrics.get_metric("roc_auc", "multiclass").score(y_mc, probs) == pytest.approx(
        roc_auc_score(y_mc.argmax(axis=1), probs, multi_class="ovr", average="macro")
    )


def test_roc_auc_without_any_two_class_column_is_a_clear_error():
    with pytest.raises(FoldwiseError, match="no label column has both"):
        metrics.roc_auc(np.ones((4, 2)), np.random.default_rng(0).random((4, 2)))


@pytest.mark.parametrize("seed", range(3))
def test_log_loss_matches_sklearn_per_task(seed):
    rng = np.random.default_rng(seed)
    y, _ = random_multilabel(seed)
    probs = rng.uniform(0.02, 0.98, y.shape)
    multilabel = metrics.get_metric("log_loss", "multilabel")
    expected = np.mean([log_loss(y[:, j], probs[:, j], labels=[0, 1]) for j in range(y.shape[1])])
    assert multilabel.score(y, probs) == pytest.approx(expected)
    assert multilabel.objective(y, probs) == pytest.approx(-expected)  # lower is better
    y_mc, probs_mc = random_multiclass(seed)
    multiclass = metrics.get_metric("log_loss", "multiclass")
    assert multiclass.score(y_mc, probs_mc) == pytest.approx(log_loss(y_mc.argmax(axis=1), probs_mc))


def test_log_loss_clips_certain_mistakes():
    y = np.array([[1, 0], [0, 1]])
    certain_and_wrong = np.array([[0.0, 1.0], [0.5, 0.5]])
    multiclass = metrics.get_metric("log_loss", "multiclass").score(y, certain_and_wrong)
    assert multiclass == pytest.approx((-np.log(metrics.EPS) - np.log(0.5)) / 2, rel=1e-6)
    assert np.isfinite(metrics.get_metric("log_loss", "multilabel").score(y, certain_and_wrong))


@pytest.mark.parametrize("seed", range(3))
def test_count_forms_equal_their_metrics(seed):
    y, pred = random_multilabel(seed)
    for metric in metrics.METRICS.values():
        if metric.counts is not None:
            assert metric.counts.value(y, pred) == pytest.approx(metric.score(y, pred)), metric.name


def test_registry_flags():
    assert [m.name for m in metrics.METRICS.values() if m.per_label] == ["macro_f1", "f1"]
    assert {m.name for m in metrics.METRICS.values() if not m.needs_decision} == {"roc_auc", "log_loss"}
    assert [m.name for m in metrics.METRICS.values() if not m.greater_is_better] == [
        "log_loss",
        "rmse",
        "mcrmse",
        "mae",
    ]
    assert [m.name for m in metrics.METRICS.values() if m.levels] == ["accuracy", "qwk"]


def test_get_metric_unknown_name_lists_the_known_ones():
    with pytest.raises(FoldwiseError) as error:
        metrics.get_metric("f2", "multilabel")
    message = str(error.value)
    assert "'f2'" in message and "\n" not in message
    assert all(name in message for name in metrics.METRICS)


@pytest.mark.parametrize(
    "name, task", [("accuracy", "multilabel"), ("samples_f1", "multiclass"), ("jaccard", "multiclass")]
)
def test_get_metric_that_does_not_fit_the_task(name, task):
    with pytest.raises(FoldwiseError, match=f"key 'data.metric' is '{name}', which does not fit {task} data") as error:
        metrics.get_metric(name, task)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "name, task, fits",
    [
        ("accuracy", "multilabel", "multiclass, binary, regression, ordinal"),
        ("f1", "multiclass", "binary"),
        ("rouge", "span", "generation"),
        ("rmse", "multiclass", "regression, ordinal"),
    ],
)
def test_a_metric_that_does_not_fit_is_one_wording_from_every_entry_point(name, task, fits):
    import pandas as pd

    from foldwise.config import DataConfig, build
    from foldwise.tasks import task_for

    wording = f"key 'data.metric' is '{name}', which does not fit {task} data ("
    messages = []
    for entry in (
        lambda: build(DataConfig, {"name": "toy", "task": task, "metric": name}, "toy.yaml", "data."),
        lambda: task_for(DataConfig(metric=name), ["a", "b"], pd.DataFrame({"id": []}), task, "said"),
        lambda: metrics.get_metric(name, task),
    ):
        with pytest.raises(FoldwiseError) as error:
            entry()
        messages.append(str(error.value))
    for message in messages:
        assert wording in message and message.endswith(f"it fits: {fits})") and "\n" not in message, message
    assert f"(task {task}: said; it fits" in messages[1]  # task_for says why the task is what it is
    for entry in (
        lambda: build(DataConfig, {"name": "toy", "metric": "f2"}, "toy.yaml", "data."),
        lambda: task_for(DataConfig(metric="f2"), ["a", "b"], pd.DataFrame({"id": []}), task),
        lambda: metrics.get_metric("f2", task),
    ):
        with pytest.raises(FoldwiseError, match=r"key 'data.metric' is 'f2', not a known metric \(known: accuracy, f1"):
            entry()


@pytest.mark.parametrize(
    "name, title, hundred",
    [
        ("macro_f1", "macro-F1", False),
        ("samples_f1", "samples-F1", False),
        ("roc_auc", "ROC AUC", False),
        ("log_loss", "log-loss", False),
        ("mcc", "MCC", False),
        ("squad", "SQuAD F1", True),
        ("rouge", "ROUGE-1", True),
        ("word_jaccard", "word Jaccard", False),
    ],
)
def test_each_metric_carries_the_title_and_scale_that_reports_print(name, title, hundred):
    from foldwise.tasks import report
    from foldwise.tasks.evaluation import Evaluation

    metric = metrics.METRICS[name]
    assert (metric.title, metric.hundred) == (title, hundred)
    secondary = {score: 0.123456 for score in metric.secondary_for(metric.tasks[-1]) if score != name}
    evaluation = Evaluation(
        metric=name,
        greater_is_better=metric.greater_is_better,
        task=metric.tasks[-1],
        rows=4,
        decision={},
        score=0.123456,
        score_untuned=0.123456,
        score_crossfit=None,
        tuned=secondary,
        untuned=secondary,
        per_fold=[],
        per_class={},
    )
    value = "0.12" if hundred else "0.1235"
    others = ", ".join(f"{metrics.score_title(score)} {value}" for score in secondary)  # on the metric's scale
    assert report.headline(evaluation) == f"OOF {title} {value}" + (f", {others}" if others else "")


def test_secondary_scores_that_are_no_metric_have_a_title_and_scale():
    from foldwise.tasks.evaluation import Evaluation
    from foldwise.tasks.text_answers import score_table

    assert set(metrics.METRICS) <= set(metrics.SCORES)
    for metric in metrics.METRICS.values():
        for task in metric.tasks:
            assert set(metric.secondary_for(task)) <= set(metrics.SCORES), (metric.name, task)
    assert metrics.METRICS["rouge"].secondary_for("generation") == ("rouge2", "rougeL", "rougeLsum")
    assert metrics.METRICS["macro_f1"].secondary_for("binary") == ("f1", "accuracy", "mcc")
    tuned = {"exact_match": 25.0}
    evaluation = Evaluation(
        metric="squad",
        greater_is_better=True,
        task="span",
        rows=4,
        decision={},
        score=41.6667,
        score_untuned=41.6667,
        score_crossfit=None,
        tuned=tuned,
        untuned=tuned,
        per_fold=[],
        per_class={},
    )
    # a text task's own table names SQuAD F1 "F1" (the competition is known there)
    assert score_table(evaluation) == "OOF F1 41.67 on 4 rows\n  exact match 25.00"
