"""Pairs of MNIST 5k digits with a "same digit?" target, for the shared-vision siamese model.

Pairs are drawn by seed from inside one split (a test pair is two test images, never a
train image), exactly half of them showing the same digit. Training pairs can be drawn
afresh every epoch (`train_pairs="per_epoch"`); val and test pairs are always drawn once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset, DistributedSampler, Sampler

from plait.data.base import SPLITS
from plait.data.checks import DataError, above_zero, distinct, one_of
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


TRAIN_PAIRS = ("fixed", "per_epoch")


class Pairs(NamedTuple):
    """Drawn pairs: `a`, `b` `(n,)` int64 image rows and `same` `(n,)` float32."""

    a: np.ndarray
    b: np.ndarray
    same: np.ndarray


class FreshPairs(Dataset):
    """Training pairs drawn anew every epoch, from `(seed, epoch)` alone.

    Row `epoch * len(self) + i` is pair `i` of epoch `epoch`'s draw: the row number carries
    the epoch, so whichever process serves a batch (the main one or a loader worker) draws
    the same pairs, and a resumed run meets the pairs an uninterrupted one met. `EpochRows`
    turns a sampler's rows of epoch `e` into these row numbers.

    Args:
        digits: `(n, 1, 28, 28)` float32 images of the split.
        labels: `(n,)` their digits.
        count: pairs per epoch, even.
        seed: with the epoch, the only source of the pairs.
        keys: batch keys of the first image, the second image and the target.
        owner: names the data module in errors.
    """

    def __init__(self, digits: np.ndarray, labels: np.ndarray, count: int, *, seed: int,
                 keys: tuple[str, str, str], owner: str) -> None:
        self.digits, self.labels, self.count = digits, labels, count
        self.seed, self.keys, self.owner = seed, keys, owner
        self._drawn: dict[int, Pairs] = {}  # the last epoch drawn, kept for its batches

    def __len__(self) -> int:
        return self.count

    def pairs(self, epoch: int) -> Pairs:
        """Epoch `epoch`'s pairs: the same for the same `(seed, epoch)` in every process."""
        if epoch not in self._drawn:
            rng = np.random.default_rng([self.seed, SPLITS.index("train"), 3, epoch])
            self._drawn = {epoch: Pairs(*draw_pairs(self.labels, self.count, rng, owner=self.owner))}
        return self._drawn[epoch]

    def __getitems__(self, indices: Sequence[int]) -> dict[str, Tensor]:
        epochs, rows = np.divmod(np.asarray(indices, dtype=np.int64), self.count)
        a, b, same = (np.empty(len(rows), dtype=dtype) for dtype in (np.int64, np.int64, np.float32))
        for epoch in np.unique(epochs):  # one epoch, unless a batch spans two
            at = epochs == epoch
            drawn = self.pairs(int(epoch))
            a[at], b[at], same[at] = drawn.a[rows[at]], drawn.b[rows[at]], drawn.same[rows[at]]
        left, right, target = self.keys
        return {left: torch.from_numpy(self.digits[a]),  # (B, 1, 28, 28)
                right: torch.from_numpy(self.digits[b]), target: torch.from_numpy(same)}

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        return {key: value[0] for key, value in self.__getitems__([index]).items()}


class EpochRows(Sampler):
    """`sampler`'s rows of epoch `e`, as `FreshPairs` row numbers `e * size + row`.

    The epoch is the one `shuffle` ordered the rows by: Lightning sets it through
    `set_epoch` every epoch, and a `ResumedSampler` sets it itself on a resumed fit's
    first pass, so it is read after `sampler` has started.

    Args:
        sampler: the training sampler, a `DistributedSampler` or a `ResumedSampler` of one.
        size: the rows of one epoch.
    """

    def __init__(self, sampler: Sampler, size: int) -> None:
        self.sampler, self.size = sampler, size
        self.shuffle = sampler
        while not isinstance(self.shuffle, DistributedSampler):
            self.shuffle = self.shuffle.sampler

    def set_epoch(self, epoch: int) -> None:
        self.sampler.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.sampler)

    def __iter__(self) -> Iterator[int]:
        rows = iter(self.sampler)
        start = self.shuffle.epoch * self.size
        return (start + row for row in rows)


class MNISTPairsDataModule(MNISTBase):
    """Two MNIST 5k digits and whether they show the same digit, balanced 50/50.

    The 5,000 images are split by `seed` first; each split's pairs are then drawn by `seed`
    from that split's images only, `pairs_per_image` times as many pairs as images. Val and
    test pairs are fixed (the same every epoch), so they measure the same pairs each time;
    training pairs are fixed too, or drawn afresh each epoch (`train_pairs`).

    Args:
        pairs_per_image: pairs drawn per image of a split (2.0: 7,000 train pairs from
            3,500 train images); each split gets an even number, so exactly half are same.
        train_pairs: `"fixed"`: the training pairs are drawn once, as val's and test's are.
            `"per_epoch"`: every epoch trains on pairs of its own, drawn from the seed and
            the epoch alone (a resumed run sees the pairs an uninterrupted one saw), as many
            as a fixed draw has; `limit` caps them (to an even number). Val and test pairs
            are the same either way.
        train_pairs_per_image: training pairs per training image (per epoch with
            `"per_epoch"`); None takes `pairs_per_image`. Val and test keep `pairs_per_image`.
        left_key: batch key of the first image.
        right_key: batch key of the second image.
        target_key: batch key of the float32 target, 1.0 for the same digit.
        **common: as `MNISTBase` (`limit` counts pairs).

    Shape:
        digit_a `(B, 1, 28, 28)`, digit_b `(B, 1, 28, 28)`, same `(B,)`.
    """

    def __init__(self, *, pairs_per_image: float = 2.0, train_pairs: str = "fixed",
                 train_pairs_per_image: float | None = None, left_key: str = "digit_a",
                 right_key: str = "digit_b", target_key: str = "same", **common: Any) -> None:
        super().__init__(**common)
        self.check(above_zero("pairs_per_image", pairs_per_image),
                   one_of("train_pairs", train_pairs, TRAIN_PAIRS),
                   None if train_pairs_per_image is None
                   else above_zero("train_pairs_per_image", train_pairs_per_image),
                   distinct({"left_key": left_key, "right_key": right_key, "target_key": target_key}))
        self.pairs_per_image = pairs_per_image
        self.train_pairs = train_pairs
        self.train_pairs_per_image = train_pairs_per_image
        self.keys = (left_key, right_key, target_key)

    def _count(self, name: str, images: int) -> int:
        """The pairs a split of `images` images gets: even, at least 2."""
        per_image = self.pairs_per_image
        if name == "train" and self.train_pairs_per_image is not None:
            per_image = self.train_pairs_per_image
        return 2 * max(1, round(images * per_image / 2))

    def build_splits(self) -> dict[str, Dataset]:
        datasets = {}
        for name, (images, labels) in self.split_digits().items():
            digits = scale_uint8(images[:, None])  # (n, 1, 28, 28)
            if name == "train" and self.train_pairs == "per_epoch" and len(labels):
                count = self._count(name, len(labels))
                if self.limit is not None:  # `limit` cuts each epoch's draw (see `_limited`)
                    count = min(count, max(2, self.limit - self.limit % 2))
                datasets[name] = FreshPairs(digits, labels, count, seed=self.seed, keys=self.keys,
                                            owner=f"{self.owner} ({name} split)")
                continue
            a = b = labels
            same = labels.astype(np.float32)  # a split set to 0 images has no pairs either
            if len(labels):
                rng = np.random.default_rng([self.seed, SPLITS.index(name), 2])
                a, b, same = draw_pairs(labels, self._count(name, len(labels)), rng,
                                        owner=f"{self.owner} ({name} split)")
            left, right, target = self.keys
            datasets[name] = ColumnDataset({left: shared_rows(digits, a),  # (B, 1, 28, 28)
                                            right: shared_rows(digits, b), target: same},
                                           a=a, b=b, same=same)
        return datasets

    def _limited(self, dataset: Dataset, name: str) -> Dataset:
        # A subset would renumber the rows that carry the epoch; the draw itself is cut.
        return dataset if isinstance(dataset, FreshPairs) else super()._limited(dataset, name)

    def train_sampler(self, sampler: Sampler) -> Sampler:
        dataset = self.splits["train"]
        return EpochRows(sampler, len(dataset)) if isinstance(dataset, FreshPairs) else sampler
