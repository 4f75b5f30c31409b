import numpy as np
import pytest
from sklearn.metrics import f1_score

from foldwise import metrics


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
