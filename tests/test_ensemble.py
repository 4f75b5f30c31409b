import numpy as np
import pytest

from foldwise.tasks.classification.decisions import make_decider
from foldwise.tasks.ensemble import Blender, after_decisions, blend, blend_line
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


# --- rank averaging and stacking ---


def test_rank_normalize_scales_column_ranks_and_ties_share_them():
    from foldwise.tasks.ensemble import rank_normalize

    ranked = rank_normalize(np.array([[0.9, 0.1], [0.2, 0.1], [0.5, 0.7], [0.2, 0.3]]))
    np.testing.assert_allclose(ranked[:, 0], [1.0, 0.375, 0.75, 0.375])
    np.testing.assert_allclose(ranked[:, 1], [0.375, 0.375, 1.0, 0.75])


def test_rank_blend_ignores_a_member_squashed_onto_another_scale():
    y, (good, weak, _) = members(1)
    squashed = good**8  # the same order, a very different scale (an overconfident model)
    rank = Blender("rank").fit([squashed, weak], tuned_macro_f1(y))
    plain = Blender("mean").fit([squashed, weak], tuned_macro_f1(y))
    assert rank.score_ > plain.mean_score_
    test = Blender("rank").fit([squashed, weak], tuned_macro_f1(y)).predict([squashed[:50], weak[:50]])
    assert test.shape == (50, 4) and 0 < test.min() and test.max() <= 1


def test_stacking_is_cross_validated_no_row_helps_predict_itself():
    """A member right on fold 0 but inverted on folds 1-2: models fit without fold 0 must get fold 0 wrong."""
    from foldwise.tasks.ensemble import Stacker

    rng = np.random.default_rng(0)
    fold = np.repeat([0, 1, 2], 100)
    y = (rng.random((300, 1)) < 0.5).astype(int)
    right = np.where(y == 1, 0.8, 0.2) + rng.normal(0, 0.05, y.shape)
    member = np.clip(np.where(fold[:, None] == 0, right, 1 - right), 0.01, 0.99)
    stacker = Stacker(single_label=False).fit([member], y, fold)
    fold0 = fold == 0
    assert ((stacker.oof_[fold0, 0] > 0.5) == y[fold0, 0]).mean() < 0.1  # learnt on the inverted folds only
    in_sample = Stacker(single_label=False).fit([member], y, np.zeros(300, dtype=int) + np.arange(300) % 2)
    assert stacker.oof_[fold0, 0].tolist() != in_sample.oof_[fold0, 0].tolist()


def test_stacking_learns_which_member_to_trust_and_round_trips_through_its_record():
    from foldwise.tasks.ensemble import Stacker

    y, (good, weak, noise) = members(2)
    fold = np.arange(len(y)) % 4
    blender = Blender("stack", stacker=lambda: Stacker(single_label=False)).fit(
        [noise, good, weak], tuned_macro_f1(y), y, fold
    )
    alone = tuned_macro_f1(y)(good)
    assert blender.score_ > blender.mean_score_ and blender.score_ > alone - 0.02
    record = {"members": ["noise", "good", "weak"], **blender.to_record(["noise", "good", "weak"])}
    assert blend_line(record) == (
        "stacked: a level-2 logistic regression on the logits of noise, good, weak, cross-validated on the run folds"
    )  # not its equal 'weights'
    fitted = Blender("fit").fit([noise, good, weak], tuned_macro_f1(y))
    assert blend_line(fitted.to_record(["noise", "good", "weak"])) == "weights: " + ", ".join(
        f"{name} {w:.3f}" for name, w in zip(["noise", "good", "weak"], fitted.weights_)
    )
    again = Blender.from_record(record)
    np.testing.assert_array_equal(again.predict([noise, good, weak]), blender.predict([noise, good, weak]))
    single = np.eye(3)[np.arange(300) % 3]
    probs = [np.clip(single * 0.6 + 0.2 + np.random.default_rng(3).normal(0, 0.1, single.shape), 0.01, 1)]
    stacked = Stacker(single_label=True).fit(probs, single, np.arange(300) % 3)
    np.testing.assert_allclose(stacked.oof_.sum(axis=1), 1.0)
