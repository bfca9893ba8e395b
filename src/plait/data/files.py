"""A user's own data: columns of a `.csv`, `.parquet` or `.npz` file mapped to graph names."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from plait.data.base import (
    ArrayDictDataset,
    DataError,
    DictDataModule,
    check_fractions,
    split_indices,
)
from plait.data.file_checks import DataFile, Field, check_exists, column, read_table

SUFFIXES = (".csv", ".parquet", ".npz")


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

    Raises:
        DataError: naming the config key and the file: at construction, a path that is
            missing or has another suffix; in `setup`, a file that is unreadable, empty, of
            another format than its suffix or without rows, a column it lacks (with the
            closest names), or a column holding text, NaN or Inf (with the rows).
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
            if path is None:
                continue
            if Path(path).suffix not in SUFFIXES:
                raise DataError(f"data.{split}_path: {path}: expected a file ending in one of "
                                f"{SUFFIXES}; got suffix {Path(path).suffix!r}.")
            check_exists(self._source(split))  # here, so that mode=check finds it too
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

    named_keys = True  # every key is a column the user mapped: an unread one is a mistake

    @property
    def provides(self) -> frozenset[str]:
        """Exactly the keys named in `data.inputs` and `data.targets`."""
        return frozenset(self.inputs) | frozenset(self.targets)

    def build_splits(self) -> dict[str, Dataset]:
        owner = type(self).__name__
        fields = [Field.of(key, section, spec)
                  for section, specs in (("inputs", self.inputs), ("targets", self.targets))
                  for key, spec in specs.items()]
        train = _columns(self._source("train"), fields)
        specs = {**self.inputs, **self.targets}
        dtypes = {key: self.dtypes[key] if key in self.dtypes else _infer(array, specs[key])
                  for key, array in train.items()}
        rows = split_indices(len(next(iter(train.values()))), val_fraction=self.val_fraction,
                             test_fraction=self.test_fraction, seed=self.seed, owner=owner)
        splits = {name: {k: a[rows[name]] for k, a in train.items()} for name in rows}
        for name in ("val", "test"):
            if self.paths[name] is not None:
                splits[name] = _columns(self._source(name), fields)
        for name, cols in splits.items():
            for key, classes in self.num_classes.items():
                _check_classes(cols[key], classes, key, f"{name} split", owner)
        return {name: ArrayDictDataset({k: _cast(a, dtypes[k]) for k, a in cols.items()})
                for name, cols in splits.items()}

    def _source(self, split: str) -> DataFile:
        return DataFile(f"data.{split}_path", str(self.paths[split]))


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


def _columns(source: DataFile, fields: list[Field]) -> dict[str, np.ndarray]:
    """Batch key -> array `(N, ...)`: one column as it is, several concatenated `(N, K)`."""
    table = read_table(source)
    out = {}
    for field in fields:
        arrays = [column(table, name, field, source) for name in field.names]
        out[field.key] = (np.concatenate([a.reshape(len(a), -1).astype(np.float32) for a in arrays],
                                         axis=1) if field.stacked else arrays[0])
    lengths = {key: len(a) for key, a in out.items()}
    if len(set(lengths.values())) > 1:
        raise source.error(f"the arrays differ in length: {lengths}; expected one row per "
                           "example in every array.")
    return out


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


def _cast(array: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return np.ascontiguousarray(array.astype(dtype, copy=False))
