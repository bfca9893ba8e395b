"""Shared helpers: seeded splits, limits, padding and dict collation."""

import numpy as np
import pytest
import torch

from plait.data.base import split_indices, take_limit
from plait.data.checks import DataError
from plait.data.columns import ColumnDataset as ArrayDictDataset
from plait.data.columns import collate_dicts, pad_sequences
from plait.data.text import OOV, PAD, build_vocab, encode, tokenize


def test_split_is_deterministic_by_seed_and_disjoint():
    a = split_indices(100, val_fraction=0.1, test_fraction=0.2, seed=3, owner="T")
    b = split_indices(100, val_fraction=0.1, test_fraction=0.2, seed=3, owner="T")
    c = split_indices(100, val_fraction=0.1, test_fraction=0.2, seed=4, owner="T")
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["val"], c["val"])
    assert [len(a[k]) for k in ("train", "val", "test")] == [70, 10, 20]
    assert sorted(np.concatenate(list(a.values())).tolist()) == list(range(100))


@pytest.mark.parametrize(("val", "test", "key"), [(1.0, 0.0, "val_fraction"),
                                                  (-0.1, 0.0, "val_fraction"),
                                                  (0.6, 0.5, r"val_fraction \+ data\.test_fraction")])
def test_bad_fractions_name_the_key(val, test, key):
    with pytest.raises(DataError, match=rf"data\.{key}"):
        split_indices(10, val_fraction=val, test_fraction=test, seed=0, owner="T")


def test_limit_takes_a_seeded_slice():
    idx = np.arange(50)
    assert np.array_equal(take_limit(idx, 5, 0), take_limit(idx, 5, 0))
    assert len(take_limit(idx, 5, 0)) == 5
    assert take_limit(idx, None, 0) is idx


def test_collate_pads_token_ids_and_passes_ready_batches():
    samples = [{"q": torch.tensor([3, 4, 5]), "y": torch.tensor(1)},
               {"q": torch.tensor([6]), "y": torch.tensor(0)}]
    batch = collate_dicts(samples)
    assert batch["q"].tolist() == [[3, 4, 5], [6, 0, 0]]
    assert batch["y"].tolist() == [1, 0]
    assert collate_dicts(batch) == batch
    assert pad_sequences([torch.tensor([1, 2])], length=4).tolist() == [[1, 2, 0, 0]]


def test_array_dataset_answers_whole_batches():
    ds = ArrayDictDataset({"x": np.arange(12, dtype=np.float32).reshape(6, 2),
                           "y": np.arange(6, dtype=np.int64)})
    batch = ds.__getitems__([4, 1])
    assert batch["x"].shape == (2, 2) and batch["y"].tolist() == [4, 1]
    assert batch["y"].dtype == torch.int64
    with pytest.raises(DataError, match="differ in length"):
        ArrayDictDataset({"x": np.zeros(3), "y": np.zeros(4)})


def test_vocabulary_comes_from_training_text_only():
    train = [tokenize("What color is the shape?"), tokenize("Is the shape red?")]
    vocab = build_vocab(train, vocab_size=10, owner="T")
    assert "blue" not in vocab and vocab["the"] >= 2 and vocab["shape"] >= 2
    ids, lengths = encode([tokenize("is the shape blue")], vocab, width=6)
    assert ids[0].tolist() == [vocab["is"], vocab["the"], vocab["shape"], OOV, PAD, PAD]
    assert lengths.tolist() == [4]


def test_vocabulary_too_small_names_the_key_or_is_capped():
    train = [["a", "b", "b", "c", "c", "c"]]
    with pytest.raises(DataError, match=r"data\.vocab_size >= 5.*data\.vocab_size is 4"):
        build_vocab(train, vocab_size=4, owner="T")
    assert build_vocab(train, vocab_size=4, cap=True, owner="T") == {"c": 2, "b": 3}
