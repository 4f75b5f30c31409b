"""Dynamic padding and length-bucketed batches: most of a CPU's (and GPU's) speed-up.

Padding every row to a fixed 128 tokens wastes most of the compute on short texts.
Batches are padded to their own longest row, and rows of similar length are grouped:
shuffle, cut into chunks of ``bucket_batches`` batches, sort each chunk by length, cut
batches, shuffle the batch order. Randomness stays; padding nearly vanishes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch


def bucketed_batches(
    lengths: np.ndarray, batch_size: int, seed: int, bucket_batches: int = 50, shuffle: bool = True
) -> list[np.ndarray]:
    """Row indices grouped into batches of similar length.

    Parameters
    ----------
    lengths : (n,) token count of every row.
    batch_size : rows per batch (the last batch may be smaller).
    seed : seed of this epoch's shuffle (pass base seed + epoch).
    bucket_batches : batches per sorted chunk; 1 disables bucketing (plain shuffle).
    shuffle : False sorts all rows by length (inference: least padding, order restored later).
    """
    n = len(lengths)
    if not shuffle:
        order = np.argsort(-lengths, kind="stable")
        return [order[i : i + batch_size] for i in range(0, n, batch_size)]
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    chunk = batch_size * max(1, bucket_batches)
    batches = []
    for start in range(0, n, chunk):
        part = order[start : start + chunk]
        if bucket_batches > 1:
            part = part[np.argsort(-lengths[part], kind="stable")]
        batches += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    return batches


@dataclass
class TokenizedRows:
    """Unpadded token ids of every sequence and, when the tokenizer makes them (BERT-like
    models, and sentence pairs: 0 for the first side, 1 for the second), token type ids.

    One sequence is not always one row: ``row_of[i]`` is the row sequence ``i`` belongs to
    (a long context split into windows gives a row several sequences; None: sequence i is
    row i). ``targets`` holds each sequence's training targets in the head's type (float
    0/1 labels for classification, int token positions for spans; None at inference).
    """

    input_ids: list[list[int]]
    token_type_ids: list[list[int]] | None = None
    row_of: np.ndarray | None = None
    targets: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.input_ids)

    def lengths(self) -> np.ndarray:
        """(n,) tokens per sequence (both sides of a pair together): what batches are bucketed on."""
        return np.array([len(ids) for ids in self.input_ids])

    def rows(self) -> np.ndarray:
        """(n,) the row of every sequence."""
        return np.arange(len(self)) if self.row_of is None else self.row_of

    def batch(
        self,
        rows: np.ndarray,
        pad_id: int,
        labels: np.ndarray | None = None,
        padding_side: str = "right",
        with_targets: bool = False,
    ) -> dict[str, torch.Tensor]:
        """The padded tensors of sequences ``rows`` (see :func:`pad_batch`); their ``labels``
        are ``labels``, or this object's targets when ``with_targets``."""
        types = None if self.token_type_ids is None else [self.token_type_ids[r] for r in rows]
        if with_targets and self.targets is not None:
            labels = self.targets[rows]
        return pad_batch(
            [self.input_ids[r] for r in rows], pad_id, labels, token_type_ids=types, padding_side=padding_side
        )


def pad_batch(
    input_ids: list[list[int]],
    pad_id: int,
    labels: np.ndarray | None = None,
    token_type_ids: list[list[int]] | None = None,
    padding_side: str = "right",
) -> dict[str, torch.Tensor]:
    """Pad token id lists to the longest one in the batch; attention mask marks real tokens.

    ``padding_side="left"`` puts the padding before the tokens (decoders that pool the
    last position). Token type ids, when given, are padded with 0 and returned as
    ``token_type_ids``; ``labels`` become ``labels`` (float32, or int64 for integer targets).
    """
    width = max(len(ids) for ids in input_ids)
    ids = torch.full((len(input_ids), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(input_ids), width), dtype=torch.long)
    types = None if token_type_ids is None else torch.zeros((len(input_ids), width), dtype=torch.long)
    for i, row in enumerate(input_ids):
        span = slice(width - len(row), width) if padding_side == "left" else slice(0, len(row))
        ids[i, span] = torch.tensor(row, dtype=torch.long)
        mask[i, span] = 1
        if types is not None and token_type_ids is not None:
            types[i, span] = torch.tensor(token_type_ids[i], dtype=torch.long)
    batch = {"input_ids": ids, "attention_mask": mask}
    if types is not None:
        batch["token_type_ids"] = types
    if labels is not None:  # 0/1 labels train as floats; integer targets (token positions) stay integers
        integer = np.asarray(labels).dtype.kind == "i"
        batch["labels"] = torch.as_tensor(labels, dtype=torch.long if integer else torch.float32)
    return batch


def tokenize(tokenizer: Any, texts: np.ndarray, max_length: int) -> TokenizedRows:
    """Token ids per text, truncated, unpadded (padding happens per batch).

    Sentence pairs ((n, 2) texts) are encoded the model's own way: ``tokenizer(first,
    second)`` puts its separator between the sides (``[CLS] a [SEP] b [SEP]`` for BERT)
    and marks them with token types 0 and 1; the longer side is truncated first.
    """
    if np.ndim(texts) == 2:
        texts = np.asarray(texts, dtype=object)
        encoded = tokenizer(
            [str(t) for t in texts[:, 0]],
            [str(t) for t in texts[:, 1]],
            truncation="longest_first",
            max_length=max_length,
            padding=False,
        )
    else:
        encoded = tokenizer([str(t) for t in texts], truncation=True, max_length=max_length, padding=False)
    return TokenizedRows(encoded["input_ids"], encoded.get("token_type_ids"))
