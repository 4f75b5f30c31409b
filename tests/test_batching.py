import numpy as np

from foldwise.train.batching import bucketed_batches, pad_batch


def test_every_row_exactly_once_and_deterministic():
    lengths = np.random.default_rng(0).integers(1, 100, 1000)
    batches = bucketed_batches(lengths, 32, seed=3)
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(1000))
    assert all(len(b) <= 32 for b in batches)
    again = bucketed_batches(lengths, 32, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(batches, again))
    other = bucketed_batches(lengths, 32, seed=4)
    assert not all(np.array_equal(a, b) for a, b in zip(batches, other))


def padding(lengths, batches):
    return sum(len(b) * lengths[b].max() - lengths[b].sum() for b in batches)


def test_bucketing_cuts_padding():
    lengths = np.random.default_rng(1).integers(1, 128, 5000)
    bucketed = padding(lengths, bucketed_batches(lengths, 32, seed=0, bucket_batches=50))
    plain = padding(lengths, bucketed_batches(lengths, 32, seed=0, bucket_batches=1))
    assert bucketed < 0.2 * plain


def test_dynamic_padding_never_beyond_batch_maximum():
    rows = [[5, 6, 7], [8], [9, 10]]
    batch = pad_batch(rows, pad_id=0, labels=np.eye(3))
    assert batch["input_ids"].shape == (3, 3)  # the longest row, not a fixed max_length
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 0, 0], [9, 10, 0]]
    assert batch["attention_mask"].sum(1).tolist() == [3, 1, 2]
    assert batch["labels"].dtype.is_floating_point


def test_inference_order_is_longest_first():
    lengths = np.array([3, 9, 1, 7])
    assert np.concatenate(bucketed_batches(lengths, 2, seed=0, shuffle=False)).tolist() == [1, 3, 0, 2]
