"""TF-IDF word and character n-grams + a linear classifier: the fast, strong baseline."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy import sparse

from .. import progress
from ..config import option
from ..errors import FoldwiseError
from .base import TextModel


@dataclass
class TfidfConfig:
    """TF-IDF features and logistic regression (one-vs-rest for multi-label), or ridge regression for numbers."""

    kind: str = field(default="tfidf", init=False)
    word_ngram_range: list[int] = option("word n-gram sizes [min, max]; [] turns word features off", [1, 2], ge=1)
    word_min_df: int = option("drop word n-grams seen in fewer rows", 2, ge=1)
    word_max_features: int | None = option("keep the most frequent word n-grams", 200000, ge=1)
    char_ngram_range: list[int] = option("character n-gram sizes [min, max]; [] turns them off", [2, 5], ge=1)
    char_analyzer: Literal["char_wb", "char"] = option("'char_wb' (inside word boundaries) or 'char'", "char_wb")
    char_min_df: int = option("drop character n-grams seen in fewer rows", 3, ge=1)
    char_max_features: int | None = option("keep the most frequent character n-grams", 300000, ge=1)
    sublinear_tf: bool = option("use 1 + log(tf)", True)
    lowercase: bool = option("lower-case before counting n-grams", True)
    C: float = option("inverse L2 regularisation strength of logistic regression", 4.0, gt=0)
    alpha: float = option("L2 regularisation strength of ridge regression (tasks regression and ordinal)", 1.0, gt=0)
    class_weight: Literal["balanced"] | None = option("None or 'balanced' (up-weights rare labels)", None)
    max_iter: int = option("solver iterations", 1000, ge=1)
    n_jobs: int = option("labels fit in parallel (multi-label)", 2, ge=1)

    def validate(self) -> list[tuple[str, str]]:
        """(key, problem) pairs for the rules that bounds on one key cannot state."""
        problems = [
            (key, f"is {value!r}, must be [] or [min, max] with min <= max")
            for key, value in (("word_ngram_range", self.word_ngram_range), ("char_ngram_range", self.char_ngram_range))
            if value and (len(value) != 2 or value[0] > value[1])
        ]
        if not (self.word_ngram_range or self.char_ngram_range):
            problems.append(("char_ngram_range", "is [] like word_ngram_range: no features left"))
        return problems


class TfidfModel(TextModel):
    """Word + char TF-IDF features fit on the fold's training rows, then logistic regression.

    Sentence pairs ((n, 2) texts) get pair features instead of one joined string: see
    :meth:`_pair_features`. One label per row (``single_label``): one multinomial model over
    the classes; numbers (``numeric``): one ridge regression of every target; else one binary
    model per label.
    """

    def _vectorizers(self) -> list:
        from sklearn.feature_extraction.text import TfidfVectorizer

        cfg = self.config
        vectorizers = []
        if cfg.word_ngram_range:
            vectorizers.append(
                TfidfVectorizer(
                    ngram_range=tuple(cfg.word_ngram_range),
                    min_df=cfg.word_min_df,
                    max_features=cfg.word_max_features,
                    sublinear_tf=cfg.sublinear_tf,
                    lowercase=cfg.lowercase,
                    token_pattern=r"(?u)\b\w+\b|[^\w\s]",
                    dtype=np.float32,
                )
            )
        if cfg.char_ngram_range:
            vectorizers.append(
                TfidfVectorizer(
                    analyzer=cfg.char_analyzer,
                    ngram_range=tuple(cfg.char_ngram_range),
                    min_df=cfg.char_min_df,
                    max_features=cfg.char_max_features,
                    sublinear_tf=cfg.sublinear_tf,
                    lowercase=cfg.lowercase,
                    dtype=np.float32,
                )
            )
        if not vectorizers:
            raise ValueError("tfidf: both word_ngram_range and char_ngram_range are empty")
        return vectorizers

    def _features(self, texts: np.ndarray, fit: bool) -> sparse.csr_matrix:
        if np.ndim(texts) == 2:
            return self._pair_features(np.asarray(texts, dtype=object), fit)
        if fit:
            blocks = self._fit_vectorizers(texts, transform=True)
        else:
            blocks = [v.transform(texts) for v in self.vectorizers_]
        return sparse.hstack(blocks, format="csr")

    def _fit_vectorizers(self, texts: np.ndarray, transform: bool) -> list:
        """Fit ``vectorizers_`` on ``texts`` (and return their blocks when ``transform``).

        A vectorizer left with no n-gram after its ``min_df`` (texts that are distinct
        numbers or codes share no word) is dropped with a line; the others carry the fold.
        """
        self.vectorizers_, blocks = [], []
        for vectorizer, key in zip(self._vectorizers(), self._min_df_keys()):
            try:
                blocks.append(vectorizer.fit_transform(texts) if transform else vectorizer.fit(texts))
            except ValueError as exc:
                if not any(marker in str(exc) for marker in _NOTHING_KEPT):
                    raise
                what = "word" if key == "word_min_df" else "character"
                progress.write(
                    f"tfidf: no {what} n-gram occurs in {getattr(self.config, key)} or more "
                    f"training rows (model.{key}); this fold goes without them"
                )
                continue
            self.vectorizers_.append(vectorizer)
        if not self.vectorizers_:
            raise FoldwiseError(
                "tfidf: no word or character n-gram occurs often enough in the training texts; "
                f"lower model.{' and model.'.join(self._min_df_keys())}"
            )
        return blocks

    def _min_df_keys(self) -> list[str]:
        """The ``min_df`` key of each vectorizer of :meth:`_vectorizers`, in order."""
        return [
            key
            for key, on in (
                ("word_min_df", self.config.word_ngram_range),
                ("char_min_df", self.config.char_ngram_range),
            )
            if on
        ]

    def _pair_features(self, pairs: np.ndarray, fit: bool) -> sparse.csr_matrix:
        """Features of (n, 2) sentence pairs: for each vectorizer, fit on both sides' texts
        (one shared vocabulary), the blocks [u, v, u*v, |u-v|] of the first side's vector u
        and the second's v, then the dense :func:`overlap_features` of the two sides."""
        first, second = pairs[:, 0], pairs[:, 1]
        if fit:
            self._fit_vectorizers(np.concatenate([first, second]), transform=False)
        blocks = []
        for vectorizer in self.vectorizers_:
            u, v = vectorizer.transform(first), vectorizer.transform(second)
            blocks += [u, v, u.multiply(v), abs(u - v)]
        blocks.append(sparse.csr_matrix(overlap_features(first, second)))
        return sparse.hstack(blocks, format="csr")

    def _logistic(self, solver: str = "lbfgs"):
        from sklearn.linear_model import LogisticRegression

        cfg = self.config
        return LogisticRegression(
            C=cfg.C, solver=solver, class_weight=cfg.class_weight, max_iter=cfg.max_iter, random_state=self.seed
        )

    def fit(self, texts, labels, valid_texts=None, valid_labels=None) -> None:
        from joblib import Parallel, delayed

        features = self._features(texts, fit=True)
        if self.numeric:
            from sklearn.linear_model import Ridge

            self.regressor_ = Ridge(alpha=self.config.alpha, random_state=self.seed).fit(
                features, np.asarray(labels, dtype=np.float64)
            )
            return
        if self.single_label:
            if _is_hard(labels):
                self.classifier_ = self._logistic().fit(features, labels.argmax(axis=1))
            else:  # soft targets (distillation, soft pseudo-labels): each row once per class, weighted by it
                rows, classes = np.nonzero(labels > 0)
                self.classifier_ = self._logistic().fit(features[rows], classes, sample_weight=labels[rows, classes])
            return
        # One binary problem per label, labels split into one chunk per worker. The
        # features are sent to each worker once and never memory-mapped: liblinear
        # cannot train on joblib's read-only memmaps.
        n_jobs = max(1, min(self.config.n_jobs, self.n_labels))
        chunks = np.array_split(np.arange(self.n_labels), n_jobs)
        fitted = Parallel(n_jobs=n_jobs, max_nbytes=None)(
            delayed(_fit_binary)(self._logistic("liblinear"), features, labels[:, chunk]) for chunk in chunks
        )
        self.estimators_ = [estimator for chunk in fitted for estimator in chunk]

    def predict(self, texts) -> np.ndarray:
        """(n, K) numbers (``numeric``), else (n, L) probabilities."""
        if not self.numeric:
            return self.predict_proba(texts)
        values = self.regressor_.predict(self._features(texts, fit=False))
        return np.asarray(values, dtype=np.float32).reshape(len(texts), -1)

    def predict_proba(self, texts) -> np.ndarray:
        features = self._features(texts, fit=False)
        if not self.single_label:  # one sigmoid-like column per label
            return np.stack([_positive_proba(e, features) for e in self.estimators_], axis=1).astype(np.float32)
        probs = self.classifier_.predict_proba(features)
        full = np.zeros((len(texts), self.n_labels), dtype=np.float32)
        full[:, self.classifier_.classes_] = probs  # a class absent from this fold's rows stays 0
        return full


_WORD = re.compile(r"\w+")

#: scikit-learn's messages for a vectorizer that kept no n-gram (all rarer than min_df, or no text)
_NOTHING_KEPT = ("no terms remain", "empty vocabulary", "max_df corresponds to < documents than min_df")


def overlap_features(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """(n, 5) float32 features of the two sides' lower-cased word sets: shared words
    (log(1 + count)), their Jaccard index, the share of the second side's words found in
    the first and of the first's found in the second, and the relative length difference
    (words of first - second) / (first + second)."""
    rows = []
    for a, b in zip(first, second):
        words_a, words_b = _WORD.findall(str(a).lower()), _WORD.findall(str(b).lower())
        set_a, set_b = set(words_a), set(words_b)
        shared = len(set_a & set_b)
        rows.append(
            [
                np.log1p(shared),
                shared / max(len(set_a | set_b), 1),
                shared / max(len(set_b), 1),
                shared / max(len(set_a), 1),
                (len(words_a) - len(words_b)) / max(len(words_a) + len(words_b), 1),
            ]
        )
    return np.asarray(rows, dtype=np.float32).reshape(len(rows), 5)


def _is_hard(labels: np.ndarray) -> bool:
    """0/1 targets (else soft ones: teacher probabilities)."""
    return bool(np.isin(labels, (0, 1)).all())


def _fit_binary(template, features: sparse.csr_matrix, labels: np.ndarray) -> list:
    """Fit one clone of ``template`` per label column; a constant column yields its rate.

    Soft targets p (a teacher's probabilities) are fit as each row twice, positive with
    weight p and negative with weight 1 - p: the weighted log loss is the cross-entropy
    against p.
    """
    from sklearn.base import clone

    fitted = []
    for j in range(labels.shape[1]):
        column = labels[:, j]
        if column.min() == column.max():
            fitted.append(float(column[0]))
        elif _is_hard(column):
            fitted.append(clone(template).fit(features, column))
        else:
            both = sparse.vstack([features, features]).tocsr()
            target = np.r_[np.ones(len(column)), np.zeros(len(column))]
            fitted.append(clone(template).fit(both, target, sample_weight=np.r_[column, 1 - column]))
    return fitted


def _positive_proba(estimator, features: sparse.csr_matrix) -> np.ndarray:
    if isinstance(estimator, float):
        return np.full(features.shape[0], estimator)
    return estimator.predict_proba(features)[:, 1]
