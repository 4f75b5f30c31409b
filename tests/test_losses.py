"""Each loss against a reference computation written out by hand in numpy."""

import numpy as np
import pytest
import torch

from foldwise.train.losses import asymmetric, bce, cross_entropy, focal, make_loss, pos_weight_from_labels

LOGITS = np.array([[2.0, -1.0, 0.5], [-0.3, 1.5, -2.0]])
TARGETS = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def t(x):
    return torch.tensor(x, dtype=torch.float32)


def test_bce_and_weighted_bce():
    p = sigmoid(LOGITS)
    ref = -(TARGETS * np.log(p) + (1 - TARGETS) * np.log(1 - p))
    assert bce(t(LOGITS), t(TARGETS)).item() == pytest.approx(ref.sum(1).mean(), rel=1e-5)
    w = np.array([3.0, 1.0, 2.0])
    ref_w = -(w * TARGETS * np.log(p) + (1 - TARGETS) * np.log(1 - p))
    assert bce(t(LOGITS), t(TARGETS), t(w)).item() == pytest.approx(ref_w.sum(1).mean(), rel=1e-5)


def test_pos_weight_from_label_frequencies():
    labels = np.array([[1, 0, 0], [0, 0, 0], [0, 0, 1], [0, 0, 0]] * 10)  # 10 of 40 positive
    np.testing.assert_allclose(pos_weight_from_labels(labels, cap=2.5).numpy(), [2.5, 2.5, 2.5])
    np.testing.assert_allclose(
        pos_weight_from_labels(labels, cap=10).numpy(), [3.0, 10.0, 3.0]
    )  # no positives: the cap


def test_focal():
    alpha, gamma = 0.25, 2.0
    p = sigmoid(LOGITS)
    ref = -(alpha * TARGETS * (1 - p) ** gamma * np.log(p) + (1 - alpha) * (1 - TARGETS) * p**gamma * np.log(1 - p))
    assert focal(t(LOGITS), t(TARGETS), alpha, gamma).item() == pytest.approx(ref.sum(1).mean(), rel=1e-5)


def test_focal_with_gamma_zero_and_half_alpha_is_half_bce():
    assert focal(t(LOGITS), t(TARGETS), 0.5, 0.0).item() == pytest.approx(0.5 * bce(t(LOGITS), t(TARGETS)).item())


def test_asymmetric():
    gp, gn, clip = 1.0, 4.0, 0.05
    p = sigmoid(LOGITS)
    pm = np.maximum(p - clip, 0)
    ref = -(TARGETS * (1 - p) ** gp * np.log(p) + (1 - TARGETS) * pm**gn * np.log(1 - pm))
    assert asymmetric(t(LOGITS), t(TARGETS), gp, gn, clip).item() == pytest.approx(ref.sum(1).mean(), rel=1e-5)


def test_cross_entropy_with_label_smoothing():
    onehot = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    eps, k = 0.1, 3
    logp = LOGITS - np.log(np.exp(LOGITS).sum(1, keepdims=True))
    smooth = onehot * (1 - eps) + eps / k
    ref = -(smooth * logp).sum(1).mean()
    assert cross_entropy(t(LOGITS), t(onehot), eps).item() == pytest.approx(ref, rel=1e-5)


def test_make_loss_checks_task():
    labels = np.eye(3)
    assert make_loss("auto", labels, single_label=False) is bce
    with pytest.raises(ValueError, match="multiclass uses 'ce'"):
        make_loss("focal", labels, single_label=True)
    with pytest.raises(ValueError, match="for multiclass tasks"):
        make_loss("ce", labels, single_label=False)
