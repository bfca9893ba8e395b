"""Rotten Tomatoes snippets (read by `plait.data.sources.reviews`) as sentiment batches."""

from __future__ import annotations

from typing import Any

import numpy as np

from plait.data.base import DictDataModule, split_indices
from plait.data.checks import room
from plait.data.columns import ColumnDataset
from plait.data.sources import reviews
from plait.data.sources.reviews import LABELS
from plait.data.text import build_vocab, encode, tokenize


class RottenTomatoesDataModule(DictDataModule):
    """Review snippets as token ids `text` and a 0/1 float `sentiment` (1.0 = fresh).

    The split is by movie: val and test snippets are about movies never seen in training,
    so a model cannot score a snippet by the title words its movie's other reviews share.
    `val_fraction` and `test_fraction` are shares of the movies; snippet counts follow
    (about 35 per movie at most). The vocabulary comes from the train split only.

    Args:
        vocab_size: token ids the embedding holds, padding and OOV included (`build_vocab`).
        cap_vocab: map the rarest words to OOV rather than raise when they need more ids.
        max_len: every snippet is padded to this many tokens; the longest has 53.
        **common: as `DictDataModule`.

    Shape:
        text `(B, max_len)` int64, right-padded with 0; sentiment `(B,)` float32.
    """

    keys = ("text", "sentiment")
    source = reviews

    def __init__(self, *, batch_size: int = 50, vocab_size: int = 10_000,
                 cap_vocab: bool = True, max_len: int = 56, **common: Any) -> None:
        super().__init__(batch_size=batch_size, **common)
        self.vocab_size, self.cap_vocab, self.max_len = vocab_size, cap_vocab, max_len
        self.vocab: dict[str, int] = {}

    def build_splits(self) -> dict[str, ColumnDataset]:
        table = reviews.read_reviews(self.cached_dir())
        tokens = [tokenize(text) for text in table["text"]]
        longest = max(len(t) for t in tokens)
        self.check(room("max_len", self.max_len, longest, f"the longest snippet has {longest} tokens"))
        rows = movie_split(table["movie"].to_numpy(), val_fraction=self.val_fraction,
                           test_fraction=self.test_fraction, seed=self.seed, owner=self.owner)
        self.vocab = build_vocab([tokens[i] for i in rows["train"]], vocab_size=self.vocab_size,
                                 cap=self.cap_vocab, owner=self.owner)
        ids, _ = encode(tokens, self.vocab, width=self.max_len)
        sentiment = table["label"].map(LABELS).to_numpy(np.float32)
        return {name: ColumnDataset({"text": ids[index], "sentiment": sentiment[index]})
                for name, index in rows.items()}


def movie_split(movies: np.ndarray, *, val_fraction: float, test_fraction: float, seed: int,
                owner: str) -> dict[str, np.ndarray]:
    """Row indices of train, val and test, with every movie's rows in one split only.

    Args:
        movies: `(N,)` the movie of each row.
        val_fraction: share of the distinct movies that go to val.
        test_fraction: share of the distinct movies that go to test.
        seed: the same seed gives the same split.
        owner: names the data in error messages.
    """
    names, movie_of_row = np.unique(movies, return_inverse=True)
    parts = split_indices(len(names), val_fraction=val_fraction, test_fraction=test_fraction,
                          seed=seed, owner=owner)
    return {name: np.flatnonzero(np.isin(movie_of_row, chosen)) for name, chosen in parts.items()}
