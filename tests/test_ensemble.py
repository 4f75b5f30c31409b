import numpy as np
import pytest

from foldwise.tasks.decisions import make_decider
from foldwise.tasks.ensemble import Blender, after_decisions, blend
from foldwise.tasks.metrics import get_metric

MACRO_F1 = get_metric("macro_f1", "multilabel")


def tuned_macro_f1(y):
    """The blend objective of the default: macro-F1 after per-class cuts fit on the blend."""
    return after_decisions(MACRO_F1, lambda: make_decider(MACRO_F1, "multilabel"), y)


def members(seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random((400, 4)) < 0.25).astype(int)
    good = np.clip(0.5 * y + rng.normal(0.25, 0.15, y.shape), 0, 1)
    weak = np.clip(0.15 * y + rng.normal(0.4, 0.2, y.shape), 0, 1)
    noise = rng.random(y.shape)
    return y, [good, weak, noise]


def test_blend_is_weighted_mean():
    a, b = np.ones((2, 2)), np.zeros((2, 2))
    np.testing.assert_allclose(blend([a, b], np.array([0.25, 0.75])), 0.25)


def test_fit_weights_beat_mean_and_favour_the_good_member():
    y, probs = members()
    objective = tuned_macro_f1(y)
    fitted = Blender("fit").fit(probs, objective)
    assert fitted.weights_.sum() == pytest.approx(1) and (fitted.weights_ >= 0).all()
    assert fitted.weights_[0] > 0.5 and fitted.weights_[2] < 0.2
    assert fitted.score_ >= fitted.mean_score_
    assert fitted.score_ >= objective(probs[0]) - 1e-9  # never worse than the best single member here
    mean = Blender("mean").fit(probs, objective)
    np.testing.assert_allclose(mean.weights_, 1 / 3)
    np.testing.assert_allclose(fitted.predict(probs), blend(probs, fitted.weights_))


def test_single_member_gets_all_weight():
    y, probs = members()
    assert Blender().fit(probs[:1], tuned_macro_f1(y)).weights_.tolist() == [1.0]


def test_a_loss_is_minimised():
    y, probs = members()
    log_loss = get_metric("log_loss", "multilabel")
    objective = after_decisions(log_loss, lambda: make_decider(log_loss, "multilabel"), y)
    fitted = Blender("fit").fit(probs, objective)
    calibrated = make_decider(log_loss, "multilabel").fit(fitted.predict(probs), y)  # log loss is calibrated
    assert fitted.score_ == pytest.approx(-calibrated.train_score_)
    assert fitted.score_ > objective(blend(probs, np.full(3, 1 / 3)))
