"""scikit-learn's bundled 8x8 handwritten digits: 1,797 images, no download, for fast tests."""

from __future__ import annotations

from typing import Any

import numpy as np

from plait.data.base import DictDataModule
from plait.data.checks import image_keys, room
from plait.data.columns import ColumnDataset, image_columns


class DigitsDataModule(DictDataModule):
    """8x8 digit images as an `image` grid, a flat `pixels` vector, or both, with a `digit` class.

    Pixel values (0..16 in the source) are scaled to [0, 1]. Splits are drawn by `seed`.

    Args:
        image_key: batch key of the `(1, 8, 8)` float32 image; None leaves it out.
        pixels_key: batch key of the `(64,)` float32 vector; None leaves it out.
        target_key: batch key of the int64 digit class.
        num_classes: classes the head predicts; the data has 10.
        **common: as `DictDataModule` (`cache_dir` is unused: scikit-learn ships the data).

    Shape:
        image `(B, 1, 8, 8)`, pixels `(B, 64)`, digit `(B,)`.
    """

    def __init__(self, *, image_key: str | None = "image", pixels_key: str | None = None,
                 target_key: str = "digit", num_classes: int = 10,
                 test_fraction: float = 0.2, **common: Any) -> None:
        super().__init__(test_fraction=test_fraction, **common)
        self.check(image_keys(image_key, pixels_key, target_key))
        self.image_key, self.pixels_key, self.target_key = image_key, pixels_key, target_key
        self.keys = (image_key, pixels_key, target_key)
        self.num_classes = num_classes

    def build_splits(self) -> dict[str, ColumnDataset]:
        from sklearn.datasets import load_digits  # slow to import; only needed here

        pixels, digits = load_digits(return_X_y=True)  # (N, 64) in 0..16, (N,)
        classes = int(digits.max()) + 1
        self.check(room("num_classes", self.num_classes, classes, f"the data has {classes} classes"))
        columns = {self.target_key: digits.astype(np.int64),
                   **image_columns((pixels / 16.0).astype(np.float32).reshape(-1, 1, 8, 8),
                                   image_key=self.image_key, pixels_key=self.pixels_key)}
        return {name: ColumnDataset({k: a[rows] for k, a in columns.items()})
                for name, rows in self.split(len(digits)).items()}
