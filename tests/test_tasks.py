"""The task object: submission formats inferred and checked, round trips through validate and
score, the fitted decider saved and loaded back, bad input one line each."""

import numpy as np
import pandas as pd
import pytest

from foldwise.config import DataConfig, ThresholdConfig
from foldwise.errors import FoldwiseError
from foldwise.tasks import metrics, task_for

NAMES = ["sports", "business", "tech"]
IDS = np.array([f"q{i}" for i in range(40)])


def truth_and_probs(task: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Known (40, 3) truth (one-hot, or multi-hot with some empty rows) and probabilities near it."""
    rng = np.random.default_rng(seed)
    if task == "multiclass":
        truth = np.eye(3, dtype=np.uint8)[rng.integers(3, size=len(IDS))]
        logits = 2.0 * truth + rng.normal(0, 1, truth.shape)
        return truth, np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    truth = (rng.random((len(IDS), 3)) < 0.4).astype(np.uint8)
    return truth, np.clip(0.45 * truth + rng.uniform(0.05, 0.55, truth.shape), 0, 1)


def sample_frame(fmt: str) -> pd.DataFrame:
    """A sample submission laid out for ``fmt`` (rows in another order than IDS)."""
    ids = IDS[::-1]
    if fmt == "binary":
        return pd.DataFrame({"id": ids, **{n: "0" for n in NAMES}})
    if fmt == "probabilities":
        return pd.DataFrame({"id": ids, **{n: "0.333" for n in NAMES}})
    return pd.DataFrame({"id": ids, "label" if fmt == "label" else "labels": NAMES[0]})


def solution_frame(fmt: str, truth: np.ndarray) -> pd.DataFrame:
    """The truth laid out like the sample of ``fmt`` (a probabilities sample: 0/1 columns), shuffled."""
    names = np.asarray(NAMES, dtype=object)
    if fmt in ("binary", "probabilities"):
        frame = pd.DataFrame({"id": IDS, **{n: truth[:, j] for j, n in enumerate(NAMES)}})
    elif fmt == "label":
        frame = pd.DataFrame({"id": IDS, "label": names[truth.argmax(axis=1)]})
    else:
        frame = pd.DataFrame({"id": IDS, "labels": [" ".join(names[row.astype(bool)]) for row in truth]})
    return frame.sample(frac=1.0, random_state=0)


def make_task(tmp_path, fmt: str, task: str, metric: str, submission_format: str = "auto"):
    folder = tmp_path / "data" / "comp"
    folder.mkdir(parents=True, exist_ok=True)
    sample = sample_frame(fmt)
    sample.to_csv(folder / "sample_submission.csv", index=False)
    cfg = DataConfig(name="comp", dir=str(folder), task=task, metric=metric, submission_format=submission_format)
    return task_for(cfg, NAMES, pd.read_csv(folder / "sample_submission.csv", dtype=str, keep_default_na=False))


CASES = [  # sample layout, task, metric
    ("binary", "multilabel", "macro_f1"),
    ("binary", "multilabel", "jaccard"),
    ("probabilities", "multilabel", "roc_auc"),
    ("probabilities", "multiclass", "log_loss"),
    ("probabilities", "multilabel", "log_loss"),
    ("label", "multiclass", "accuracy"),
    ("labels", "multilabel", "samples_f1"),
]


@pytest.mark.parametrize("layout, task, metric", CASES)
def test_each_format_round_trips_through_validate_and_score(tmp_path, layout, task, metric):
    fmt = "label_list" if layout == "labels" else layout
    competition = make_task(tmp_path, layout, task, metric)
    assert competition.submission_format == fmt
    truth, probs = truth_and_probs(task)
    decider = competition.decider(ThresholdConfig()).fit(probs, truth)
    frame = competition.submission_frame(IDS, probs, decider)
    path = tmp_path / "sub.csv"
    competition.write_submission(path, frame)
    assert len(competition.validate_submission(path)) == len(IDS)

    solution_frame(fmt, truth).to_csv(tmp_path / "solution.csv", index=False)
    scores = competition.score_submission(path, tmp_path / "solution.csv")
    assert list(scores)[0] == metric
    if fmt == "probabilities":  # the probabilities as written (calibrated for log loss); decisions: 0.5 / argmax
        submitted = decider.predict(probs)
        decided = (np.eye(3)[submitted.argmax(axis=1)] if task == "multiclass" else submitted >= 0.5).astype(np.uint8)
    else:
        submitted = decided = decider.predict(probs)
    expected = competition.metric.score(truth, decided if competition.metric.needs_decision else submitted)
    assert scores[metric] == pytest.approx(expected, abs=1e-5)
    assert scores["macro_f1"] == pytest.approx(metrics.macro_f1(truth, decided))


@pytest.mark.parametrize(
    "sample, task, metric, expected",
    [
        (pd.DataFrame({"id": ["a"], "sports": "0", "business": "0", "tech": "0"}), "multilabel", "macro_f1", "binary"),
        (
            pd.DataFrame({"id": ["a"], "sports": "0", "business": "0", "tech": "0"}),
            "multilabel",
            "roc_auc",
            "probabilities",
        ),
        (
            pd.DataFrame({"id": ["a", "b"], "sports": ["0.25", "0"], "business": "0.5", "tech": "0.25"}),
            "multiclass",
            "log_loss",
            "probabilities",
        ),
        (pd.DataFrame({"id": ["a"], "label": "tech"}), "multiclass", "macro_f1", "label"),
        (pd.DataFrame({"id": ["a"], "tags": "tech"}), "multilabel", "micro_f1", "label_list"),
    ],
)
def test_format_is_inferred_from_the_sample_and_said(sample, task, metric, expected):
    competition = task_for(DataConfig(task=task, metric=metric), NAMES, sample)
    assert competition.submission_format == expected
    assert competition.format_line.startswith(f"submission format: {expected} (")
    assert "inferred from data/goemotions/sample_submission.csv" in competition.format_line


def test_the_configured_format_overrides_the_guess():
    sample = pd.DataFrame({"id": ["a"], "sports": "0", "business": "0", "tech": "0"})
    competition = task_for(DataConfig(submission_format="probabilities", metric="roc_auc"), NAMES, sample)
    assert (
        competition.submission_format == "probabilities" and "set by data.submission_format" in competition.format_line
    )


@pytest.mark.parametrize(
    "sample, cfg, message",
    [
        (
            pd.DataFrame({"id": ["a"], "label": "tech"}),
            dict(task="multiclass", metric="roc_auc"),
            "metric roc_auc is scored on probabilities, which a 'label' submission",
        ),
        (
            pd.DataFrame({"id": ["a"], "tags": "tech"}),
            dict(metric="log_loss"),
            "metric log_loss is scored on probabilities, which a 'label_list' submission",
        ),
        (
            pd.DataFrame({"id": ["a"], "tags": "tech"}),
            dict(submission_format="label"),
            "submission format 'label' holds one class per row, which does not fit multilabel data",
        ),
        (
            pd.DataFrame({"id": ["a"], "sports": "0", "business": "0", "tech": "0"}),
            dict(submission_format="label"),
            "submission format 'label' needs one target column besides 'id', the sample has 3",
        ),
        (
            pd.DataFrame({"id": ["a"], "label": "tech"}),
            dict(task="multiclass", submission_format="binary"),
            "submission format 'binary' needs one column per label (3), the sample has 1 (label)",
        ),
        (
            pd.DataFrame({"id": ["a"], "label": "tech"}),
            dict(task="multiclass", submission_format="label_list"),
            "submission format 'label_list' is for multilabel data",
        ),
        (
            pd.DataFrame({"id": ["a"], "sports": "0", "business": "0", "tech": "0"}),
            dict(submission_format="probabilities"),
            "submission format 'probabilities' (one probability column per label) cannot be scored by metric macro_f1, "
            "which is scored on 0/1 decisions: set data.metric to a metric on probabilities (roc_auc, log_loss) or "
            "data.submission_format to binary",
        ),
        (
            pd.DataFrame({"id": ["a"], "sports": "0.5", "business": "0.25", "tech": "0.25"}),
            dict(task="multiclass", metric="accuracy"),
            "cannot be scored by metric accuracy",
        ),
    ],
)
def test_a_format_that_does_not_fit_is_one_line(sample, cfg, message):
    with pytest.raises(FoldwiseError) as err:
        task_for(DataConfig(**cfg), NAMES, sample)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert str(err.value).startswith("data/goemotions/sample_submission.csv: ")


def test_label_list_refuses_label_names_with_spaces():
    with pytest.raises(FoldwiseError, match="separates labels by spaces, but label 'science fiction' holds one"):
        task_for(DataConfig(), ["drama", "science fiction"], pd.DataFrame({"id": ["a"], "genres": "drama"}))


@pytest.mark.parametrize(
    "layout, task, cells, message",
    [
        (
            "probabilities",
            "multiclass",
            ["1.5", "0.2", "0.1"],
            "column 'sports' has '1.5', expected a probability in [0, 1]",
        ),
        ("probabilities", "multiclass", ["0.5", "high", "0.1"], "column 'business' has 'high', expected a probability"),
        ("labels", "multilabel", ["tech drama"], "column 'labels' has 'tech drama', expected space-separated labels"),
        ("label", "multiclass", ["drama"], "column 'label' has 'drama', expected one of ['sports'"),
    ],
)
def test_validate_checks_the_cells_of_the_format(tmp_path, layout, task, cells, message):
    metric = "log_loss" if layout == "probabilities" else "accuracy" if task == "multiclass" else "macro_f1"
    competition = make_task(tmp_path, layout, task, metric)
    sub = sample_frame(layout)
    sub.iloc[5, 1:] = cells
    sub.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(FoldwiseError) as err:
        competition.validate_submission(tmp_path / "bad.csv")
    assert f"bad.csv: row 7: {message}" in str(err.value) and "\n" not in str(err.value)


def test_an_empty_label_list_is_valid(tmp_path):
    competition = make_task(tmp_path, "labels", "multilabel", "jaccard")
    sub = sample_frame("labels")
    sub.iloc[3, 1] = ""
    sub.to_csv(tmp_path / "sub.csv", index=False)
    assert competition.validate_submission(tmp_path / "sub.csv")["labels"].isna().sum() == 1


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda s: s.iloc[1:], "(submission id 'q"),
        (lambda s: s.assign(id=s["id"].where(s["id"] != "q1", "z1")), "(submission id 'q1' is not in the solution)"),
        (
            lambda s: pd.concat([s, pd.DataFrame({"id": ["extra"], "label": ["tech"]})]),
            "(solution id 'extra' is not in the submission)",
        ),
    ],
)
def test_solution_ids_that_differ_are_one_line(tmp_path, change, message):
    competition = make_task(tmp_path, "label", "multiclass", "accuracy")
    truth, probs = truth_and_probs("multiclass")
    path = tmp_path / "sub.csv"
    competition.write_submission(
        path, competition.submission_frame(IDS, probs, competition.decider(ThresholdConfig()).fit(probs, truth))
    )
    solution = solution_frame("label", truth)
    change(solution).to_csv(tmp_path / "solution.csv", index=False)
    with pytest.raises(FoldwiseError) as err:
        competition.score_submission(path, tmp_path / "solution.csv")
    text = str(err.value)
    assert text.startswith(f"{tmp_path / 'solution.csv'}: ids differ from {path}") and message in text
    assert "\n" not in text


@pytest.mark.parametrize(
    "task, metric, cfg",
    [
        ("multilabel", "jaccard", ThresholdConfig()),
        ("multilabel", "macro_f1", ThresholdConfig(mode="global", at_least_one=True)),
        ("multiclass", "accuracy", ThresholdConfig(class_bias=True)),
        ("multiclass", "log_loss", ThresholdConfig()),
    ],
)
def test_the_fitted_decider_is_saved_and_loaded_back(task, metric, cfg):
    truth, probs = truth_and_probs(task, seed=3)
    sample = pd.DataFrame({"id": ["a"], **{n: "0" for n in NAMES}})
    competition = task_for(
        DataConfig(task=task, metric=metric, submission_format=("probabilities" if metric == "log_loss" else "binary")),
        NAMES,
        sample,
    )
    evaluation = competition.evaluate(probs, truth, np.arange(len(truth)) % 4, cfg)
    loaded = competition.load_decider(evaluation.decision, "thresholds.json")
    assert loaded.kind == evaluation.decision["kind"]
    np.testing.assert_array_equal(loaded.predict(probs), evaluation.decider.predict(probs))
    assert evaluation.metric == metric and evaluation.score == pytest.approx(
        competition.metric.score(truth, evaluation.decider.predict(probs))
    )


def test_default_metric_keeps_at_least_one_off_and_jaccard_searches_it():
    truth, probs = truth_and_probs("multilabel", seed=5)
    sample = pd.DataFrame({"id": ["a"], **{n: "0" for n in NAMES}})
    macro = task_for(DataConfig(), NAMES, sample).decider(ThresholdConfig())
    assert macro.at_least_one is False  # per-class cuts for macro-F1: today's rule, same numbers
    jaccard = task_for(DataConfig(metric="jaccard"), NAMES, sample).decider(ThresholdConfig())
    assert jaccard.at_least_one is None  # kept only if it raises Jaccard on OOF


def test_metrics_json_reads_back_and_one_without_its_metric_is_one_line():
    from foldwise.tasks import report
    from foldwise.tasks.evaluation import Evaluation

    truth, probs = truth_and_probs("multilabel", seed=4)
    sample = pd.DataFrame({"id": ["a"], **{n: "0" for n in NAMES}})
    evaluation = task_for(DataConfig(), NAMES, sample).evaluate(
        probs, truth, np.arange(len(truth)) % 4, ThresholdConfig()
    )
    assert Evaluation.from_json(evaluation.to_json()) == evaluation
    assert report.headline(evaluation.to_json()).startswith(f"OOF macro-F1 {evaluation.score_untuned:.4f} at 0.5")
    # the macro-F1 layout of the kit's first days (no 'metric', scores under 'at_0.5'/'tuned') is not read
    old = {
        "rows": 4,
        "at_0.5": {"macro_f1": 0.4},
        "tuned": {"macro_f1": 0.6},
        "tuned_crossfit_macro_f1": 0.5,
        "threshold_mode": "per_class",
        "per_fold": [],
        "per_class": {},
    }
    with pytest.raises(
        FoldwiseError,
        match=r"^runs/x/metrics.json: not an evaluation record \(no 'metric', "
        r"'greater_is_better', .*\); train the run again",
    ):
        Evaluation.from_json(old, "runs/x/metrics.json")


@pytest.mark.parametrize(
    "record, task, metric, expected",
    [
        (
            {"kind": "probabilities", "metric": "log_loss", "thresholds": None, "bias": None, "at_least_one": False},
            "multilabel",
            "log_loss",
            lambda p: p >= 0.5,
        ),
        (
            {"kind": "probabilities", "metric": "roc_auc", "thresholds": None, "bias": None, "at_least_one": False},
            "multiclass",
            "roc_auc",
            lambda p: np.eye(3)[p.argmax(axis=1)],
        ),
        (
            {
                "kind": "cuts",
                "mode": "per_class",
                "at_least_one": False,
                "thresholds": dict(zip(NAMES, [0.2, 0.5, 0.9])),
            },
            "multilabel",
            "macro_f1",
            lambda p: p >= [0.2, 0.5, 0.9],
        ),
    ],
)
def test_predict_loads_the_saved_rule(tmp_path, record, task, metric, expected):
    from foldwise.stages.predict import run_task

    info = {"label_names": NAMES, "task": task, "metric": metric}
    competition = run_task(tmp_path, DataConfig(dir=str(tmp_path / "absent"), task=task), info)  # no data here
    probs = truth_and_probs(task, seed=7)[1]
    decided = competition.shown_decider(record, "thresholds.json").predict(probs)
    np.testing.assert_array_equal(decided, expected(probs).astype(np.uint8))


def test_predict_refuses_a_rule_without_kind_and_a_run_without_metric(tmp_path):
    from foldwise.stages.predict import run_task

    info = {"label_names": NAMES, "task": "multilabel", "metric": "macro_f1"}
    competition = run_task(tmp_path, DataConfig(dir=str(tmp_path / "absent"), task="multilabel"), info)
    cuts = {"mode": "per_class", "at_least_one": False, "thresholds": dict(zip(NAMES, [0.2, 0.5, 0.9]))}
    with pytest.raises(FoldwiseError, match=r"^thresholds.json: unknown decision kind None \(known: cuts, "):
        competition.shown_decider(cuts, "thresholds.json")  # not read as cuts
    with pytest.raises(FoldwiseError, match=r"run.json: no 'metric'; train the run again$"):
        run_task(
            tmp_path,
            DataConfig(dir=str(tmp_path / "absent"), metric="jaccard"),
            {k: v for k, v in info.items() if k != "metric"},
        )
