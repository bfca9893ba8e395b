"""UCI Adult from the pinned `mglearn` wheel: real data, fetched once into a shared cache."""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from tests.fast_step import CONF, fast_step

from plait.data import AdultDataModule, CacheError, DataError
from plait.data.adult import (
    CATEGORICAL,
    CATEGORY_SIZES,
    NUMERIC,
    OUTPUTS,
    UNKNOWN,
    category_codes,
)

CATEGORIES = {"workclass": 9, "education": 18, "marital_status": 9, "race": 7,
              "native_country": 43, "capital_gain": 120, "capital_loss": 92}


@pytest.fixture(scope="module")
def adult(plait_cache: Path) -> AdultDataModule:
    data = AdultDataModule(cache_dir=str(plait_cache), categories=CATEGORIES, batch_size=64)
    data.prepare_data()
    data.setup()
    return data


def test_batches_are_keyed_typed_and_shaped(adult: AdultDataModule):
    batch = next(iter(adult.train_dataloader()))
    assert set(batch) == adult.provides == {"numeric", *CATEGORICAL, *OUTPUTS}
    assert batch["numeric"].dtype == torch.float32 and batch["numeric"].shape == (64, 5)
    for key in CATEGORICAL:
        assert batch[key].dtype == torch.int64 and batch[key].shape == (64,)
        assert int(batch[key].min()) >= 1 and int(batch[key].max()) < CATEGORIES[key]
    for key in ("age", "sex", "income"):
        assert batch[key].dtype == torch.float32 and batch[key].shape == (64,)
    assert set(batch["sex"].unique().tolist()) <= {0.0, 1.0}
    assert batch["occupation"].dtype == torch.int64 and int(batch["occupation"].max()) < 14


def test_the_defaults_are_the_data_config():
    config = yaml.safe_load((CONF / "data" / "adult.yaml").read_text())
    assert config["categories"] == CATEGORY_SIZES == CATEGORIES
    assert AdultDataModule().categories == CATEGORY_SIZES


def test_no_output_and_not_relationship_is_fed_as_an_input():
    inputs = {*CATEGORICAL.values(), *NUMERIC}
    assert not inputs & {"age", "sex", "income", "occupation", "relationship"}


def test_rows_without_occupation_are_dropped_and_split(adult: AdultDataModule):
    sizes = {name: len(split) for name, split in adult.splits.items()}
    assert sum(sizes.values()) == 30_718  # 32,561 rows less 1,843 with occupation '?'
    assert sizes == {"train": 21_502, "val": 3_072, "test": 6_144}
    assert len(adult.occupations) == 14 and "?" not in adult.occupations


def test_scales_come_from_the_train_split(adult: AdultDataModule):
    train = adult.splits["train"].columns
    assert np.allclose(train["numeric"].mean(axis=0), 0, atol=1e-4)
    assert np.allclose(train["numeric"].std(axis=0), 1, atol=1e-3)
    assert abs(train["age"].mean()) < 1e-4 and abs(train["age"].std() - 1) < 1e-3
    assert 38 < adult.age_mean < 39 and 12.5 < adult.age_std < 13.5
    assert abs(adult.splits["val"].columns["age"].mean()) > 1e-4  # not refitted on val


def test_money_amounts_are_codes_as_well_as_numbers(adult: AdultDataModule):
    table = adult.table()
    rows = adult.split(len(table))
    train = table.iloc[rows["train"]]
    for key, column in (("capital_gain", "capital-gain"), ("capital_loss", "capital-loss")):
        codes, counts = adult.codes[key], train[column].value_counts()
        assert codes[0] == 2  # most people have none
        assert set(codes) == set(counts.index[counts >= 2])  # an amount seen once is unknown
        # room for every amount of the rows with an occupation: any split fits
        assert table[column].nunique() + 2 <= CATEGORY_SIZES[key]
        for split, index in rows.items():  # every split coded with the train split's codes
            expected = [codes.get(amount, UNKNOWN) for amount in table[column].iloc[index]]
            assert adult.splits[split].columns[key].tolist() == expected
    columns = adult.splits["train"].columns
    sure = columns["capital_gain"] == adult.codes["capital_gain"][7688]
    assert sure.sum() == 200 and columns["income"][sure].all()  # all of them earn >50K
    unseen = table.iloc[:1].assign(**{"capital-gain": 123_457})
    assert adult._columns(unseen)["capital_gain"].tolist() == [UNKNOWN]


def test_codes_start_after_unknown_most_frequent_first():
    values = pd.Series(["b", "a", None, "b", "c", "a", "b"])
    assert category_codes(values) == {"b": 2, "a": 3, "c": 4}
    assert category_codes(values, min_count=2) == {"b": 2, "a": 3}


def test_split_is_deterministic_by_seed(plait_cache: Path, adult: AdultDataModule):
    again = AdultDataModule(cache_dir=str(plait_cache), categories=CATEGORIES, seed=adult.seed)
    other = AdultDataModule(cache_dir=str(plait_cache), categories=CATEGORIES, seed=1)
    again.setup()
    other.setup()
    ages = {name: d.splits["val"].columns["age"] for name, d in
            (("first", adult), ("again", again), ("other", other))}
    assert np.array_equal(ages["first"], ages["again"])
    assert not np.array_equal(ages["first"], ages["other"])
    assert again.codes == adult.codes


def test_limit_keeps_a_small_slice(plait_cache: Path):
    data = AdultDataModule(cache_dir=str(plait_cache), categories=CATEGORIES, limit=40)
    data.setup()
    assert [len(data.splits[s]) for s in ("train", "val", "test")] == [40, 40, 40]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"categories": {**CATEGORIES, "education": 10}},
     r"'education' has 16 values in the train split, which need data\.categories\.education "
     r">= 18 .* but it is 10"),
    ({"categories": {"workclass": 9}}, r"data\.categories\.education >= 18 .* it is None"),
    ({"categories": CATEGORIES, "num_occupations": 5},
     r"14 occupations, but data\.num_occupations is 5"),
])
def test_config_too_small_names_the_key(plait_cache: Path, kwargs, message):
    with pytest.raises(DataError, match=message):
        AdultDataModule(cache_dir=str(plait_cache), **kwargs).setup()


def test_unknown_categorical_key_is_refused():
    with pytest.raises(DataError, match=r"data\.categories names \['relationship'\], which are "
                                        r"not categorical inputs"):
        AdultDataModule(categories={**CATEGORIES, "relationship": 8})


def test_an_occupation_unseen_in_training_is_refused(adult: AdultDataModule):
    table = pd.DataFrame({"age": [30], "workclass": ["Private"], "fnlwgt": [1e5],
                          "education": ["HS-grad"], "education-num": [9],
                          "marital-status": ["Divorced"], "occupation": ["Astronaut"],
                          "race": ["White"], "sex": ["Male"], "capital-gain": [0],
                          "capital-loss": [0], "hours-per-week": [40],
                          "native-country": ["Peru"], "income": ["<=50K"]})
    with pytest.raises(DataError, match=r"occupations \['Astronaut'\] are not in the train split"):
        adult._columns(table)


def test_one_fast_step_of_the_experiment(plait_cache: Path, tmp_path: Path):
    metrics = fast_step("adult_multitask", plait_cache, tmp_path)
    for output in OUTPUTS:
        assert f"val/{output}/loss" in metrics


def test_a_broken_cache_is_refused_then_rebuilt(plait_cache: Path, adult: AdultDataModule,
                                                tmp_path: Path):
    shutil.copytree(plait_cache / "wheels", tmp_path / "wheels")  # no download needed
    shutil.copytree(adult.data_dir, tmp_path / adult.data_dir.name)
    table = tmp_path / adult.data_dir.name / "adult.data"
    table.write_bytes(table.read_bytes()[:1000])
    data = AdultDataModule(cache_dir=str(tmp_path), limit=10)
    with pytest.raises(CacheError, match=r"adult\.data has 1000 bytes.*prepare_data"):
        data.setup()
    data.prepare_data()
    data.setup()
    assert table.stat().st_size == 3_974_305 and len(data.splits["test"]) == 10
