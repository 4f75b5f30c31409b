"""The plain scikit-learn baseline of the stsb benchmark: Ridge on TF-IDF of both sentences.

    .venv/bin/python bench/stsb_ridge.py                       # data/stsb/ (or built from the mirror)
    .venv/bin/python bench/stsb_ridge.py --data data/stsb --mirror ../shared/data/stsb

On the benchmark's own split (``data/stsb/train.csv``, ``test.csv`` and ``solution.csv``
as `foldwise data stsb` writes them; where they are missing, the stsb converter builds the
same split from the mirror's raw files in memory): one TfidfVectorizer (word 1-2-grams) fit
on both sentences of the train pairs, features = the two sentences' TF-IDF vectors side by
side (nothing cleverer: no products, differences or overlap), Ridge(alpha=1.0) on the score.
Prints Pearson and Spearman on the held-out test (scipy), the fit + predict seconds beside
the CPU's capability line, and the command. The Pearson is the stsb benchmark's reference
"plain scikit-learn Ridge on TF-IDF of both sentences, measured here".
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import pandas as pd


def load_split(data: Path, mirror: Path) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The train pairs and the held-out test pairs with their scores, and where they came from."""
    from foldwise.data.converters import CONVERTERS
    from foldwise.io.tables import read_csv

    files = [data / name for name in ("train.csv", "test.csv", "solution.csv")]
    if all(f.is_file() for f in files):
        train, test, solution = (read_csv(f) for f in files)
        source = str(data)
    else:
        frames = CONVERTERS["stsb"].from_mirror(mirror)
        train, test, solution = frames["train"], frames["test"], frames["solution"]
        source = f"{mirror} (the stsb converter, in memory: {data} has no train/test/solution.csv)"
    held = test.merge(solution, on="id", how="left", validate="one_to_one")
    if held["score"].isna().any():
        raise SystemExit(f"error: {source}: a test id has no score in solution.csv")
    return train.astype({"score": float}), held.astype({"score": float}), source


def ridge_scores(train: pd.DataFrame, test: pd.DataFrame, alpha: float) -> tuple[float, float]:
    """Pearson and Spearman of Ridge on [TF-IDF(sentence1), TF-IDF(sentence2)] on the test pairs."""
    from scipy.sparse import hstack
    from scipy.stats import pearsonr, spearmanr
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import Ridge

    vectorizer = TfidfVectorizer(ngram_range=(1, 2)).fit(pd.concat([train["sentence1"], train["sentence2"]]))

    def features(frame: pd.DataFrame):
        return hstack([vectorizer.transform(frame["sentence1"]), vectorizer.transform(frame["sentence2"])]).tocsr()

    predicted = Ridge(alpha=alpha).fit(features(train), train["score"]).predict(features(test))
    return float(pearsonr(predicted, test["score"])[0]), float(spearmanr(predicted, test["score"])[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("data/stsb"), help="the converted stsb competition")
    parser.add_argument("--mirror", type=Path, default=Path("../shared/data/stsb"), help="raw train.tsv + dev.tsv")
    parser.add_argument("--alpha", type=float, default=1.0, help="the Ridge penalty")
    args = parser.parse_args()
    from foldwise.train.precision import capability_line

    train, test, source = load_split(args.data, args.mirror)
    start = time.perf_counter()
    pearson, spearman = ridge_scores(train, test, args.alpha)
    seconds = time.perf_counter() - start
    print(f"stsb split from {source}: {len(train)} train pairs, {len(test)} held-out test pairs")
    print(f"Ridge(alpha={args.alpha:g}) on TF-IDF word 1-2-grams of both sentences, side by side:")
    print(f"  held-out Pearson {pearson:.4f}, Spearman {spearman:.4f}")
    print(f"  fit + predict {seconds:.1f} s; {capability_line()}")
    print(f"command: {shlex.join([Path(sys.executable).name, *sys.argv])}")


if __name__ == "__main__":
    main()
