"""A user's own data: columns of a `.csv`, `.parquet` or `.npz` file mapped to graph names."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from plait.data.base import (
    ArrayDictDataset,
    DataError,
    DictDataModule,
    check_fractions,
    split_indices,
)

SUFFIXES = (".csv", ".parquet", ".npz")
Table = pd.DataFrame | Mapping[str, np.ndarray]


class FileDataModule(DictDataModule):
    """Batches from named columns (csv, parquet) or arrays (npz) of the user's files.

    Each graph input or output name takes one column, or a list of columns that are
    concatenated into one float vector. An `.npz` array may have any number of dimensions
    after the first (images, sequences). Dtypes follow the training file's data (integers
    -> int64, floats and booleans -> float32) unless `dtypes` says otherwise, e.g.
    `{label: float32}` for a 0/1 target trained with binary cross-entropy.

    With one file, val and test are cut from it by `seed`; a split given its own file is
    read from that file instead.

    Args:
        train_path: the training file (`.csv`, `.parquet` or `.npz`).
        inputs: graph input name -> column name, or list of columns stacked into a vector.
        targets: graph output name -> column name (or list of columns).
        val_path: a separate val file; if None, `val_fraction` of the train file is used.
        test_path: a separate test file; if None, `test_fraction` of the train file is used.
        val_fraction: share of the train file held out for val when there is no `val_path`.
        test_fraction: share of the train file held out for test when there is no `test_path`.
        dtypes: batch key -> torch dtype name (`float32`, `int64`, ...), overriding inference.
        num_classes: target name -> classes its head predicts (`${data.num_classes.job}` in
            a model config); `setup` checks every label is below it.
        batch_size: examples per batch.
        num_workers: loader worker processes.
        seed: seeds the splits, the `limit` slice and the shuffle.
        limit: keep only the first `limit` rows of each split after shuffling.
        cache_dir: unused (the files are read where they are); taken for a uniform signature.

    Shape:
        a single column `(B,)`; a list of columns `(B, K)`; an npz array `(B, ...)`.
    """

    def __init__(self, *, train_path: str, inputs: Mapping[str, str | Sequence[str]],
                 targets: Mapping[str, str | Sequence[str]], val_path: str | None = None,
                 test_path: str | None = None, val_fraction: float = 0.1,
                 test_fraction: float = 0.1, dtypes: Mapping[str, str] | None = None,
                 num_classes: Mapping[str, int] | None = None,
                 batch_size: int = 32, num_workers: int = 0, seed: int = 0,
                 limit: int | None = None, cache_dir: str | None = None) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed,
                         limit=limit, cache_dir=cache_dir)
        owner = type(self).__name__
        self.paths = {"train": train_path, "val": val_path, "test": test_path}
        for split, path in self.paths.items():
            if path is not None and Path(path).suffix not in SUFFIXES:
                raise DataError(f"{owner}: data.{split}_path={path} must end in one of {SUFFIXES}.")
        self.inputs, self.targets = _plain(inputs), _plain(targets)
        if not self.inputs or not self.targets:
            raise DataError(f"{owner}: data.inputs and data.targets must each name at least one "
                            f"column, got inputs={self.inputs} targets={self.targets}.")
        both = sorted(self.inputs.keys() & self.targets.keys())
        if both:
            raise DataError(f"{owner}: {both} named in both data.inputs and data.targets.")
        self.dtypes = {key: _numpy_dtype(name, key, owner) for key, name in (dtypes or {}).items()}
        unknown = sorted(self.dtypes.keys() - self.provides)
        if unknown:
            raise DataError(f"{owner}: data.dtypes names {unknown}, which are neither inputs nor "
                            f"targets; known: {sorted(self.provides)}.")
        self.num_classes = {str(k): int(v) for k, v in (num_classes or {}).items()}
        unknown = sorted(self.num_classes.keys() - self.targets.keys())
        if unknown:
            raise DataError(f"{owner}: data.num_classes names {unknown}, which are not targets; "
                            f"targets: {sorted(self.targets)}.")
        check_fractions(val_fraction, test_fraction, owner)
        self.val_fraction = 0.0 if val_path else val_fraction
        self.test_fraction = 0.0 if test_path else test_fraction

    @property
    def provides(self) -> frozenset[str]:
        return frozenset(self.inputs) | frozenset(self.targets)

    def build_splits(self) -> dict[str, Dataset]:
        owner = type(self).__name__
        specs = {**self.inputs, **self.targets}
        train = _columns(_read(self.paths["train"], owner), specs, self.paths["train"], owner)
        dtypes = {key: self.dtypes[key] if key in self.dtypes else _infer(array, specs[key])
                  for key, array in train.items()}
        rows = split_indices(len(next(iter(train.values()))), val_fraction=self.val_fraction,
                             test_fraction=self.test_fraction, seed=self.seed, owner=owner)
        splits = {name: {k: a[rows[name]] for k, a in train.items()} for name in rows}
        for name in ("val", "test"):
            if self.paths[name] is not None:
                table = _read(self.paths[name], owner)
                splits[name] = _columns(table, specs, self.paths[name], owner)
        for name, cols in splits.items():
            for key, classes in self.num_classes.items():
                _check_classes(cols[key], classes, key, f"{name} split", owner)
        return {name: ArrayDictDataset({k: _cast(a, dtypes[k], k, owner) for k, a in cols.items()})
                for name, cols in splits.items()}


def _plain(mapping: Mapping[str, Any]) -> dict[str, str | list[str]]:
    """Hydra's DictConfig/ListConfig as plain dicts, lists and strings."""
    return {str(k): v if isinstance(v, str) else [str(c) for c in v] for k, v in mapping.items()}


def _numpy_dtype(name: str, key: str, owner: str) -> np.dtype:
    """The numpy dtype whose arrays become tensors of torch dtype `name`."""
    dtype = getattr(torch, str(name), None)
    try:
        if not isinstance(dtype, torch.dtype):
            raise TypeError(name)
        return torch.empty(0, dtype=dtype).numpy().dtype
    except (TypeError, RuntimeError):
        raise DataError(f"{owner}: data.dtypes.{key}={name} is not a torch dtype that numpy "
                        "holds (float32, int64, ...).") from None


def _read(path: str, owner: str) -> Table:
    file = Path(path).expanduser()
    if not file.is_file():
        raise DataError(f"{owner}: {file} does not exist.")
    if file.suffix == ".csv":
        return pd.read_csv(file)
    if file.suffix == ".parquet":
        return pd.read_parquet(file)
    with np.load(file, allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


def _columns(table: Table, specs: Mapping[str, str | list[str]], path: str,
             owner: str) -> dict[str, np.ndarray]:
    """Batch key -> array `(N, ...)`: one column as it is, several concatenated `(N, K)`."""
    available = list(table.columns) if isinstance(table, pd.DataFrame) else list(table)
    out = {}
    for key, spec in specs.items():
        names = [spec] if isinstance(spec, str) else spec
        for name in names:
            if name not in available:
                raise DataError(f"{owner}: column '{name}' (for '{key}') is not in {path}; "
                                f"available: {available}.")
        arrays = [np.asarray(table[name]) for name in names]
        _check_numeric(arrays, names, key, path, owner)
        if isinstance(spec, str):
            out[key] = arrays[0]
        else:
            out[key] = np.concatenate([a.reshape(len(a), -1).astype(np.float32) for a in arrays],
                                      axis=1)
    lengths = {key: len(a) for key, a in out.items()}
    if len(set(lengths.values())) > 1:
        raise DataError(f"{owner}: the arrays in {path} differ in length: {lengths}.")
    return out


def _check_numeric(arrays: list[np.ndarray], names: list[str], key: str, path: str,
                   owner: str) -> None:
    for name, array in zip(names, arrays):
        if array.dtype.kind not in "biuf":
            raise DataError(f"{owner}: column '{name}' (for '{key}') in {path} has dtype "
                            f"{array.dtype}; only numbers can be batched. Encode it as numbers "
                            "(category codes, 0/1) in the file first.")


def _check_classes(labels: np.ndarray, classes: int, key: str, where: str, owner: str) -> None:
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise DataError(f"{owner}: '{key}' in the {where} has labels {labels.min()}..{labels.max()}, "
                        f"but data.num_classes.{key} is {classes}; labels must lie in "
                        f"0..{classes - 1}.")


def _infer(array: np.ndarray, spec: str | list[str]) -> np.dtype:
    """int64 for an integer column (class indices, token ids); float32 for all others."""
    if isinstance(spec, str) and array.dtype.kind in "iu":
        return np.dtype(np.int64)
    return np.dtype(np.float32)


def _cast(array: np.ndarray, dtype: np.dtype, key: str, owner: str) -> np.ndarray:
    if dtype.kind in "iu" and array.dtype.kind == "f" and not np.isfinite(array).all():
        raise DataError(f"{owner}: '{key}' has missing or infinite values and cannot become "
                        f"{dtype}; fill them in the file or set data.dtypes.{key}=float32.")
    return np.ascontiguousarray(array.astype(dtype, copy=False))
