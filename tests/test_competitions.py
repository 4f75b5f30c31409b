"""Competitions other than GoEmotions, end to end through the CLI: their metric named first in
every report, their submission format inferred from the sample, `foldwise score` against a
solution of known labels, and bad input refused in one line before anything is written."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import foldwise_cli, titled_competition

from foldwise.tasks import metrics

NAMES = ["sports", "business", "tech"]
TFIDF = "model: {kind: tfidf, word_min_df: 1, char_ngram_range: [], n_jobs: 1}\n"


def project(root: Path, name: str, multilabel: bool, data_keys: str, sample: pd.DataFrame | None = None) -> Path:
    """A project with one titled competition under elsewhere/<name>, its data config, a TF-IDF
    experiment 'words', and a solution.csv of the test rows' labels (row i is about NAMES[i % 3])."""
    folder = titled_competition(root / "elsewhere" / name, multilabel=multilabel)
    test_ids = pd.read_csv(folder / "test.csv", dtype=str)["id"]
    if sample is not None:
        sample.assign(id=test_ids).to_csv(folder / "sample_submission.csv", index=False)
    truth = [NAMES[i % 3] for i in range(len(test_ids))]
    if multilabel:
        solution = pd.DataFrame({"id": test_ids, **{n: [int(t == n) for t in truth] for n in NAMES}})
    else:
        solution = pd.DataFrame({"id": test_ids, "label": truth})
    solution.to_csv(root / "solution.csv", index=False)
    (root / "configs" / "data").mkdir(parents=True, exist_ok=True)
    label = "label_column: genres\n" if multilabel else "task: multiclass\nlabel_column: label\n"
    (root / "configs" / "data" / f"{name}.yaml").write_text(
        f"name: {name}\ndir: elsewhere/{name}\ntext_columns: [title, body]\n{label}{data_keys}"
        "folds: {n_splits: 3, seed: 0}\n"
    )
    (root / "configs" / "words.yaml").write_text(f"data: {name}\n{TFIDF}")
    foldwise_cli("folds", name, cwd=root)
    return root


def one_hot(cells: pd.Series) -> np.ndarray:
    return np.stack([(cells == n).to_numpy() for n in NAMES], axis=1).astype(np.uint8)


def test_multilabel_competition_scored_by_jaccard(tmp_path):
    root = project(tmp_path, "tags", multilabel=True, data_keys="metric: jaccard\n")
    out = foldwise_cli("train", "configs/words.yaml", cwd=root).stdout
    metrics_json = json.loads((root / "runs" / "words" / "metrics.json").read_text())
    assert list(metrics_json)[:2] == ["metric", "greater_is_better"] and metrics_json["metric"] == "jaccard"
    assert re.search(r"^jaccard\s+90\s+\d\.\d{4}\s+\d\.\d{4}$", out, re.M)  # the table's first summary line
    summary = [line.split()[0] for line in out.splitlines() if re.match(r"^(jaccard|macro-F1|micro-F1)\s+\d", line)]
    assert summary == ["jaccard", "macro-F1", "micro-F1"]
    assert (
        f"jaccard with decisions fit on the other folds (honest estimate): {metrics_json['score_crossfit']:.4f}" in out
    )
    assert f"words: OOF jaccard {metrics_json['score_untuned']:.4f} at 0.5, {metrics_json['score']:.4f} tuned" in out
    assert metrics_json["score"] >= metrics_json["score_untuned"]
    assert re.search(r"^fold 0: .* valid jaccard@0\.5 \d\.\d{4}, macro-F1@0\.5", out, re.M)
    assert json.loads((root / "runs" / "words" / "thresholds.json").read_text())["metric"] == "jaccard"

    out = foldwise_cli("ensemble", "words", cwd=root).stdout
    assert "OOF jaccard" in out and "submission format: binary" in out
    record = json.loads((root / "submissions" / "words.json").read_text())
    assert record["metric"] == "jaccard" and record["cv_score"] == pytest.approx(metrics_json["score"])

    sub = pd.read_csv(root / "submissions" / "words.csv", dtype={"id": str})
    solution = pd.read_csv(root / "solution.csv", dtype={"id": str})
    expected = metrics.jaccard(solution[NAMES].to_numpy(), sub[NAMES].to_numpy())
    out = foldwise_cli("score", "submissions/words.csv", "--solution", "solution.csv", cwd=root).stdout
    assert f"submissions/words.csv: jaccard {expected:.4f}, macro-F1 " in out


def test_multiclass_competition_scored_by_accuracy(tmp_path):
    root = project(tmp_path, "news", multilabel=False, data_keys="metric: accuracy\n")
    out = foldwise_cli("train", "configs/words.yaml", cwd=root).stdout
    assert re.search(r"^words: OOF accuracy \d\.\d{4}, macro-F1 \d\.\d{4} -> runs/words/$", out, re.M)
    out = foldwise_cli("ensemble", "words", cwd=root).stdout
    assert "submission format: label (one column holding each row's class" in out
    sub = pd.read_csv(root / "submissions" / "words.csv", dtype={"id": str})
    solution = pd.read_csv(root / "solution.csv", dtype={"id": str})
    accuracy = float((sub["label"] == solution["label"]).mean())
    out = foldwise_cli("score", "submissions/words.csv", "--solution", "solution.csv", cwd=root).stdout
    assert f"submissions/words.csv: accuracy {accuracy:.4f}, macro-F1 " in out
    probs = pd.read_csv(root / "submissions" / "words.probs.csv", dtype={"id": str})
    assert list(probs.columns) == ["id", *sorted(NAMES)]  # the classes seen in train, in order
    assert (np.asarray(sorted(NAMES))[probs.iloc[:, 1:].to_numpy().argmax(axis=1)] == sub["label"]).all()

    solution.iloc[[0, 1]] = solution.iloc[[1, 0]].to_numpy()  # another order is fine
    solution.to_csv(root / "shuffled.csv", index=False)
    assert (
        f"accuracy {accuracy:.4f}"
        in foldwise_cli("score", "submissions/words.csv", "--solution", "shuffled.csv", cwd=root).stdout
    )
    solution.iloc[:-1].to_csv(root / "short.csv", index=False)
    proc = foldwise_cli("score", "submissions/words.csv", "--solution", "short.csv", cwd=root, code=2)
    assert proc.stderr.count("\n") == 1
    assert "short.csv: ids differ from submissions/words.csv (submission id 'q" in proc.stderr


def test_fractional_sample_gets_probabilities_with_a_far_better_log_loss(tmp_path):
    sample = pd.DataFrame({"id": "", "sports": [0.25] * 12, "business": 0.5, "tech": 0.25})
    root = project(tmp_path, "agnews", multilabel=False, data_keys="metric: log_loss\n", sample=sample)
    solution = pd.read_csv(root / "solution.csv", dtype={"id": str})
    solution.loc[3::4, "label"] = solution.loc[3::4, "label"].map(dict(zip(NAMES, NAMES[1:] + NAMES[:1])))
    solution.to_csv(root / "solution.csv", index=False)  # a hold-out where a quarter of the rows surprise
    foldwise_cli("train", "configs/words.yaml", cwd=root)
    out = foldwise_cli("ensemble", "words", cwd=root).stdout
    assert "submission format: probabilities" in out
    sub = pd.read_csv(root / "submissions" / "words.csv", dtype={"id": str})
    values = sub[NAMES].to_numpy()
    assert ((values > 0) & (values < 1)).any() and np.allclose(values.sum(axis=1), 1, atol=1e-4)
    truth = one_hot(pd.read_csv(root / "solution.csv", dtype={"id": str})["label"])
    decided = np.eye(3)[values.argmax(axis=1)]  # what 0/1 decisions would have submitted
    assert metrics.categorical_log_loss(truth, values) < 0.2 * metrics.categorical_log_loss(truth, decided)
    assert metrics.categorical_log_loss(truth, decided) > 5  # 0/1 cells: log(1e-15) on every wrong row
    assert "valid (12 rows" in foldwise_cli("validate", "submissions/words.csv", cwd=root).stdout
    out = foldwise_cli("score", "submissions/words.csv", "--solution", "solution.csv", cwd=root).stdout
    assert f"accuracy {float((decided == truth).all(axis=1).mean()):.4f}" in out


@pytest.mark.parametrize(
    "data_keys, sample, message",
    [
        ("metric: accuracy\n", None, "key 'data.metric' is 'accuracy', which does not fit multilabel data"),
        ("metric: f2\n", None, "key 'data.metric' is 'f2', not a known metric"),
        ("metric: f1\n", None, "key 'data.metric' is 'f1', which does not fit multilabel data"),
        (
            "metric: roc_auc\n",
            pd.DataFrame({"id": "", "genres": ["tech"] * 12}),
            "metric roc_auc is scored on probabilities, which a 'label_list' submission",
        ),
    ],
)
def test_a_metric_that_does_not_fit_is_one_line_and_nothing_is_written(tmp_path, data_keys, sample, message):
    root = tmp_path
    folder = titled_competition(root / "elsewhere" / "tags", multilabel=True)
    if sample is not None:
        sample.assign(id=pd.read_csv(folder / "test.csv", dtype=str)["id"]).to_csv(
            folder / "sample_submission.csv", index=False
        )
    (root / "configs" / "data").mkdir(parents=True)
    (root / "configs" / "data" / "tags.yaml").write_text(
        f"name: tags\ndir: elsewhere/tags\ntext_columns: [title, body]\nlabel_column: genres\n{data_keys}"
        "folds: {n_splits: 3, seed: 0}\n"
    )
    (root / "configs" / "words.yaml").write_text(f"data: tags\n{TFIDF}")
    proc = foldwise_cli("train", "configs/words.yaml", cwd=root, code=2)
    assert proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr
    assert not (root / "runs").exists()
