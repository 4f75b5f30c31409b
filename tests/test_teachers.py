"""Distillation and pseudo-labels: what a fold trains on, fold safety asserted on ids, end to end with TF-IDF."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import FOLDWISE, TINY_TFIDF, cli_env, toy_frames, write_competition, write_configs

from foldwise.stages.teachers import Teachers, confidence, confidence_cut, fold_training_rows


class Cut:
    """A decider with a 0.5 cut per label."""

    def predict(self, probs):
        return (np.asarray(probs) >= 0.5).astype(np.uint8)


class LabelTask:
    kind = "multilabel"

    @staticmethod
    def take(values, rows):
        return values[rows]


def setting(n_train=30, n_test=8, n_labels=2, seed=0):
    rng = np.random.default_rng(seed)
    fold = np.arange(n_train) % 3
    truth = (rng.random((n_train, n_labels)) < 0.4).astype(np.uint8)
    texts = np.array([f"train {i}" for i in range(n_train)], dtype=object)
    test_texts = np.array([f"test {i}" for i in range(n_test)], dtype=object)
    return fold, truth, texts, test_texts


def test_distilled_targets_mix_labels_and_teacher_oof_and_keep_validation_rows_out():
    fold, truth, texts, test_texts = setting()
    soft = np.random.default_rng(1).random(truth.shape).astype(np.float32)
    teachers = Teachers(soft_labels=soft, weight=0.25)
    for k in range(3):
        fit_texts, targets, pseudo = fold_training_rows(teachers, LabelTask, truth, texts, test_texts, fold, k)
        train_ids = {t for t in fit_texts}
        assert not train_ids & set(texts[fold == k])  # no validation row of fold k in its training
        np.testing.assert_allclose(targets, 0.75 * truth[fold != k] + 0.25 * soft[fold != k], rtol=1e-6)
        assert len(pseudo) == 0


def test_pseudo_labels_come_from_the_folds_own_teacher_models_and_a_cut_chosen_without_its_rows():
    fold, truth, texts, test_texts = setting()
    oof = np.where(truth == 1, 0.9, 0.1).astype(np.float32)  # a teacher right everywhere out of fold
    per_fold = [np.full((len(test_texts), 2), value, dtype=np.float32) for value in (0.97, 0.03, 0.6)]
    teachers = Teachers(pseudo_oof=oof, pseudo_test=per_fold, decider=Cut(), mode="hard", min_agreement=0.9)
    for k, expected_rows, expected_label in ((0, 8, 1), (1, 8, 0), (2, 0, None)):
        fit_texts, targets, chosen = fold_training_rows(teachers, LabelTask, truth, texts, test_texts, fold, k)
        assert set(fit_texts) - set(texts) == set(test_texts[chosen])  # only test rows are added
        assert not set(fit_texts) & set(texts[fold == k])
        assert len(chosen) == expected_rows  # fold 2's teacher is unsure (0.6 < the cut 0.9)
        if expected_label is not None:
            assert (targets[-len(chosen):] == expected_label).all()
    wrong_on_fold0 = oof.copy()
    wrong_on_fold0[fold == 0] = 1 - wrong_on_fold0[fold == 0]  # fold 0's own rows cannot move fold 0's cut
    outside = fold != 0
    assert confidence_cut(teachers, truth[outside], oof[outside], "multilabel") == \
        confidence_cut(teachers, truth[outside], wrong_on_fold0[outside], "multilabel")
    soft = Teachers(pseudo_oof=oof, pseudo_test=per_fold, decider=Cut(), mode="soft", min_agreement=0.9)
    _, targets, chosen = fold_training_rows(soft, LabelTask, truth, texts, test_texts, fold, 0)
    np.testing.assert_allclose(targets[-len(chosen):], 0.97)


def test_confidence_is_the_least_certain_label_or_the_top_class():
    probs = np.array([[0.9, 0.2], [0.6, 0.99]])
    np.testing.assert_allclose(confidence(probs, "multilabel"), [0.8, 0.6])
    np.testing.assert_allclose(confidence(np.array([[0.7, 0.2, 0.1]]), "multiclass"), [0.7])


@pytest.fixture
def toy(tmp_path):
    train, test = toy_frames(n_train=90, n_test=30)
    write_competition(tmp_path / "data" / "toy", train, test)
    write_configs(tmp_path, {"toy": "name: toy\ntask: multilabel\nfolds: {n_splits: 3, seed: 0}\n"},
                  {"teacher": "data: toy\n" + TINY_TFIDF,
                   "distilled": "data: toy\ndistill: {teacher: teacher, weight: 0.5}\n" + TINY_TFIDF,
                   "pseudo": "data: toy\npseudo_labels: {teacher: teacher, mode: soft, min_agreement: 0.5}\n"
                             + TINY_TFIDF})
    for args in (("folds", "toy"), ("train", "configs/teacher.yaml"), ("ensemble", "teacher")):
        cli(tmp_path, *args)
    return tmp_path


def cli(root: Path, *args: str, code: int = 0) -> subprocess.CompletedProcess:
    done = subprocess.run([*FOLDWISE, *args], cwd=root, capture_output=True, text=True, env=cli_env())
    assert done.returncode == code, done.stderr[-3000:]
    return done


def test_students_train_end_to_end_and_their_fingerprint_names_the_teacher(toy):
    cli(toy, "train", "configs/distilled.yaml")
    out = cli(toy, "train", "configs/pseudo.yaml").stdout
    assert "test rows pseudo-labelled (soft" in out
    saved = yaml.safe_load((toy / "runs" / "distilled" / "config.yaml").read_text())
    assert saved["distill"]["teacher_sha256"]
    assert pd.read_csv(toy / "runs" / "pseudo" / "oof.csv").shape[0] == 90
    teacher_oof = pd.read_csv(toy / "runs" / "teacher" / "oof.csv")
    student_oof = pd.read_csv(toy / "runs" / "distilled" / "oof.csv")
    assert not np.allclose(teacher_oof.iloc[:, 1:], student_oof.iloc[:, 1:])  # the student learnt something else
    cli(toy, "train", "configs/teacher.yaml", "--set", "model.C=0.3", "--force")  # a new teacher ...
    again = cli(toy, "train", "configs/distilled.yaml", code=2)  # ... is another config for its students
    assert "distill.teacher_sha256" in again.stderr


def test_teachers_refuse_what_they_cannot_teach(toy):
    done = cli(toy, "train", "configs/distilled.yaml", "--set", "distill.teacher=nope", code=2)
    assert "runs/nope: no finished run here" in done.stderr
    cli(toy, "ensemble", "teacher", "--method", "stack", "--name", "stacked")
    done = cli(toy, "train", "configs/pseudo.yaml", "--set", "pseudo_labels.teacher=stacked", code=2)
    assert "stacked blends by stack" in done.stderr


def test_soft_targets_train_the_softmax_loss_and_tfidf_as_cross_entropy_against_them():
    import torch

    from foldwise.models.tfidf import TfidfConfig, TfidfModel
    from foldwise.train.losses import cross_entropy

    logits = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 0.0]])
    one_hot = torch.tensor([[1.0, 0, 0], [0, 0, 1.0]])
    by_index = torch.nn.functional.cross_entropy(logits, torch.tensor([0, 2]))
    assert torch.allclose(cross_entropy(logits, one_hot), by_index)
    soft = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    expected = -(soft * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()
    assert torch.allclose(cross_entropy(logits, soft), expected)
    texts = np.array(["red apple", "green apple", "red car", "blue car", "red sky", "blue sky"] * 5, dtype=object)
    hard = np.eye(3, dtype=np.float32)[[0, 0, 1, 1, 2, 2] * 5]
    for kind, targets in (("multiclass", 0.6 * hard + 0.4 / 3), ("multilabel", 0.8 * hard + 0.1)):
        model = TfidfModel(TfidfConfig(word_min_df=1, char_ngram_range=[], n_jobs=1), task=kind, n_labels=3, seed=0)
        model.fit(texts, targets)
        probs = model.predict(texts[:6])
        assert (probs.argmax(axis=1) == [0, 0, 1, 1, 2, 2]).all()
        assert probs.max() < 0.99  # soft targets: no row pushed to certainty
