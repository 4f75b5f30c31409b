"""Minimum-Bayes-risk selection: one text per row from several models' candidates.

Generated texts cannot be averaged like probabilities. Each row has one candidate per
member (a fold model, or a run of a blend), each with a weight; the chosen candidate is
the one that agrees most with the weighted candidates under the competition's own
similarity (:func:`foldwise.tasks.text_metrics.pair_similarity`):
``argmax_i sum_j w_j sim(c_i, c_j)`` with ``sim(c, c) = 1``. Equal weights pick the
consensus; a member with most of the weight wins its rows unless the others agree
against it. Ties go to the earlier member.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def agreement(candidates: list[np.ndarray], similarity: Callable[[str, str], float]) -> np.ndarray:
    """(n, m, m) similarity of every pair of the ``m`` members' texts, per row (symmetric,
    1 on the diagonal; identical texts are 1 without being scored)."""
    n, m = len(candidates[0]), len(candidates)
    sims = np.ones((n, m, m), dtype=np.float64)
    for r in range(n):
        texts = [str(c[r]) for c in candidates]
        for i in range(m):
            for j in range(i + 1, m):
                value = 1.0 if texts[i] == texts[j] else float(similarity(texts[i], texts[j]))
                sims[r, i, j] = sims[r, j, i] = value
    return sims


def select(candidates: list[np.ndarray], weights: np.ndarray, sims: np.ndarray) -> np.ndarray:
    """Each row's candidate with the highest weighted agreement (``sims`` from :func:`agreement`)."""
    expected = sims @ np.asarray(weights, dtype=np.float64)  # (n, m): each candidate's expected similarity
    best = expected.argmax(axis=1)
    stacked = np.stack([np.asarray(c, dtype=object) for c in candidates], axis=1)
    return stacked[np.arange(len(best)), best]
