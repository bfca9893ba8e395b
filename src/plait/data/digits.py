"""scikit-learn's bundled 8x8 handwritten digits: 1,797 images, no download, for fast tests."""

from __future__ import annotations

import numpy as np
from torch.utils.data import Dataset

from plait.data.base import ArrayDictDataset, DataError, DictDataModule, split_indices


class DigitsDataModule(DictDataModule):
    """8x8 digit images as an `image` grid, a flat `pixels` vector, or both, with a `digit` class.

    Pixel values (0..16 in the source) are scaled to [0, 1]. Splits are drawn by `seed`.

    Args:
        batch_size: examples per batch.
        num_workers: loader worker processes.
        seed: seeds the split, the `limit` slice and the shuffle.
        limit: keep only the first `limit` examples of each split after shuffling.
        cache_dir: unused (the data ships with scikit-learn); taken for a uniform signature.
        image_key: batch key of the `(1, 8, 8)` float32 image; None leaves it out.
        pixels_key: batch key of the `(64,)` float32 vector; None leaves it out.
        target_key: batch key of the int64 digit class.
        num_classes: classes the head predicts; the data has 10.
        val_fraction: share of the examples held out for val.
        test_fraction: share of the examples held out for test.

    Shape:
        image `(B, 1, 8, 8)`, pixels `(B, 64)`, digit `(B,)`.
    """

    def __init__(self, *, batch_size: int = 64, num_workers: int = 0, seed: int = 0,
                 limit: int | None = None, cache_dir: str | None = None,
                 image_key: str | None = "image", pixels_key: str | None = None,
                 target_key: str = "digit", num_classes: int = 10,
                 val_fraction: float = 0.1, test_fraction: float = 0.2) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed,
                         limit=limit, cache_dir=cache_dir)
        owner = type(self).__name__
        if image_key is None and pixels_key is None:
            raise DataError(f"{owner}: set data.image_key or data.pixels_key (both are null).")
        keys = [k for k in (image_key, pixels_key, target_key) if k is not None]
        if len(set(keys)) < len(keys):
            raise DataError(f"{owner}: data.image_key, data.pixels_key and data.target_key "
                            f"must differ, got {keys}.")
        self.image_key, self.pixels_key, self.target_key = image_key, pixels_key, target_key
        self.num_classes = num_classes
        self.val_fraction, self.test_fraction = val_fraction, test_fraction

    @property
    def provides(self) -> frozenset[str]:
        keys = (self.image_key, self.pixels_key, self.target_key)
        return frozenset(k for k in keys if k is not None)

    def build_splits(self) -> dict[str, Dataset]:
        from sklearn.datasets import load_digits  # slow to import; only needed here

        owner = type(self).__name__
        pixels, digits = load_digits(return_X_y=True)
        pixels = (pixels / 16.0).astype(np.float32)  # (N, 64) in [0, 1]
        digits = digits.astype(np.int64)
        classes = int(digits.max()) + 1
        if classes > self.num_classes:
            raise DataError(f"{owner}: the data has {classes} classes, but data.num_classes "
                            f"is {self.num_classes}. Set data.num_classes to at least {classes}.")
        columns = {self.target_key: digits}
        if self.image_key is not None:
            columns[self.image_key] = pixels.reshape(-1, 1, 8, 8)
        if self.pixels_key is not None:
            columns[self.pixels_key] = pixels
        parts = split_indices(len(digits), val_fraction=self.val_fraction,
                              test_fraction=self.test_fraction, seed=self.seed, owner=owner)
        return {name: ArrayDictDataset({k: a[rows] for k, a in columns.items()})
                for name, rows in parts.items()}
