"""LLM + LoRA training samples/s and inference rows/s on an experiment's own rows under changed settings.

    .venv/bin/python bench/llm_settings.py configs/movie_genres-smollm2-lora.yaml \\
        --vary model.lora_dropout=0.05 --vary model.precision=bf16 --vary model.eval_batch_size=64

Trains the experiment's model (``foldwise.train.training.fit``, the loop every fold uses) for one
epoch on the first ``--rows`` training rows, cleaned as a run cleans them, then predicts the
same rows (``predict``, what a fold does for its validation and test rows),
once as the config says and once per ``--vary`` override (``--set`` syntax), all in this
run, after an untimed warm-up on 16 rows. Prints training samples/s (timed with model
loading and tokenisation), inference rows/s, and each variant's ratios to the config. It
answers "what does this setting cost here" before a multi-hour CPU run is budgeted.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np
from llm_throughput import measure


def main() -> None:
    from foldwise.data.competition import load_competition
    from foldwise.data.text import clean_texts
    from foldwise.experiment import load_experiment
    from foldwise.models import model_class
    from foldwise.tasks.classification.head import ClassificationHead
    from foldwise.train import training

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", help="an experiment YAML with a neural model kind")
    parser.add_argument("--rows", type=int, default=96)
    parser.add_argument(
        "--vary",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="one variant per flag, e.g. model.lora_dropout=0.05",
    )
    args = parser.parse_args()
    base = load_experiment(args.config)
    data = load_competition(base.data)
    texts = clean_texts(data.train_texts[: args.rows], base.text)
    labels = data.labels[: args.rows].astype(np.float32)
    runs = [("as configured", base)] + [(v, load_experiment(args.config, [v])) for v in args.vary]
    print(
        f"{args.config}: {len(texts)} rows of {base.data.name}, batch {base.model.batch_size}, "
        f"max length {base.model.max_length}, 1 epoch"
    )
    warm = dataclasses.replace(base.model, epochs=1, max_rows_per_fold=None)  # untimed: caches, lazy imports
    measure(model_class(warm.kind).backbone_class(warm), texts[:16], labels[:16])
    results = []
    for name, cfg in runs:
        model = dataclasses.replace(cfg.model, epochs=1, max_rows_per_fold=None)
        backbone = model_class(model.kind).backbone_class(model)
        seconds, _, fitted = measure(backbone, texts, labels)
        start = time.perf_counter()
        training.predict(
            backbone, ClassificationHead("multilabel", labels.shape[1], model), fitted.model, fitted.tokenizer, texts
        )
        results.append((name, len(texts) / seconds, len(texts) / (time.perf_counter() - start)))
    print(f"{'setting':<36} {'train samples/s':>16} {'vs config':>10} {'predict rows/s':>15} {'vs config':>10}")
    for name, train_rate, predict_rate in results:
        print(
            f"{name:<36} {train_rate:>16.2f} {train_rate / results[0][1]:>9.2f}x "
            f"{predict_rate:>15.2f} {predict_rate / results[0][2]:>9.2f}x"
        )


if __name__ == "__main__":
    from foldwise.errors import FoldwiseError

    try:
        main()
    except FoldwiseError as err:  # a bad config, --vary key or data: one line, no traceback
        raise SystemExit(f"error: {err}")
