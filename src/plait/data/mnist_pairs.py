"""Pairs of MNIST 5k digits with a "same digit?" target, for the shared-vision siamese model.

Pairs are drawn by seed from inside one split (a test pair is two test images, never a
train image), exactly half of them showing the same digit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from plait.data.base import SPLITS, DataError
from plait.data.mnist import CLASSES, MNISTBase, check_distinct_keys, scaled


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


class PairDataset(Dataset):
    """Pairs of images of one split; a batch gathers both sides from one array.

    Args:
        images: `(n, 1, 28, 28)` float32.
        a: `(N,)` row of each pair's first image.
        b: `(N,)` row of each pair's second image.
        same: `(N,)` float32 target.
        keys: batch keys of the first image, the second image and the target.
    """

    def __init__(self, *, images: np.ndarray, a: np.ndarray, b: np.ndarray, same: np.ndarray,
                 keys: tuple[str, str, str]) -> None:
        self.images, self.a, self.b, self.same = images, a, b, same
        self.keys = keys

    def __len__(self) -> int:
        return len(self.same)

    def __getitems__(self, indices: Sequence[int]) -> dict[str, Tensor]:
        idx = np.asarray(indices, dtype=np.int64)
        left, right, target = self.keys
        return {left: torch.from_numpy(self.images[self.a[idx]]),  # (B, 1, 28, 28)
                right: torch.from_numpy(self.images[self.b[idx]]),  # (B, 1, 28, 28)
                target: torch.from_numpy(self.same[idx])}  # (B,)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        return {key: value[0] for key, value in self.__getitems__([index]).items()}


class MNISTPairsDataModule(MNISTBase):
    """Two MNIST 5k digits and whether they show the same digit, balanced 50/50.

    The 5,000 images are split by `seed` first; each split's pairs are then drawn by `seed`
    from that split's images only, `pairs_per_image` times as many pairs as images. The
    pairs are fixed (the same every epoch), so val and test measure the same pairs each time.

    Args:
        batch_size: pairs per batch.
        num_workers: loader worker processes.
        seed: seeds the image split, the pairs, the `limit` slice and the shuffle.
        limit: keep only the first `limit` pairs of each split after shuffling.
        cache_dir: where the wheel and the decoded arrays are kept.
        val_fraction: share of the images held out for val.
        test_fraction: share of the images held out for test.
        pairs_per_image: pairs drawn per image of a split (2.0: 7,000 train pairs from
            3,500 train images); each split gets an even number, so exactly half are same.
        left_key: batch key of the first image.
        right_key: batch key of the second image.
        target_key: batch key of the float32 target, 1.0 for the same digit.

    Shape:
        digit_a `(B, 1, 28, 28)`, digit_b `(B, 1, 28, 28)`, same `(B,)`.
    """

    def __init__(self, *, batch_size: int = 64, num_workers: int = 0, seed: int = 0,
                 limit: int | None = None, cache_dir: str | None = None,
                 val_fraction: float = 0.1, test_fraction: float = 0.2,
                 pairs_per_image: float = 2.0, left_key: str = "digit_a",
                 right_key: str = "digit_b", target_key: str = "same") -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed, limit=limit,
                         cache_dir=cache_dir, val_fraction=val_fraction,
                         test_fraction=test_fraction)
        owner = type(self).__name__
        if pairs_per_image <= 0:
            raise DataError(f"{owner}: data.pairs_per_image must be above 0, got {pairs_per_image}.")
        check_distinct_keys(owner, left_key=left_key, right_key=right_key, target_key=target_key)
        self.pairs_per_image = pairs_per_image
        self.keys = (left_key, right_key, target_key)

    @property
    def provides(self) -> frozenset[str]:
        return frozenset(self.keys)

    @property
    def num_classes(self) -> int:
        """Digit classes the pairs are drawn from."""
        return CLASSES

    def build_splits(self) -> dict[str, Dataset]:
        owner = type(self).__name__
        datasets = {}
        for name, (images, labels) in self.split_digits().items():
            if len(labels) == 0:  # a split set to 0 images has no pairs either
                datasets[name] = PairDataset(images=scaled(images), a=labels, b=labels,
                                             same=labels.astype(np.float32), keys=self.keys)
                continue
            count = 2 * max(1, round(len(labels) * self.pairs_per_image / 2))
            rng = np.random.default_rng([self.seed, SPLITS.index(name), 2])
            a, b, same = draw_pairs(labels, count, rng, owner=f"{owner} ({name} split)")
            datasets[name] = PairDataset(images=scaled(images), a=a, b=b, same=same,
                                         keys=self.keys)
        return datasets
