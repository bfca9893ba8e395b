"""Predictions as one table: a row per example, a column per value, the predicted class beside
the probabilities, and the rows' ids first where the data has them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from plait.train.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

TABLES = ("csv", "parquet")


def check_table(table: str | None) -> None:
    """Raise a `ConfigError` unless `table` is `csv`, `parquet` or null."""
    if table is not None and table not in TABLES:
        raise ConfigError(f"table: expected one of {list(TABLES)} or null (no table), "
                          f"received {table!r}")


def prediction_table(outputs: Mapping[str, np.ndarray], activations: Mapping[str, str],
                     ids: np.ndarray | None = None, id_name: str = "id"
                     ) -> tuple[pd.DataFrame, list[str]]:
    """The predictions of every output with one value or one vector per example.

    An output of one value per example is the column `<output>`; a vector is the columns
    `<output>_0 .. <output>_<K-1>` (class probabilities, for softmax). A softmax output gets
    `<output>_class`, the most probable class; a sigmoid output of one value gets it too
    (1 where the probability is at least 0.5).

    Args:
        outputs: output name -> predictions `(N,)` or `(N, K)` (larger ones are left out).
        activations: output name -> `softmax`, `sigmoid` or `identity`.
        ids: each row's id, the first column when given.
        id_name: that column's name.

    Returns:
        The table, and the outputs left out of it (more than one dimension per example).
    """
    columns: dict[str, np.ndarray] = {} if ids is None else {id_name: np.asarray(ids)}
    left_out = []
    for name, values in outputs.items():
        if values.ndim > 2:
            left_out.append(name)
            continue
        values = values.reshape(len(values), -1)  # (N,) -> (N, 1)
        if values.shape[1] == 1:
            columns[name] = values[:, 0]
        else:
            columns.update({f"{name}_{k}": values[:, k] for k in range(values.shape[1])})
        if activations.get(name) == "softmax" and values.shape[1] > 1:
            columns[f"{name}_class"] = values.argmax(axis=1)
        elif activations.get(name) == "sigmoid" and values.shape[1] == 1:
            columns[f"{name}_class"] = (values[:, 0] >= 0.5).astype(np.int64)
    import pandas as pd  # here, not at the top: a training run never builds this table

    return pd.DataFrame(columns), left_out


def write_table(frame: pd.DataFrame, path_without_suffix: Path, table: str) -> Path:
    """Write `frame` as `<path>.csv` or `<path>.parquet`; returns the file written."""
    path = path_without_suffix.with_suffix(f".{table}")
    if table == "csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return path
