"""Pairs of MNIST 5k digits with a "same digit?" target, for the shared-vision siamese model."""

from __future__ import annotations

from typing import Any

import numpy as np

from plait.data.base import SPLITS
from plait.data.checks import DataError, above_zero, distinct
from plait.data.columns import ColumnDataset, scale_uint8, shared_rows
from plait.data.mnist import MNISTBase


def draw_pairs(labels: np.ndarray, count: int, rng: np.random.Generator, *, owner: str = "pairs"
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw `count` pairs of distinct images, `count // 2` of them of the same digit.

    The first image of each pair is uniform over the images; the second is uniform over the
    other images of its class (same pairs) or over the images of the other classes.

    Args:
        labels: `(n,)` the class of each image.
        count: pairs to draw.
        rng: the source of randomness; the same state gives the same pairs.
        owner: names the caller in errors.

    Returns:
        `a`, `b` `(count,)` int64 row numbers into `labels`, and `same` `(count,)` float32
        (1.0 where `labels[a] == labels[b]`), in shuffled order.

    Raises:
        DataError: a class has fewer than 2 images, or only one class is present.
    """
    order = np.argsort(labels, kind="stable")  # rows grouped by class
    classes, starts, sizes = np.unique(labels[order], return_index=True, return_counts=True)
    if len(classes) < 2 or sizes.min() < 2:
        raise DataError(f"{owner}: drawing same/different pairs needs at least 2 classes with "
                        f"2 images each; the split has {dict(zip(classes.tolist(), sizes.tolist()))}")
    group = np.searchsorted(classes, labels)  # each row's class position
    rank = np.empty(len(labels), dtype=np.int64)
    rank[order] = np.arange(len(labels)) - np.repeat(starts, sizes)  # position inside its class
    n_same = count // 2
    a = rng.integers(0, len(labels), count)
    g = group[a]
    # same: step 1..size-1 places forward inside the class, so never the image itself
    step = (rng.random(n_same) * (sizes[g[:n_same]] - 1)).astype(np.int64) + 1
    b_same = order[starts[g[:n_same]] + (rank[a[:n_same]] + step) % sizes[g[:n_same]]]
    # different: a uniform position among the rows outside the class, skipping the class
    g_diff = g[n_same:]
    pos = (rng.random(count - n_same) * (len(labels) - sizes[g_diff])).astype(np.int64)
    pos = np.where(pos >= starts[g_diff], pos + sizes[g_diff], pos)
    b = np.concatenate([b_same, order[pos]])
    shuffle = rng.permutation(count)
    a, b = a[shuffle], b[shuffle]
    return a, b, (labels[a] == labels[b]).astype(np.float32)


class MNISTPairsDataModule(MNISTBase):
    """Two MNIST 5k digits and whether they show the same digit, balanced 50/50.

    The 5,000 images are split by `seed` first; each split's pairs are then drawn by `seed`
    from that split's images only (a test pair is two test images). The pairs are fixed,
    the same every epoch.

    Args:
        pairs_per_image: pairs drawn per image of a split (2.0: 7,000 train pairs from
            3,500 train images); each split gets an even number, so exactly half are same.
        left_key: batch key of the first image.
        right_key: batch key of the second image.
        target_key: batch key of the float32 target, 1.0 for the same digit.
        **common: as `MNISTBase` (`limit` counts pairs).

    Shape:
        digit_a `(B, 1, 28, 28)`, digit_b `(B, 1, 28, 28)`, same `(B,)`.
    """

    def __init__(self, *, pairs_per_image: float = 2.0, left_key: str = "digit_a",
                 right_key: str = "digit_b", target_key: str = "same", **common: Any) -> None:
        super().__init__(**common)
        self.check(above_zero("pairs_per_image", pairs_per_image),
                   distinct({"left_key": left_key, "right_key": right_key, "target_key": target_key}))
        self.pairs_per_image = pairs_per_image
        self.keys = (left_key, right_key, target_key)

    def build_splits(self) -> dict[str, ColumnDataset]:
        datasets = {}
        for name, (images, labels) in self.split_digits().items():
            a = b = labels
            same = labels.astype(np.float32)  # a split set to 0 images has no pairs either
            if len(labels):
                count = 2 * max(1, round(len(labels) * self.pairs_per_image / 2))
                rng = np.random.default_rng([self.seed, SPLITS.index(name), 2])
                a, b, same = draw_pairs(labels, count, rng, owner=f"{self.owner} ({name} split)")
            digits = scale_uint8(images[:, None])  # (n, 1, 28, 28)
            left, right, target = self.keys
            datasets[name] = ColumnDataset({left: shared_rows(digits, a),  # (B, 1, 28, 28)
                                            right: shared_rows(digits, b), target: same},
                                           a=a, b=b, same=same)
        return datasets
