"""Single-label (multiclass) data is reported with accuracy and macro-F1, never with cuts."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import NEWS_DATA, TINY_TFIDF, foldwise_cli, titled_competition, write_configs

from foldwise.config import DataConfig, ThresholdConfig
from foldwise.tasks import task_for
from foldwise.tasks.classification import report
from foldwise.train import training

MULTI_LABEL_WORDS = re.compile(r"\bcut\b|F1@0\.5|\btuned\b|micro-F1|cross-fitted|at 0\.5")


@pytest.fixture(scope="module")
def news(tmp_path_factory) -> Path:
    """An AG-News-like project: title + body, one class per row in 'label', files outside data/."""
    root = tmp_path_factory.mktemp("news")
    titled_competition(root / "elsewhere" / "news")
    write_configs(
        root, {"news": "name: news\ndir: elsewhere/news\n" + NEWS_DATA}, {"words": "data: news\n" + TINY_TFIDF}
    )
    foldwise_cli("folds", "news", cwd=root)
    return root


def test_train_and_ensemble_print_accuracy_and_macro_f1_without_cuts(news):
    done = foldwise_cli("train", "configs/words.yaml", cwd=news)
    out = done.stdout + done.stderr
    oof = pd.read_csv(news / "runs" / "words" / "oof.csv", dtype={"id": str})
    truth = pd.read_csv(news / "elsewhere" / "news" / "train.csv", dtype={"id": str})["label"]
    accuracy = float((oof.columns[1:][oof.iloc[:, 1:].to_numpy().argmax(axis=1)] == truth).mean())
    metrics = json.loads((news / "runs" / "words" / "metrics.json").read_text())
    assert metrics["metric"] == "accuracy" and metrics["score"] == pytest.approx(accuracy)
    assert metrics["tuned"]["accuracy"] == pytest.approx(accuracy)
    assert f"words: OOF accuracy {accuracy:.4f}, macro-F1 {metrics['tuned']['macro_f1']:.4f}" in out
    assert re.search(rf"^accuracy\s+90\s+{accuracy:.4f}$", out, re.M)  # the metric first, with the rows
    assert re.search(rf"^macro-F1\s+{metrics['tuned']['macro_f1']:.4f}$", out, re.M)  # then the secondary one
    assert re.search(r"^label\s+support\s+F1$", out, re.M)
    assert len(re.findall(r"^fold \d: .* valid accuracy \d\.\d{4}, macro-F1 \d\.\d{4}$", out, re.M)) == 3
    assert not MULTI_LABEL_WORDS.search(out), out
    assert not (news / "runs" / "words" / "threshold_curves.png").exists()
    assert (news / "runs" / "words" / "per_class_f1.png").read_bytes()[:4] == b"\x89PNG"

    done = foldwise_cli("ensemble", "words", cwd=news)
    out = done.stdout + done.stderr
    assert f"OOF accuracy {accuracy:.4f}, macro-F1 {metrics['tuned']['macro_f1']:.4f}" in out
    assert not MULTI_LABEL_WORDS.search(out), out
    assert (news / "submissions" / "words.per_class_f1.png").exists()


def test_per_class_table_multiclass_vs_multilabel():
    labels = np.eye(3, dtype=np.uint8)[[0, 1, 2, 0, 1, 2, 0, 1]]
    probs = np.full((8, 3), 0.2) + 0.5 * labels
    probs[7] = [0.6, 0.3, 0.1]  # one wrong row: accuracy 7/8
    fold = np.arange(8) % 2
    sample = pd.DataFrame({"id": ["x"], "a": "0", "b": "0", "c": "0"})

    def evaluate(task):
        competition = task_for(DataConfig(task=task), ["a", "b", "c"], sample)
        return competition.evaluate(probs, labels, fold, ThresholdConfig())

    table = report.per_class_table(evaluate("multiclass"))
    assert "accuracy" in table and "0.8750" in table and not MULTI_LABEL_WORDS.search(table)
    table = report.per_class_table(evaluate("multilabel"))
    assert "F1@0.5" in table and "cut" in table and "micro-F1" in table and "honest estimate" in table


def _head_scores(kind: str, select_by: str = "loss", metric=None, scores=None):
    from foldwise.models.transformer import TransformerConfig
    from foldwise.tasks.classification.head import ClassificationHead

    labels = np.eye(3, dtype=np.uint8)[[0, 1, 2, 2]]
    probs = (np.eye(3)[[0, 1, 2, 0]] * 0.7 + 0.1).astype(np.float32)
    head = ClassificationHead(kind, 3, TransformerConfig(select_by=select_by), scores, metric)
    logits = np.log(probs).astype(np.float32)
    return head, head.valid_scores(head.loss(labels), logits, None, probs, labels)


def test_transformer_history_line_says_accuracy_for_multiclass():
    head, scores = _head_scores("multiclass")
    assert scores["valid_accuracy"] == 0.75
    assert scores["valid_macro_f1"] == pytest.approx((2 / 3 + 1 + 2 / 3) / 3)
    record = {"epoch": 1, "step": 4, "train_loss": 1.0, "samples_per_s": 10.0, **scores}
    line = training._history_line(record, head.score_title)
    assert "accuracy 0.7500" in line and "micro-F1" not in line and "valid loss" in line
    head, multi = _head_scores("multilabel")
    assert set(multi) == {"valid_loss", "valid_micro_f1", "valid_macro_f1"}
    line = training._history_line(
        {"epoch": 1, "step": 4, "train_loss": 1.0, "samples_per_s": 10.0, **multi}, head.score_title
    )
    assert "micro-F1 0.7500" in line and "accuracy" not in line


def test_select_by_metric_reads_the_competition_metric_in_its_direction():
    from foldwise.tasks.metrics import get_metric

    metric = get_metric("log_loss", "multiclass")
    head, scores = _head_scores(
        "multiclass", "metric", metric, lambda probs, labels: {"log_loss": metric.score(labels, probs)}
    )
    assert head.selection() == ("valid_log_loss", False)  # a loss: lower is better
    assert scores["valid_log_loss"] == pytest.approx(metric.score(np.eye(3)[[0, 1, 2, 2]], _probs()))
    assert "log-loss" in training._history_line(
        {"epoch": 1, "step": 1, "train_loss": 1.0, "samples_per_s": 1.0, **scores}, head.score_title
    ).lower().replace("_", "-")
    assert _head_scores("multilabel", "macro_f1")[0].selection() == ("valid_macro_f1", True)


def _probs():
    return (np.eye(3)[[0, 1, 2, 0]] * 0.7 + 0.1).astype(np.float32)
