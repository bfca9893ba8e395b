"""Pairs of Trump tweets: were both sent from the same device (Android or iPhone)?

During the 2016 campaign the candidate tweeted from an Android phone and his staff from an
iPhone (Robinson 2016, "Text analysis of Trump's tweets confirms he writes only the
(angrier) Android half"), so "same device?" is a real "same author?" question. Pairs are
drawn by seed inside each split, never across splits, and balanced four ways: a quarter
each of Android-Android, iPhone-iPhone, Android-iPhone and iPhone-Android. Each tweet on
its own then says nothing about the answer; only the two together do.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np

from plait.data.base import SPLITS
from plait.data.checks import distinct
from plait.data.columns import ColumnDataset
from plait.data.sources.tweets import DEVICES, TweetTable
from plait.data.tweets import TweetsBase


def balanced_pairs(groups: np.ndarray, n_pairs: int, rng: np.random.Generator
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of rows, a quarter of each (group, group) combination, in shuffled order.

    Args:
        groups: `(N,)` 0 or 1 per row; each group needs at least two rows.
        n_pairs: pairs wanted; rounded down to a multiple of 4.
        rng: the source of randomness (seeded by the caller).

    Returns:
        pairs `(P, 2)` int64 row indices (never a row with itself), same `(P,)` float32.
    """
    members = [np.flatnonzero(groups == g) for g in (0, 1)]
    quarter = n_pairs // 4
    firsts, seconds = [], []
    for a, b in ((0, 0), (1, 1), (0, 1), (1, 0)):
        first = rng.integers(len(members[a]), size=quarter)
        if a == b:  # a different row of the same group: shift by 1..n-1 places
            second = (first + rng.integers(1, len(members[b]), size=quarter)) % len(members[b])
        else:
            second = rng.integers(len(members[b]), size=quarter)
        firsts.append(members[a][first])
        seconds.append(members[b][second])
    pairs = np.stack([np.concatenate(firsts), np.concatenate(seconds)], axis=1)
    same = np.repeat(np.array([1, 1, 0, 0], dtype=np.float32), quarter)
    order = rng.permutation(len(pairs))
    return pairs[order], same[order]


class TweetPairsDataModule(TweetsBase):
    """Tweet pairs: two token-id sequences and whether one device sent both.

    Args:
        first_key: batch key of the first tweet's token ids.
        second_key: batch key of the second tweet's token ids.
        target_key: batch key of the label, 1.0 when both tweets come from one source.
        pairs_per_tweet: pairs drawn per tweet of a split (train, val and test alike).
        sources: the two sources to compare; Android and iPhone by default.
        **kwargs: as `TweetsBase` (batch, split, date and vocabulary settings).

    Shape:
        first and second `(B, T)` int64 right-padded with 0, target `(B,)` float32.
    """

    def __init__(self, *, first_key: str = "tweet_a", second_key: str = "tweet_b",
                 target_key: str = "same_device", pairs_per_tweet: float = 2.0,
                 sources: Sequence[str] = DEVICES, **kwargs: Any) -> None:
        super().__init__(sources=sources, **kwargs)
        self.check(distinct({"first_key": first_key, "second_key": second_key,
                             "target_key": target_key}),
                   None if self.sources is not None and len(set(self.sources)) == 2 else
                   f"data.sources must name exactly two sources to tell apart, got {self.sources}.",
                   None if pairs_per_tweet > 0 else
                   f"data.pairs_per_tweet must be positive, got {pairs_per_tweet}.")
        self.first_key, self.second_key, self.target_key = first_key, second_key, target_key
        self.keys = (first_key, second_key, target_key)
        self.pairs_per_tweet = pairs_per_tweet

    def build_splits(self) -> dict[str, ColumnDataset]:
        return {name: self._pairs(name, table) for name, table in self.split_tables().items()}

    def _pairs(self, name: str, table: TweetTable) -> ColumnDataset:
        """The seeded, balanced pairs of one split's tweets, each batch cut to its longest tweet."""
        groups = (table.source == self.sources[1]).astype(np.int64)
        counts = np.bincount(groups, minlength=2)
        n_pairs = round(self.pairs_per_tweet * len(table))
        self.check(f"the {name} split has {counts.tolist()} tweets from {self.sources}; pairs "
                   "need at least 2 of each. Widen data.start / data.end or change "
                   "data.val_fraction / data.test_fraction." if n_pairs and counts.min() < 2 else None)
        rng = np.random.default_rng([self.seed, SPLITS.index(name)])
        pairs, same = balanced_pairs(groups, n_pairs, rng) if n_pairs else (
            np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.float32))
        ids, lengths = self.token_ids(table)
        first, second, target = self.first_key, self.second_key, self.target_key
        return ColumnDataset({first: partial(_side, ids, lengths, pairs, 0),  # (B, T)
                              second: partial(_side, ids, lengths, pairs, 1),  # (B, T)
                              target: same},
                             pairs=pairs, same=same, tweet_ids=table.tweet_id)


def _side(ids: np.ndarray, lengths: np.ndarray, pairs: np.ndarray, side: int,
          idx: np.ndarray) -> np.ndarray:
    """One side of a batch of pairs: token ids cut to the longest tweet of either side."""
    rows = pairs[idx]  # (B, 2)
    return ids[rows[:, side], :max(int(lengths[rows].max()), 1)]
