"""MNIST 5k pairs for "same digit?": balanced, drawn inside one split, deterministic by seed."""

from pathlib import Path

import numpy as np
import pytest
import torch

from plait.data import DataError, MNISTPairsDataModule
from plait.data.mnist_pairs import draw_pairs
from plait.data.sources.mnist import load_mnist


@pytest.fixture(scope="module")
def pairs(plait_cache: Path) -> MNISTPairsDataModule:
    data = MNISTPairsDataModule(cache_dir=str(plait_cache), batch_size=32)
    data.prepare_data()
    data.setup("fit")
    return data


def _global_ids(data: MNISTPairsDataModule, split: str) -> tuple[np.ndarray, np.ndarray]:
    """The row numbers, in the package's file, of each pair's two images."""
    ids, dataset = data.image_ids[split], data.splits[split]
    return ids[dataset.a], ids[dataset.b]


def test_batches_are_keyed_typed_and_shaped(pairs: MNISTPairsDataModule):
    assert pairs.provides == {"digit_a", "digit_b", "same"}
    batch = next(iter(pairs.train_dataloader()))
    assert batch["digit_a"].shape == batch["digit_b"].shape == (32, 1, 28, 28)
    assert batch["digit_a"].dtype == torch.float32 and batch["digit_a"].max() <= 1
    assert batch["same"].dtype == torch.float32 and batch["same"].shape == (32,)


def test_every_split_is_exactly_balanced(pairs: MNISTPairsDataModule):
    assert [len(pairs.splits[s]) for s in ("train", "val", "test")] == [7000, 1000, 2000]
    for split in ("train", "val", "test"):
        assert pairs.splits[split].same.mean() == 0.5


def test_targets_say_whether_the_digits_match(plait_cache: Path, pairs: MNISTPairsDataModule):
    _, labels = load_mnist(plait_cache, "test")
    for split in ("train", "val", "test"):
        a, b = _global_ids(pairs, split)
        assert np.array_equal(labels[a] == labels[b], pairs.splits[split].same == 1)
        assert (a != b).all()  # a same pair is two different images of one digit


def test_pairs_never_mix_splits(pairs: MNISTPairsDataModule):
    for split in ("train", "val", "test"):
        a, b = _global_ids(pairs, split)
        own = set(pairs.image_ids[split].tolist())
        assert set(a.tolist()) <= own and set(b.tolist()) <= own
    assert not set(pairs.image_ids["train"].tolist()) & set(pairs.image_ids["test"].tolist())


def test_different_pairs_spread_over_all_other_digits(plait_cache: Path,
                                                      pairs: MNISTPairsDataModule):
    _, labels = load_mnist(plait_cache, "test")
    a, b = _global_ids(pairs, "train")
    different = pairs.splits["train"].same == 0
    seen = np.zeros((10, 10), dtype=int)
    np.add.at(seen, (labels[a[different]], labels[b[different]]), 1)
    assert (np.diag(seen) == 0).all()
    assert (seen + np.eye(10, dtype=int) > 0).all()  # every ordered pair of digits occurs


def test_pairs_are_deterministic_by_seed(plait_cache: Path, pairs: MNISTPairsDataModule):
    again = MNISTPairsDataModule(cache_dir=str(plait_cache), seed=0)
    other = MNISTPairsDataModule(cache_dir=str(plait_cache), seed=1)
    again.setup()
    other.setup()
    assert np.array_equal(_global_ids(again, "val")[1], _global_ids(pairs, "val")[1])
    assert not np.array_equal(_global_ids(other, "val")[1], _global_ids(pairs, "val")[1])


def test_limit_and_pairs_per_image(plait_cache: Path):
    data = MNISTPairsDataModule(cache_dir=str(plait_cache), pairs_per_image=0.5, limit=100)
    data.setup()
    assert len(data.splits["train"].dataset) == 1750
    assert [len(data.splits[s]) for s in ("train", "val", "test")] == [100, 100, 100]


def test_draw_pairs_refuses_a_class_with_one_image():
    labels = np.array([0, 0, 1, 2, 2])
    with pytest.raises(DataError, match=r"2 classes with 2 images each.*1: 1"):
        draw_pairs(labels, 10, np.random.default_rng(0), owner="x")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"pairs_per_image": 0}, r"data\.pairs_per_image must be above 0, got 0"),
    ({"right_key": "digit_a"}, r"batch keys must differ.*data\.right_key='digit_a'"),
])
def test_bad_settings_name_the_key(plait_cache: Path, kwargs, message):
    with pytest.raises(DataError, match=message):
        MNISTPairsDataModule(cache_dir=str(plait_cache), **kwargs)
