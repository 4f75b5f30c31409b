"""Models of a given shape without the hub: random weights, a tokenizer that needs no files, synthetic texts.

Speed and memory do not depend on the weights, so a bench script can measure a
BERT-base- or 7B-shaped model on a machine that has neither the weights nor the
network (a lent GPU machine reaches nothing outside itself). :func:`save_random_model`
writes a randomly initialised model of a config with a tokenizer into a folder that
``from_pretrained`` (and so the kit's own backbones) loads like any model;
:func:`word_tokenizer` is a whole-word tokenizer over :data:`WORDS` for when no offline
tokenizer package is installed; :func:`synthetic_texts` makes rows of those words with
a seeded, long-tailed length distribution (what padding-by-length saves depends on it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

#: the vocabulary of synthetic texts (common English words: one token each in BERT's and SmolLM2's vocabularies)
WORDS = (
    "the of and to in is that for it as was with be by on not he this are or his from at which but have an they "
    "you were her she there one all we their can has more will would about if when what so no out up into time "
    "them some could only other new like then these two may first any my now such made over did because way "
    "well good great very after most also where much before must through back years just people world life day "
    "man work long little house even still own last never under might while place same old again home small"
).split()


def synthetic_texts(n: int, seed: int, median_words: float, sigma: float = 0.8, max_words: int = 400) -> np.ndarray:
    """(n,) texts of :data:`WORDS`, their word counts log-normal around ``median_words`` (``sigma`` 0:
    every text ``median_words`` long), clipped to [3, ``max_words``]."""
    rng = np.random.default_rng(seed)
    counts = np.clip(np.round(rng.lognormal(np.log(median_words), sigma, n)), 3, max_words).astype(int)
    return np.array([" ".join(rng.choice(WORDS, size=k)) for k in counts], dtype=object)


def word_tokenizer(style: str) -> Any:
    """A whole-word tokenizer over :data:`WORDS` built in memory: ``"encoder"`` wraps a text as
    ``[CLS] text [SEP]`` (BERT's special tokens); ``"decoder"`` as ``<s> text`` with ``</s>`` as EOS
    and no token types (a Llama-style model takes none)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    encoder = style == "encoder"
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] if encoder else ["<unk>", "<s>", "</s>"]
    vocab = {token: i for i, token in enumerate(specials + sorted(set(WORDS)))}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]" if encoder else "<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    if encoder:
        tokenizer.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]",
            pair="[CLS] $A [SEP] $B:1 [SEP]:1",
            special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
        )
        return PreTrainedTokenizerFast(
            tokenizer_object=tokenizer,
            pad_token="[PAD]",
            unk_token="[UNK]",
            cls_token="[CLS]",
            sep_token="[SEP]",
            mask_token="[MASK]",
        )
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A $B", special_tokens=[("<s>", vocab["<s>"])]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
        model_input_names=["input_ids", "attention_mask"],
    )


def save_random_model(config: Any, tokenizer: Any, folder: Path, causal: bool, dtype: Any = None) -> str:
    """A randomly initialised model of ``config`` (a language model when ``causal``, else the bare
    encoder) stored in ``dtype`` (None: the default), saved with ``tokenizer`` in ``folder``; its path.
    Initialised on the GPU when there is one (seconds for a billion weights)."""
    import torch
    from transformers import AutoModel, AutoModelForCausalLM

    auto = AutoModelForCausalLM if causal else AutoModel
    with torch.device("meta"):
        auto.from_config(config)  # fail fast on a wrong shape, before any memory is spent
    kwargs = {"dtype": dtype} if dtype is not None else {}
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
        model = auto.from_config(config, **kwargs)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)
