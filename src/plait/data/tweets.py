"""Trump tweets (read by `plait.data.sources.tweets`): what every tweet DataModule shares,
and single tweets as batches (pairs of them: `plait.data.tweets_pairs`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np

from plait.data.base import SPLITS, DictDataModule
from plait.data.checks import distinct, room
from plait.data.columns import ColumnDataset, pad_left, trimmed
from plait.data.sources import tweets
from plait.data.sources.tweets import TweetTable, filter_table
from plait.data.text import build_vocab, encode, inverse_document_frequency, tf_idf
from plait.data.tweets_features import META_FEATURES, check_targets, make_target, meta_features


class TweetsBase(DictDataModule):
    """What the tweet DataModules share: fetch, filter, seeded split, vocabulary, token ids.

    Args:
        sources: keep only tweets sent from these sources (`"Twitter for Android"`, ...);
            None keeps all.
        start: keep tweets sent on or after this date (UTC), e.g. `"2015-01-01"`.
        end: keep tweets sent before this date.
        vocab_size: token ids the embedding holds, padding and OOV included (`build_vocab`).
        cap_vocab: map the rarest words to OOV rather than raise when they need more ids.
        max_len: the longest tweet allowed, in tokens; the data's longest has 57.
        **common: as `DictDataModule`; the fractions are shares of the filtered tweets.
    """

    source = tweets

    def __init__(self, *, sources: Sequence[str] | None = None, start: str | None = None,
                 end: str | None = None, vocab_size: int = 10000, cap_vocab: bool = True,
                 max_len: int = 64, **common: Any) -> None:
        super().__init__(**common)
        self.sources, self.start, self.end = sources, start, end
        self.vocab_size, self.cap_vocab, self.max_len = vocab_size, cap_vocab, max_len
        self.vocab: dict[str, int] = {}

    def split_tables(self) -> dict[str, TweetTable]:
        """The filtered tweets cut into train, val and test by `seed`; fits the vocabulary.

        Raises:
            DataError: a tweet has more than `max_len` tokens (or see `filter_table`).
        """
        table = filter_table(TweetTable.load(self.cached_dir()), sources=self.sources,
                             start=self.start, end=self.end, owner=self.owner)
        longest = max(len(t) for t in table.tokens)
        self.check(room("max_len", self.max_len, longest, f"the longest tweet has {longest} tokens"))
        rows = self.split(len(table))
        tables = {name: table.select(rows[name]) for name in SPLITS}
        self.vocab = build_vocab(tables["train"].tokens, vocab_size=self.vocab_size,
                                 cap=self.cap_vocab, owner=self.owner)
        return tables

    def token_ids(self, table: TweetTable) -> tuple[np.ndarray, np.ndarray]:
        """`(N, max_len)` int64 ids right-padded with 0, and `(N,)` lengths."""
        return encode(table.tokens, self.vocab, width=self.max_len)


class TrumpTweetsDataModule(TweetsBase):
    """Single tweets: `text` token ids, an optional TF-IDF bag of words and `meta` vector,
    and chosen targets.

    Targets are named by kind (see `plait.data.tweets_features.make_target`): `popular`
    (more favorites than the median training tweet of its month), `log_favorites`,
    `log_retweets`, `android` (Android 1, iPhone 0) and `hour` (Eastern-time bucket).

    Args:
        text_key: batch key of the token ids.
        bag_key: batch key of each tweet's words as a TF-IDF vector over the vocabulary
            (`plait.data.text.tf_idf`: scikit-learn's `TfidfVectorizer` weighting), the IDF
            from the training tweets; None leaves it out.
        meta_key: batch key of the standardised metadata vector; None leaves it out.
        meta_size: length of the metadata vector the model expects; the data gives 12.
        targets: batch key -> target kind.
        num_hour_buckets: classes of the `hour` target; a divisor of 24.
        fixed_length: pad every tweet to `max_len`, not to the batch's longest.
        padding_side: `"right"`, or `"left"` as Keras' `pad_sequences` (see `pad_left`).
        **kwargs: as `TweetsBase` (batch, split, source, date and vocabulary settings).

    Shape:
        text `(B, T)` int64 with `T <= max_len`, bag `(B, vocab_size)` float32, meta
        `(B, meta_size)` float32; float32 `(B,)` for binary and regression targets, int64
        `(B,)` for `hour`.
    """

    def __init__(self, *, text_key: str = "text", bag_key: str | None = None, meta_key: str | None = None,
                 meta_size: int = len(META_FEATURES),
                 targets: Mapping[str, str] | None = None, num_hour_buckets: int = 6,
                 fixed_length: bool = False, padding_side: str = "right", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.targets = targets or {"popular": "popular"}
        self.check(distinct({"text_key": text_key, "bag_key": bag_key, "meta_key": meta_key,
                             **{f"targets.{k}": k for k in self.targets}}),
                   None if padding_side in ("right", "left") else
                   f"data.padding_side must be 'right' or 'left', got {padding_side!r}.")
        check_targets(self.targets, num_hour_buckets, self.owner)
        self.text_key, self.bag_key, self.meta_key, self.meta_size = text_key, bag_key, meta_key, meta_size
        self.keys = (text_key, bag_key, meta_key, *self.targets)
        self.num_hour_buckets = num_hour_buckets
        self.fixed_length, self.padding_side = fixed_length, padding_side

    def build_splits(self) -> dict[str, ColumnDataset]:
        self.check(None if not self.meta_key or self.meta_size == len(META_FEATURES) else
                   f"the data gives {len(META_FEATURES)} metadata features {list(META_FEATURES)}, "
                   f"but data.meta_size is {self.meta_size}. Set data.meta_size to "
                   f"{len(META_FEATURES)}.")
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
                                                 owner=self.owner)
        ids = {name: self.token_ids(table) for name, table in tables.items()}
        if self.bag_key:
            idf = inverse_document_frequency(ids["train"][0], self.vocab_size)
            for name, (split_ids, _) in ids.items():
                columns[name][self.bag_key] = partial(_bags, split_ids, idf)
        return {name: self._dataset(*ids[name], columns[name]) for name in tables}

    def _dataset(self, ids: np.ndarray, lengths: np.ndarray, columns: dict[str, Any]) -> ColumnDataset:
        if self.padding_side == "left":
            ids = pad_left(ids, lengths)
        text = trimmed(ids, lengths, pad_to=self.max_len if self.fixed_length else None,
                       side=self.padding_side)
        return ColumnDataset({self.text_key: text, **columns}, ids=ids)  # text (B, T)


def _bags(ids: np.ndarray, idf: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The TF-IDF vectors of a batch's rows, built per batch: `(B, vocab_size)` float32."""
    return tf_idf(ids[rows], idf)
