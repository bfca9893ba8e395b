"""UCI Adult (read by `plait.data.sources.adult`): four things to predict from the rest.

Rows whose occupation is missing (`?`, 1,843 rows) are dropped, since occupation is an
output: 30,718 rows remain. The inputs leave out `relationship`, whose values Husband /
Wife state the sex outright.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from plait.data.base import DictDataModule
from plait.data.checks import room
from plait.data.columns import ColumnDataset
from plait.data.sources import adult

# Batch key -> column: each categorical input is its own graph input (one Embedding each).
# The two money columns are coded too, each amount its own category: a few exact amounts
# (a capital gain of 7,688 or 15,024 dollars) all but decide income, and an embedding
# learns each one, where a single standardised number cannot. They stay numeric as well.
# An amount seen once in the train split takes the unknown code with those it never saw:
# no amount is missing, so that code would otherwise never be trained.
CATEGORICAL = {"workclass": "workclass", "education": "education",
               "marital_status": "marital-status", "race": "race",
               "native_country": "native-country", "capital_gain": "capital-gain",
               "capital_loss": "capital-loss"}
# Heavy-tailed money columns are log1p-compressed before standardising.
NUMERIC = ("fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week")
_LOG = ("fnlwgt", "capital-gain", "capital-loss")
# Codes each embedding needs: the column's distinct values + unused 0 + unknown 1.
# The money columns' sizes hold every amount of the rows with an occupation (118 and 90),
# so any split fits.
CATEGORY_SIZES = {"workclass": 9, "education": 18, "marital_status": 9, "race": 7,
                  "native_country": 43, "capital_gain": 120, "capital_loss": 92}
MIN_COUNT = {"capital_gain": 2, "capital_loss": 2}  # rarer values are coded unknown
OUTPUTS = ("age", "sex", "income", "occupation")
UNKNOWN = 1  # the code of a missing (`?`) or unseen category; 0 stays free for padding


class AdultDataModule(DictDataModule):
    """UCI Adult batches: a `numeric` vector, one integer code per categorical column (the
    money columns' amounts included), and the targets `age` (standardised), `sex` and
    `income` (1.0 = Female / >50K) and `occupation` (14 classes).

    Codes, numeric statistics, the age scale and the occupation classes all come from the
    train split. Codes: 0 is never used (padding), 1 is missing or unseen (for the money
    columns also an amount seen once), 2.. the train split's values, most frequent first
    (ties in sorted order).

    Args:
        categories: batch key -> codes its embedding must hold (`${data.categories.race}`);
            each needs the train split's coded values + 2 (`CATEGORY_SIZES` if None).
        num_occupations: classes of the occupation head; the data has 14.
        **common: as `DictDataModule`.

    Shape:
        numeric `(B, 5)` float32; workclass, education, marital_status, race,
        native_country, capital_gain, capital_loss `(B,)` int64; age, sex, income `(B,)`
        float32; occupation `(B,)` int64.
    """

    keys = ("numeric", *CATEGORICAL, *OUTPUTS)
    source = adult

    def __init__(self, *, batch_size: int = 256, test_fraction: float = 0.2,
                 categories: Mapping[str, int] | None = None, num_occupations: int = 14,
                 **common: Any) -> None:
        super().__init__(batch_size=batch_size, test_fraction=test_fraction, **common)
        self.categories = dict(CATEGORY_SIZES if categories is None else categories)
        unknown = sorted(self.categories.keys() - CATEGORICAL.keys())
        self.check(f"data.categories names {unknown}, which are not categorical inputs; they "
                   f"are {sorted(CATEGORICAL)}." if unknown else None)
        self.num_occupations = num_occupations
        self.codes: dict[str, dict[Any, int]] = {}
        self.occupations: list[str] = []
        self.numeric_mean = self.numeric_std = np.zeros(len(NUMERIC), dtype=np.float32)
        self.age_mean, self.age_std = 0.0, 1.0

    def table(self) -> pd.DataFrame:
        """The rows of the cached table that have an occupation: the rows the splits share."""
        table = adult.read_table(self.cached_dir() / "adult.data")
        return table[table["occupation"].notna()].reset_index(drop=True)

    def build_splits(self) -> dict[str, ColumnDataset]:
        table = self.table()
        rows = self.split(len(table))
        self._fit(table.iloc[rows["train"]])
        return {name: ColumnDataset(self._columns(table.iloc[index]))
                for name, index in rows.items()}

    def _fit(self, train: pd.DataFrame) -> None:
        """Learn codes, classes and scales from the train split; check the configured sizes."""
        for key, column in CATEGORICAL.items():
            self.codes[key] = category_codes(train[column], MIN_COUNT.get(key, 1))
            needed = len(self.codes[key]) + 2
            configured = self.categories.get(key)
            self.check(f"'{column}' has {needed - 2} values in the train split, which need "
                       f"data.categories.{key} >= {needed} (unused 0 and unknown 1 included), but "
                       f"it is {configured}." if configured is None or configured < needed else None)
        self.occupations = sorted(train["occupation"].unique())
        self.check(room("num_occupations", self.num_occupations, len(self.occupations),
                        f"the train split has {len(self.occupations)} occupations"))
        numeric = _numeric(train)
        self.numeric_mean = numeric.mean(axis=0)
        self.numeric_std = numeric.std(axis=0) + np.float32(1e-6)
        self.age_mean, self.age_std = float(train["age"].mean()), float(train["age"].std())

    def _columns(self, table: pd.DataFrame) -> dict[str, np.ndarray]:
        """The batch arrays of some rows, encoded with what `_fit` learned."""
        columns = {"numeric": (_numeric(table) - self.numeric_mean) / self.numeric_std}
        for key, column in CATEGORICAL.items():
            columns[key] = table[column].map(self.codes[key]).fillna(UNKNOWN).to_numpy(np.int64)
        occupation = {name: i for i, name in enumerate(self.occupations)}
        columns["age"] = ((table["age"].to_numpy(np.float64) - self.age_mean)
                          / self.age_std).astype(np.float32)
        columns["sex"] = (table["sex"] == "Female").to_numpy(np.float32)
        columns["income"] = (table["income"] == ">50K").to_numpy(np.float32)
        # An occupation absent from the train split would be a class the head never saw.
        codes = table["occupation"].map(occupation)
        if codes.isna().any():
            unseen = sorted(set(table["occupation"][codes.isna()]))
            self.check(f"occupations {unseen} are not in the train split's {self.occupations}")
        columns["occupation"] = codes.to_numpy(np.int64)
        return columns


def category_codes(values: pd.Series, min_count: int = 1) -> dict[Any, int]:
    """Value -> code from 2 up, most frequent first (ties in sorted order); missing values
    and values seen fewer than `min_count` times skipped (they take the unknown code)."""
    counts = values.dropna().value_counts()
    counts = counts[counts >= min_count]
    ordered = sorted(counts.index, key=lambda v: (-counts[v], v))
    return {value: code for code, value in enumerate(ordered, start=UNKNOWN + 1)}


def _numeric(table: pd.DataFrame) -> np.ndarray:
    """The numeric inputs `(N, 5)` float32, money and weight columns log1p-compressed."""
    columns = [np.log1p(table[c].to_numpy(np.float64)) if c in _LOG
               else table[c].to_numpy(np.float64) for c in NUMERIC]
    return np.stack(columns, axis=1).astype(np.float32)
