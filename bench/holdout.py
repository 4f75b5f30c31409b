"""Hold out part of a real competition's train.csv, as the issues' newcomer checks do, and
score a plain scikit-learn baseline on the same rows.

    .venv/bin/python bench/holdout.py ../kaggle/nlp-getting-started ../kaggle-holdout/tweets --label target
    .venv/bin/python bench/holdout.py ../kaggle/spooky-author-identification ../kaggle-holdout/spooky --label author

Writes ``OUT/train.csv`` (the kept rows), ``OUT/test.csv`` (the held-out rows without the
label), ``OUT/sample_submission.csv`` (the competition's sample layout, its first row's cells
on every held-out id) and ``OUT/solution.csv`` (the held-out labels laid out like the
sample: the 0/1 column itself, or one 0/1 column per class). A data config pointing its
``dir:`` at OUT then runs `foldwise folds/train/ensemble`, and
``foldwise score submissions/<name>.csv --solution OUT/solution.csv`` gives the held-out
figure. The split is stratified on the label and seeded (``--share``, ``--seed``).

It also prints the held-out score of a plain TF-IDF (word 1-2 grams) + logistic
regression on ``--text`` at the default decision (0.5 / argmax): F1 of class 1 for a 0/1
label, multi-class log loss for class names.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def split(source: Path, out: Path, label: str, share: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, list]:
    """Write the held-out competition into ``out``; the kept rows, the held-out rows and the sample's targets."""
    from sklearn.model_selection import train_test_split

    train, sample = read(source / "train.csv"), read(source / "sample_submission.csv")
    if label not in train.columns:
        raise SystemExit(f"error: {source / 'train.csv'}: no column '{label}' (--label)")
    kept, held = train_test_split(train, test_size=share, random_state=seed, stratify=train[label])
    id_column, targets = sample.columns[0], list(sample.columns[1:])
    out.mkdir(parents=True, exist_ok=True)
    kept.to_csv(out / "train.csv", index=False)
    held.drop(columns=label).to_csv(out / "test.csv", index=False)
    layout = pd.DataFrame({id_column: held[id_column].to_numpy()})
    for column in targets:
        layout[column] = sample[column].iloc[0]
    layout.to_csv(out / "sample_submission.csv", index=False)
    solution = pd.DataFrame({id_column: held[id_column].to_numpy()})
    for column in targets:  # the 0/1 column itself, or one 0/1 column per class name
        solution[column] = (held[label] if targets == [label] else (held[label] == column).astype(int)).to_numpy()
    solution.to_csv(out / "solution.csv", index=False)
    return kept, held, targets


def plain_baseline(kept: pd.DataFrame, held: pd.DataFrame, label: str, text: str, targets: list) -> str:
    """The held-out score of TF-IDF + logistic regression at the default decision, in words."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score, log_loss

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    model = LogisticRegression(C=4.0, max_iter=2000).fit(vectorizer.fit_transform(kept[text]), kept[label])
    features = vectorizer.transform(held[text])
    if targets == [label]:
        return f"F1 of class 1 at 0.5: {f1_score(held[label], model.predict(features), pos_label='1'):.4f}"
    return f"log loss: {log_loss(held[label], model.predict_proba(features), labels=model.classes_):.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="folder with the competition's train.csv and sample_submission.csv")
    parser.add_argument("out", type=Path, help="folder for the held-out competition")
    parser.add_argument("--label", required=True, help="train column holding the target (0/1, or class names)")
    parser.add_argument("--text", default="text", help="text column of the plain baseline")
    parser.add_argument("--share", type=float, default=0.15, help="share of rows held out")
    parser.add_argument("--seed", type=int, default=0, help="seed of the stratified split")
    args = parser.parse_args()
    kept, held, targets = split(args.source, args.out, args.label, args.share, args.seed)
    print(f"{args.out}: {len(kept)} train rows, {len(held)} held out (seed {args.seed}); solution.csv beside them")
    print(
        f"plain TF-IDF + logistic regression on '{args.text}', held out: "
        f"{plain_baseline(kept, held, args.label, args.text, targets)}"
    )


if __name__ == "__main__":
    main()
