"""A user's own data: columns of a `.csv`, `.parquet` or `.npz` file mapped to graph names."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from plait.data.base import DictDataModule, split_indices
from plait.data.checks import DataError, check_fractions
from plait.data.columns import ColumnDataset
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
    read from that file instead. `predict_path` is a file to predict on: only the input
    columns are read, so it needs no targets (nor does any file, without `targets`). An id
    column (`id_column`, or a column named `id`) is kept beside each split, out of the
    batches, so that predictions can name their rows (`predict_ids`).

    Args:
        train_path: the training file (`.csv`, `.parquet` or `.npz`); None when only
            testing (`test_path`) or predicting (`predict_path`).
        inputs: graph input name -> column name, or list of columns stacked into a vector.
        targets: graph output name -> column name (or list of columns); None for data
            without targets, which can only be predicted on.
        val_path: a separate val file; if None, `val_fraction` of the train file is used.
        test_path: a separate test file; if None, `test_fraction` of the train file is used.
        val_fraction: share of the train file held out for val when there is no `val_path`.
        test_fraction: share of the train file held out for test when there is no `test_path`.
        predict_path: a file to predict on (input columns only); without it, prediction
            uses the test split.
        id_column: the column naming each row, kept for predictions; None: `id` if the
            file has one.
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

    def __init__(self, *, train_path: str | None = None, inputs: Mapping[str, str | Sequence[str]],
                 targets: Mapping[str, str | Sequence[str]] | None = None,
                 val_path: str | None = None, test_path: str | None = None,
                 val_fraction: float = 0.1, test_fraction: float = 0.1,
                 predict_path: str | None = None, id_column: str | None = None,
                 dtypes: Mapping[str, str] | None = None,
                 num_classes: Mapping[str, int] | None = None,
                 batch_size: int = 32, num_workers: int = 0, seed: int = 0,
                 limit: int | None = None, cache_dir: str | None = None) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed,
                         limit=limit, cache_dir=cache_dir)
        owner = self.owner
        self.paths = {"train": train_path, "val": val_path, "test": test_path, "predict": predict_path}
        if not any(self.paths[split] for split in ("train", "test", "predict")):
            raise DataError(f"{owner}: data.train_path is required (or data.test_path to test, "
                            "data.predict_path to predict); all are null.")
        for split, path in self.paths.items():
            if path is None:
                continue
            if Path(path).suffix not in SUFFIXES:
                raise DataError(f"data.{split}_path: {path}: expected a file ending in one of "
                                f"{SUFFIXES}; got suffix {Path(path).suffix!r}.")
            check_exists(self._source(split))  # here, so that mode=check finds it too
        self.inputs, self.targets = dict(inputs), dict(targets or {})
        if not self.inputs:
            raise DataError(f"{owner}: data.inputs must name at least one column, got "
                            f"inputs={self.inputs} targets={self.targets}.")
        self.id_column = id_column
        self.ids: dict[str, np.ndarray] = {}  # split -> each row's id, where the file has ids
        both = sorted(self.inputs.keys() & self.targets.keys())
        if both:
            raise DataError(f"{owner}: {both} named in both data.inputs and data.targets.")
        self.dtypes = {key: _numpy_dtype(name, key, owner) for key, name in (dtypes or {}).items()}
        unknown = sorted(self.dtypes.keys() - self.provides)
        if unknown:
            raise DataError(f"{owner}: data.dtypes names {unknown}, which are neither inputs nor "
                            f"targets; known: {sorted(self.provides)}.")
        self.num_classes = dict(num_classes or {})
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
        """Train, val and test (cut from the train file where they have no file of their
        own), and predict from `predict_path` (its input columns only)."""
        fields = [Field.of(key, section, spec)
                  for section, specs in (("inputs", self.inputs), ("targets", self.targets))
                  for key, spec in specs.items()]
        splits: dict[str, dict[str, np.ndarray]] = {}
        if self.paths["train"] is not None:
            train = self._read("train", fields)
            rows = split_indices(len(next(iter(train.values()))), val_fraction=self.val_fraction,
                                 test_fraction=self.test_fraction, seed=self.seed,
                                 owner=self.owner)
            splits = {name: {k: a[rows[name]] for k, a in train.items()} for name in rows}
            if "train" in self.ids:
                self.ids.update({name: self.ids["train"][idx] for name, idx in rows.items()})
        for name in ("val", "test"):
            if self.paths[name] is not None:
                splits[name] = self._read(name, fields)
        if self.paths["predict"] is not None:
            splits["predict"] = self._read("predict", [f for f in fields if f.section == "inputs"])
        specs = {**self.inputs, **self.targets}
        dtypes: dict[str, np.dtype] = {}
        for cols in splits.values():  # the training file's data decides, where there is one
            for key, array in cols.items():
                dtypes.setdefault(key, self.dtypes[key] if key in self.dtypes
                                else _infer(array, specs[key]))
        for name, cols in splits.items():
            for key, classes in self.num_classes.items():
                if key in cols:
                    _check_classes(cols[key], classes, key, f"{name} split", self.owner)
        return {name: ColumnDataset({k: _cast(a, dtypes[k]) for k, a in cols.items()})
                for name, cols in splits.items()}

    def _read(self, split: str, fields: list[Field]) -> dict[str, np.ndarray]:
        """The split's file as arrays by batch key; its ids go to `self.ids[split]`."""
        # A named id column must be in the file to predict on; other files may lack it.
        columns, ids = _columns(self._source(split), fields, self.id_column, split == "predict")
        if ids is not None:
            self.ids[split] = ids
        return columns

    def _source(self, split: str) -> DataFile:
        return DataFile(f"data.{split}_path", str(self.paths[split]))

    def predict_dataloader(self) -> DataLoader | list:
        """Every row of `predict_path` in order; without one, the test split."""
        return self._loader(self.predict_split, shuffle=False)

    @property
    def predict_split(self) -> str:
        """The split `predict_dataloader` serves: `predict`, or `test` without `predict_path`."""
        return "predict" if self.paths["predict"] is not None else "test"

    @property
    def predict_ids(self) -> np.ndarray | None:
        """Each predicted row's id, in `predict_dataloader`'s order; None without an id column."""
        return self.ids.get(self.predict_split)

    def _loader(self, name: str, *, shuffle: bool) -> DataLoader | list:
        if self.splits and name not in self.splits:
            source = "the train file" if name in ("val", "test") else "a file"
            raise DataError(f"{self.owner}: no {name} data: data.{name}_path is null and "
                            f"there is no {source} to cut it from (data.train_path).")
        return super()._loader(name, shuffle=shuffle)

    def _limited(self, dataset: Dataset, name: str) -> Dataset:
        # Every row of a file to predict on is predicted; `limit` cuts the training splits.
        return dataset if name == "predict" else super()._limited(dataset, name)


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


def _columns(source: DataFile, fields: list[Field], id_column: str | None, ids_required: bool
             ) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """Batch key -> array `(N, ...)`: one column as it is, several concatenated `(N, K)`;
    and the rows' ids, from `id_column` (or an `id` column when it is None), if any."""
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
    return out, _ids(table, id_column, source, ids_required)


def _ids(table: Any, id_column: str | None, source: DataFile, required: bool) -> np.ndarray | None:
    """The id column's values as they are (numbers or text); None where there is none.

    Raises:
        DataError: `id_column` names a column the file lacks, where it is `required`.
    """
    names = [str(c) for c in (table.columns if hasattr(table, "columns") else table)]
    if id_column is None:
        return np.asarray(table["id"]) if "id" in names else None
    if id_column not in names:
        if not required:
            return None
        raise source.error(f"data.id_column names '{id_column}', which the file lacks; its "
                           f"columns: {names[:20]}.")
    return np.asarray(table[id_column])


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
