"""MNIST 5k (read by `plait.data.sources.mnist`): single digits, and the base of the data
sets made of these digits (pairs, moving-digit videos)."""

from __future__ import annotations

from typing import Any

import numpy as np

from plait.data.base import DictDataModule
from plait.data.checks import image_keys, room
from plait.data.columns import ColumnDataset, image_columns, scale_uint8
from plait.data.sources import mnist
from plait.data.sources.mnist import CLASSES, load_mnist


class MNISTBase(DictDataModule):
    """The MNIST 5k cache and its seeded split, for the data sets made of these digits.

    Args:
        **common: as `DictDataModule`; the fractions are shares of the 5,000 images.
    """

    source = mnist

    def __init__(self, *, test_fraction: float = 0.2, **common: Any) -> None:
        super().__init__(test_fraction=test_fraction, **common)
        self.image_ids: dict[str, np.ndarray] = {}

    num_classes = CLASSES  # the digits' classes; MNISTDataModule takes its own

    def split_digits(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Each split's images `(n, 28, 28)` uint8 and labels `(n,)` int64.

        Every image lies in exactly one split; `self.image_ids[split]` keeps which of the
        5,000 (row numbers in the package's file), so derived examples can be traced back.
        """
        images, labels = load_mnist(self.cache_dir, self.owner)
        self.image_ids = self.split(len(labels))
        return {name: (images[rows], labels[rows]) for name, rows in self.image_ids.items()}


class MNISTDataModule(MNISTBase):
    """MNIST 5k digits as an `image`, a flat `pixels` vector, or both, with a `digit` class.

    Pixels are scaled to [0, 1]. The 5,000 images are split by `seed` (3,500 / 500 / 1,000
    with the default fractions).

    Args:
        image_key: batch key of the `(1, 28, 28)` float32 image; None leaves it out.
        pixels_key: batch key of the `(784,)` float32 vector; None leaves it out.
        target_key: batch key of the int64 digit class.
        num_classes: classes the head predicts; the data has 10.
        **common: as `MNISTBase`.

    Shape:
        image `(B, 1, 28, 28)`, pixels `(B, 784)`, digit `(B,)`.
    """

    def __init__(self, *, image_key: str | None = "image", pixels_key: str | None = None,
                 target_key: str = "digit", num_classes: int = 10, **common: Any) -> None:
        super().__init__(**common)
        self.check(image_keys(image_key, pixels_key, target_key))
        self.image_key, self.pixels_key, self.target_key = image_key, pixels_key, target_key
        self.keys = (image_key, pixels_key, target_key)
        self.num_classes = num_classes

    def build_splits(self) -> dict[str, ColumnDataset]:
        self.check(room("num_classes", self.num_classes, CLASSES, f"the data has {CLASSES} classes"))
        return {name: ColumnDataset({
                    self.target_key: labels,
                    **image_columns(scale_uint8(images[:, None]),  # (n, 1, 28, 28)
                                    image_key=self.image_key, pixels_key=self.pixels_key)})
                for name, (images, labels) in self.split_digits().items()}
