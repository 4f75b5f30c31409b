"""Trained folds are reused only for the same config AND the same data (ids, texts, labels)."""

import pandas as pd
import pytest
from conftest import toy_frames, write_competition

from foldwise.data.competition import load_competition
from foldwise.data.folds import write_folds
from foldwise.errors import FoldwiseError
from foldwise.experiment import load_experiment
from foldwise.stages.cv import run_cv


@pytest.fixture
def experiment(in_tmp):
    """A toy competition in data/toy/, its folds, and configs/tiny.yaml (a fast TF-IDF)."""
    train, test = toy_frames()
    write_competition(in_tmp / "data" / "toy", train, test)
    (in_tmp / "configs").mkdir()
    path = in_tmp / "configs" / "tiny.yaml"
    path.write_text(
        "data: {name: toy, folds: {n_splits: 3, seed: 0}}\n"
        "model: {kind: tfidf, word_min_df: 1, char_ngram_range: [], n_jobs: 1}\n"
    )
    cfg = load_experiment(path)
    data = load_competition(cfg.data)
    write_folds(cfg.data, data.train_ids, data.labels, data.label_names)
    return path


def edit_train(root, edit) -> None:
    path = root / "data" / "toy" / "train.csv"
    frame = pd.read_csv(path, dtype=str)
    edit(frame)
    frame.to_csv(path, index=False)


def test_changed_labels_refuse_the_old_folds(experiment, in_tmp):
    assert run_cv(load_experiment(experiment)).trained == [0, 1, 2]
    assert run_cv(load_experiment(experiment)).skipped == [0, 1, 2]  # same data: reused

    edit_train(in_tmp, lambda t: t.__setitem__("joy", t["joy"].where(t.index != 5, str(1 - int(t["joy"][5])))))
    with pytest.raises(FoldwiseError, match="other data") as info:
        run_cv(load_experiment(experiment))
    assert "another config" not in str(info.value) and "--force" in str(info.value)
    assert run_cv(load_experiment(experiment), force=True).trained == [0, 1, 2]


def test_changed_text_or_config_is_named(experiment, in_tmp):
    run_cv(load_experiment(experiment))
    with pytest.raises(FoldwiseError, match="another config") as info:
        run_cv(load_experiment(experiment, ["model.C=1"]))
    assert "data" not in str(info.value).split("was trained with")[1]

    edit_train(in_tmp, lambda t: t.__setitem__("text", t["text"].where(t.index != 0, "a new text")))
    with pytest.raises(FoldwiseError, match="other data"):
        run_cv(load_experiment(experiment))


def test_content_hash_follows_ids_texts_and_labels(experiment, in_tmp):
    cfg = load_experiment(experiment).data
    before = load_competition(cfg).content_sha256
    assert load_competition(cfg).content_sha256 == before
    edit_train(in_tmp, lambda t: t.__setitem__("fear", t["fear"].where(t.index != 9, str(1 - int(t["fear"][9])))))
    after = load_competition(cfg).content_sha256
    edit_train(in_tmp, lambda t: t.__setitem__("id", t["id"].where(t.index != 9, "renamed")))
    assert len({before, after, load_competition(cfg).content_sha256}) == 3


def test_ensemble_refuses_a_run_trained_on_other_labels(experiment, in_tmp):
    from foldwise.stages.make_submission import ensemble

    run_cv(load_experiment(experiment))
    edit_train(in_tmp, lambda t: t.__setitem__("joy", t["joy"].where(t.index != 5, str(1 - int(t["joy"][5])))))
    with pytest.raises(FoldwiseError, match="trained on other data"):
        ensemble(["tiny"], "blend")
    assert not (in_tmp / "submissions").exists()
