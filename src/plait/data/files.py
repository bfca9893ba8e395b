"""A user's own data: columns of a `.csv`, `.parquet` or `.npz` file mapped to graph names."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from plait.data.base import DEFAULT_SEED, DictDataModule
from plait.data.checks import DataError, fractions
from plait.data.columns import ColumnDataset
from plait.data.file_checks import DataFile, Field, check_exists, column, column_names, read_table

SUFFIXES = (".csv", ".parquet", ".npz")


class FileDataModule(DictDataModule):
    """Batches from named columns (csv, parquet) or arrays (npz) of the user's files.

    Each graph input or output name takes one column, or a list of columns concatenated
    into one float vector; an `.npz` array may have any number of dimensions after the
    first. Dtypes follow the training file (integers -> int64, floats and booleans ->
    float32) unless `dtypes` says otherwise, e.g. `{label: float32}` for a 0/1 target.

    Val and test are cut from the train file by `seed` unless given a file of their own.
    `predict_path` is read for its input columns only, so it needs no targets (nor does any
    file, without `targets`). An id column (`id_column`, or one named `id`) is kept beside
    each split, out of the batches, so that predictions can name their rows (`predict_ids`).

    Args:
        train_path: the training file (`.csv`, `.parquet` or `.npz`); None when only
            testing (`test_path`) or predicting (`predict_path`).
        inputs: graph input name -> column name, or list of columns stacked into a vector.
        targets: graph output name -> column name (or list of columns); None for data
            that can only be predicted on.
        val_path: a separate val file, in place of `val_fraction` of the train file.
        test_path: a separate test file, in place of `test_fraction` of the train file.
        val_fraction: share of the train file held out for val.
        test_fraction: share of the train file held out for test.
        predict_path: a file to predict on; without it, prediction uses the test split.
        id_column: the column naming each row; None: `id` if the file has one.
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
            missing or has another suffix; in `setup`, a file that is unreadable, empty,
            not what its suffix says or without rows, a missing column (with the closest
            names), or a column holding text, NaN or Inf (with the rows).
    """

    named_keys = True  # every key is a column the user mapped: an unread one is a mistake

    def __init__(self, *, train_path: str | None = None, inputs: Mapping[str, str | Sequence[str]],
                 targets: Mapping[str, str | Sequence[str]] | None = None,
                 val_path: str | None = None, test_path: str | None = None,
                 val_fraction: float = 0.1, test_fraction: float = 0.1,
                 predict_path: str | None = None, id_column: str | None = None,
                 dtypes: Mapping[str, str] | None = None,
                 num_classes: Mapping[str, int] | None = None,
                 batch_size: int = 32, num_workers: int = 0, seed: int = DEFAULT_SEED,
                 limit: int | None = None, cache_dir: str | None = None) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed,
                         limit=limit, cache_dir=cache_dir)
        self.paths = {"train": train_path, "val": val_path, "test": test_path, "predict": predict_path}
        self.check(None if train_path or test_path or predict_path else
                   "data.train_path is required (or data.test_path to test, data.predict_path "
                   "to predict); all are null.")
        for split, path in self.paths.items():
            if path is not None and Path(path).suffix not in SUFFIXES:
                raise DataError(f"data.{split}_path: {path}: expected a file ending in one of "
                                f"{SUFFIXES}; got suffix {Path(path).suffix!r}.")
            if path is not None:
                check_exists(self._source(split))  # here, so that mode=check finds it too
        self.inputs, self.targets = dict(inputs), dict(targets or {})
        self.id_column = id_column
        self.ids: dict[str, np.ndarray] = {}  # split -> each row's id, where the file has ids
        both = sorted(self.inputs.keys() & self.targets.keys())
        self.check(None if self.inputs else f"data.inputs must name at least one column, got "
                   f"inputs={self.inputs} targets={self.targets}.",
                   f"{both} named in both data.inputs and data.targets." if both else None)
        self.dtypes = {key: _numpy_dtype(name, key, self.owner) for key, name in (dtypes or {}).items()}
        self.num_classes = dict(num_classes or {})
        unknown = sorted(self.dtypes.keys() - self.provides)
        not_targets = sorted(self.num_classes.keys() - self.targets.keys())
        self.check(f"data.dtypes names {unknown}, which are neither inputs nor targets; known: "
                   f"{sorted(self.provides)}." if unknown else None,
                   f"data.num_classes names {not_targets}, which are not targets; targets: "
                   f"{sorted(self.targets)}." if not_targets else None)
        self.check(fractions(val_fraction, test_fraction))
        self.val_fraction = 0.0 if val_path else val_fraction
        self.test_fraction = 0.0 if test_path else test_fraction

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
            rows = self.split(len(next(iter(train.values()))))
            splits = {name: {k: a[idx] for k, a in train.items()} for name, idx in rows.items()}
            if "train" in self.ids:
                self.ids.update({name: self.ids["train"][idx] for name, idx in rows.items()})
        for name in ("val", "test", "predict"):
            if self.paths[name] is not None:
                splits[name] = self._read(name, [f for f in fields if name != "predict"
                                                 or f.section == "inputs"])
        dtypes = dict(self.dtypes)
        for cols in splits.values():  # the training file's data decides, where there is one
            for key, array in cols.items():  # int64 for one integer column, else float32
                single = isinstance({**self.inputs, **self.targets}[key], str)
                dtypes.setdefault(key, np.dtype(np.int64 if single and array.dtype.kind in "iu"
                                                else np.float32))
        for name, cols in splits.items():
            for key, classes in self.num_classes.items():
                labels = cols.get(key, np.zeros(0))
                self.check(None if not labels.size or 0 <= labels.min() <= labels.max() < classes
                           else f"'{key}' in the {name} split has labels {labels.min()}.."
                           f"{labels.max()}, but data.num_classes.{key} is {classes}; labels "
                           f"must lie in 0..{classes - 1}.")
        return {name: ColumnDataset({k: np.ascontiguousarray(a.astype(dtypes[k], copy=False))
                                     for k, a in cols.items()}) for name, cols in splits.items()}

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
        """Each predicted row's id, in `predict_dataloader`'s order (the rows `limit` keeps of
        the test split); None without an id column."""
        ids = self.ids.get(self.predict_split)
        keep = None if ids is None else self._kept_rows(self.predict_split, len(ids))
        return ids if keep is None else ids[keep]

    def _loader(self, name: str, *, shuffle: bool) -> DataLoader | list:
        if self.splits and name not in self.splits:
            source = "the train file" if name in ("val", "test") else "a file"
            raise DataError(f"{self.owner}: no {name} data: data.{name}_path is null and "
                            f"there is no {source} to cut it from (data.train_path).")
        return super()._loader(name, shuffle=shuffle)

    def _kept_rows(self, name: str, rows: int) -> np.ndarray | None:
        # Every row of a file to predict on is predicted; `limit` cuts the training splits.
        return None if name == "predict" else super()._kept_rows(name, rows)


def _numpy_dtype(name: str, key: str, owner: str) -> np.dtype:
    """The numpy dtype whose arrays become tensors of torch dtype `name`."""
    dtype = getattr(torch, str(name), None)
    if isinstance(dtype, torch.dtype):
        with contextlib.suppress(TypeError, RuntimeError):  # a dtype numpy lacks (bfloat16)
            return torch.empty(0, dtype=dtype).numpy().dtype
    raise DataError(f"{owner}: data.dtypes.{key}={name} is not a torch dtype that numpy "
                    "holds (float32, int64, ...).")


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
    names = column_names(table)
    if id_column is None:
        return np.asarray(table["id"]) if "id" in names else None
    if id_column not in names:
        if not required:
            return None
        raise source.error(f"data.id_column names '{id_column}', which the file lacks; its "
                           f"columns: {names[:20]}.")
    return np.asarray(table[id_column])
