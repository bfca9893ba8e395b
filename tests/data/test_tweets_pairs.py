"""Pairs of Trump tweets, "same device?": balanced, seeded, never mixing splits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from plait.data import DataError, TweetPairsDataModule
from plait.data.sources.tweets import ANDROID, IPHONE
from plait.data.tweets_pairs import balanced_pairs

WINDOW = {"start": "2015-01-01", "end": "2017-03-26"}


@pytest.fixture(scope="module")
def pairs(plait_cache: Path) -> TweetPairsDataModule:
    data = TweetPairsDataModule(cache_dir=str(plait_cache), batch_size=32, **WINDOW)
    data.prepare_data()
    data.setup()
    return data


def _devices(data: TweetPairsDataModule) -> dict[str, np.ndarray]:
    """Per split, whether each tweet row comes from the iPhone (1) or Android (0)."""
    return {name: (t.source == IPHONE).astype(int) for name, t in data.split_tables().items()}


def test_batches(pairs: TweetPairsDataModule):
    assert pairs.provides == {"tweet_a", "tweet_b", "same_device"}
    batch = next(iter(pairs.train_dataloader()))
    assert set(batch) == pairs.provides
    for key in ("tweet_a", "tweet_b"):
        assert batch[key].dtype == torch.int64 and batch[key].shape[0] == 32
    assert batch["tweet_a"].shape == batch["tweet_b"].shape
    assert batch["same_device"].dtype == torch.float32 and batch["same_device"].shape == (32,)


def test_pairs_are_balanced_four_ways(pairs: TweetPairsDataModule):
    devices = _devices(pairs)
    for name, dataset in pairs.splits.items():
        kinds = devices[name][dataset.pairs]  # (P, 2)
        assert len(dataset) == 2 * len(devices[name]) - (2 * len(devices[name])) % 4
        assert np.array_equal(dataset.same, (kinds[:, 0] == kinds[:, 1]).astype(np.float32))
        combos = np.bincount(kinds[:, 0] * 2 + kinds[:, 1], minlength=4)
        assert (combos == len(dataset) // 4).all()
        # each tweet alone says nothing: either side is Android half the time, same or not
        for same in (0, 1):
            assert kinds[dataset.same == same].mean() == 0.5


def test_pairs_stay_inside_their_split_and_never_repeat_a_tweet(pairs: TweetPairsDataModule):
    tweets = {name: set(ds.tweet_ids[ds.pairs].ravel().tolist()) for name, ds in pairs.splits.items()}
    assert not tweets["train"] & tweets["val"] and not tweets["train"] & tweets["test"]
    assert not tweets["val"] & tweets["test"]
    for dataset in pairs.splits.values():
        assert (dataset.pairs[:, 0] != dataset.pairs[:, 1]).all()
    assert len(tweets["train"]) > 0.8 * len(pairs.splits["train"].tweet_ids)


def test_only_the_two_devices_in_the_window(pairs: TweetPairsDataModule):
    tables = pairs.split_tables()
    sources = {s for t in tables.values() for s in t.source.tolist()}
    assert sources == {ANDROID, IPHONE}
    assert sum(len(t) for t in tables.values()) == 4912


def test_pairs_are_seeded(pairs: TweetPairsDataModule):
    again = TweetPairsDataModule(cache_dir=str(pairs.cache_dir), **WINDOW)
    other = TweetPairsDataModule(cache_dir=str(pairs.cache_dir), seed=1, **WINDOW)
    again.setup()
    other.setup()
    assert np.array_equal(again.splits["train"].pairs, pairs.splits["train"].pairs)
    assert not np.array_equal(other.splits["train"].tweet_ids, pairs.splits["train"].tweet_ids)


def test_balanced_pairs_with_small_groups():
    groups = np.array([0, 0, 1, 1, 1])
    pairs, same = balanced_pairs(groups, 42, np.random.default_rng(0))
    assert len(pairs) == 40 and same.mean() == 0.5
    assert (pairs[:, 0] != pairs[:, 1]).all()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"sources": [ANDROID]}, r"data\.sources must name exactly two sources.*got \['Twitter for Android'\]"),
    ({"sources": None}, r"data\.sources must name exactly two sources.*got None"),
    ({"pairs_per_tweet": 0}, r"data\.pairs_per_tweet must be positive, got 0"),
    ({"second_key": "tweet_a"}, r"must differ, got \['tweet_a', 'tweet_a', 'same_device'\]"),
])
def test_constructor_errors_name_the_key(kwargs, message):
    with pytest.raises(DataError, match=message):
        TweetPairsDataModule(**kwargs)


def test_a_split_without_both_devices_is_named(pairs: TweetPairsDataModule):
    data = TweetPairsDataModule(cache_dir=str(pairs.cache_dir), start="2013-06-01",
                                end="2014-01-01")  # iPhone: a handful of tweets
    with pytest.raises(DataError, match=r"the (train|val|test) split has \[\d+, [01]\] tweets from.*Widen data\.start"):
        data.setup()

