import numpy as np
import pytest
from sklearn.metrics import f1_score

from foldwise.tasks.classification.decisions import ArgmaxDecider, CutDecider
from foldwise.tasks.classification.thresholds import best_cut, best_global_cut
from foldwise.tasks.evaluation import crossfit_score
from foldwise.tasks.metrics import get_metric

MACRO_F1 = get_metric("macro_f1", "multilabel")


def ThresholdOptimizer(mode="per_class", value=0.5, at_least_one=False):
    """The multi-label cut rule for macro-F1, as the kit's default builds it."""
    return CutDecider(MACRO_F1, mode=mode, value=value, at_least_one=at_least_one)


def brute_force_best_f1(scores, y):
    """Best F1 over every distinct score used as the cut, with sklearn's f1_score."""
    return max(f1_score(y, scores >= cut, zero_division=0) for cut in np.unique(scores))


@pytest.mark.parametrize("seed", range(8))
def test_per_class_cut_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 200))
    y = (rng.random(n) < rng.uniform(0.05, 0.6)).astype(int)
    if not y.any():
        y[0] = 1
    # rounded scores create ties, which a cut must never split
    scores = np.round(np.clip(0.3 * y + rng.normal(0.4, 0.25, n), 0, 1), 2)
    cut, f1 = best_cut(scores, y)
    expected = brute_force_best_f1(scores, y)
    assert f1 == pytest.approx(expected)
    assert f1_score(y, scores >= cut) == pytest.approx(expected)


def test_global_cut_matches_brute_force():
    rng = np.random.default_rng(3)
    y = (rng.random((150, 4)) < 0.3).astype(int)
    scores = np.round(np.clip(0.35 * y + rng.normal(0.3, 0.2, y.shape), 0, 1), 3)
    cut, score = best_global_cut(scores, y)
    brute = max(f1_score(y, scores >= c, average="macro", zero_division=0) for c in np.unique(scores))
    assert score == pytest.approx(brute)
    assert f1_score(y, scores >= cut, average="macro", zero_division=0) == pytest.approx(brute)


def test_optimizer_modes_and_label_without_positives():
    rng = np.random.default_rng(1)
    y = (rng.random((100, 3)) < 0.3).astype(int)
    y[:, 2] = 0  # no positives: the cut must predict nothing
    scores = rng.random((100, 3))
    per_class = ThresholdOptimizer().fit(scores, y)
    assert per_class.thresholds_.shape == (3,)
    assert per_class.predict(scores)[:, 2].sum() == 0
    fixed = ThresholdOptimizer(mode="fixed", value=0.7).fit(scores, y)
    np.testing.assert_array_equal(fixed.predict(scores), (scores >= 0.7).astype(np.uint8))
    shared = ThresholdOptimizer(mode="global").fit(scores, y)
    assert len(set(shared.thresholds_)) == 1


def test_at_least_one_fills_empty_rows_with_best_margin():
    scores = np.array([[0.1, 0.2, 0.05], [0.9, 0.1, 0.1]])
    opt = ThresholdOptimizer(mode="fixed", value=0.5, at_least_one=True).fit(scores, np.eye(2, 3))
    np.testing.assert_array_equal(opt.predict(scores), [[0, 1, 0], [1, 0, 0]])
    assert ThresholdOptimizer(mode="fixed").fit(scores, np.eye(2, 3)).predict(scores)[0].sum() == 0


def test_crossfit_is_not_above_in_sample_score():
    rng = np.random.default_rng(5)
    y = (rng.random((300, 5)) < 0.2).astype(int)
    scores = np.clip(0.2 * y + rng.random(y.shape) * 0.8, 0, 1)
    fold = np.arange(300) % 5
    in_sample = ThresholdOptimizer().fit(scores, y)
    honest = crossfit_score(MACRO_F1, scores, y, fold, ThresholdOptimizer)
    assert honest <= in_sample.train_score_ + 1e-12


def test_argmax_decision_is_one_hot():
    scores = np.array([[0.2, 0.5, 0.3], [0.6, 0.3, 0.1]])
    decider = ArgmaxDecider(get_metric("accuracy", "multiclass")).fit(scores, np.eye(2, 3))
    np.testing.assert_array_equal(decider.predict(scores), [[0, 1, 0], [1, 0, 0]])
