"""Keras's `model.fit(x, y)` for plait: arrays in memory, named by the graph, as a DataModule.

The arrays are checked once, where they are given (`plait.data.array_checks`), so a wrong
one is reported at the line that passed it rather than in the middle of `trainer.fit`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from torch.utils.data import DataLoader, Dataset

from plait.data import array_checks as given
from plait.data.array_checks import SAMPLE_WEIGHT, Columns
from plait.data.base import DEFAULT_SEED, DictDataModule
from plait.data.checks import DataError, fractions
from plait.data.columns import ColumnDataset

if TYPE_CHECKING:
    from plait.graph import Graph


class ArrayDataModule(DictDataModule):
    """Batches cut from numpy arrays or torch tensors in memory, as `model.fit(x, y)` takes them.

    `inputs` and `targets` are each a dict keyed by the graph's input (output) names, a
    list in declared order, or one array; a list or one array is named by `graph` or by
    `input_names` / `target_names`. Integer arrays become int64, float and bool arrays
    float32, but a torch float tensor keeps its dtype (bfloat16 becomes float32).

    `val_data` and `test_data` take precedence over the fractions; what has none is cut
    from the arrays by `seed`. `predict_dataloader` serves every row of the given arrays
    in order (targets included, so predictions line up with them); with `targets=None`
    the data is predict-only and has no other split.

    Args:
        inputs: the input arrays (dict, list or one array).
        targets: the target arrays; None for predict-only data.
        batch_size: examples per batch.
        val_fraction: share of the rows held out for val when there is no `val_data`; 0: no val.
        test_fraction: share of the rows held out for test when there is no `test_data`.
        val_data: `(inputs, targets)` or `(inputs, targets, sample_weight)` to validate on.
        test_data: the same, to test on.
        seed: seeds the split and the training shuffle.
        graph: the plait `Graph` whose input and output names (and orders) name the arrays.
        input_names: the names of the inputs, when there is no `graph`.
        target_names: the names of the targets, when there is no `graph`.
        num_workers: loader worker processes.
        sample_weight: a weight per row, carried in batches under `SAMPLE_WEIGHT`; a split
            given none weighs each of its rows 1.

    Shape:
        every array `(N, ...)`, one row per example; `sample_weight` `(N,)`; batches `(B, ...)`.

    Raises:
        DataError: naming the array: unnamed or miscounted arrays, unequal lengths, values
            that are not numbers or are NaN or Inf, a bad `sample_weight`, held-out arrays
            whose rows or dtype kind differ from the training arrays', bad fractions.
    """

    named_keys = True  # the user named every array: one the model does not read is a mistake

    def __init__(self, inputs: Any, targets: Any = None, *, batch_size: int = 32,
                 val_fraction: float = 0.1, test_fraction: float = 0.0,
                 val_data: Sequence[Any] | None = None, test_data: Sequence[Any] | None = None,
                 seed: int = DEFAULT_SEED, graph: Graph | None = None, input_names: Sequence[str] | None = None,
                 target_names: Sequence[str] | None = None, num_workers: int = 0,
                 sample_weight: Any = None) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed)
        owner = self.owner
        self.check(fractions(val_fraction, test_fraction))
        self.predict_only = targets is None
        held_out = {"val": val_data, "test": test_data}
        if self.predict_only and any(d is not None for d in held_out.values()):
            raise DataError(f"{owner}: val_data and test_data need targets, but targets is None "
                            "(predict-only data); pass targets= to train, validate or test.")
        self.input_names = given.names(inputs, input_names, graph, "inputs", owner)
        self.target_names = ([] if self.predict_only else
                             given.names(targets, target_names, graph, "targets", owner))
        sources = {"fit": (inputs, targets, sample_weight),
                   **{s: given.held_out(d, s, owner) for s, d in held_out.items() if d is not None}}
        self.weighted = any(weights is not None for _, _, weights in sources.values())
        self._check_distinct()
        self.arrays = self._columns(*sources.pop("fit"), where="")
        self.held_out = {split: self._matched(self._columns(*arrays, where=f"{split}_data: "), split)
                         for split, arrays in sources.items()}
        self.val_fraction = 0.0 if self.predict_only or val_data is not None else val_fraction
        self.test_fraction = 0.0 if self.predict_only or test_data is not None else test_fraction
        # The loss reads the weights, not the graph: the graph leaving them unread is expected.
        self.extras = frozenset({SAMPLE_WEIGHT} if self.weighted else ())

    @property
    def provides(self) -> frozenset[str]:
        """Every input and target name, and `SAMPLE_WEIGHT` when any split is weighted."""
        return frozenset(self.input_names) | frozenset(self.target_names) | self.extras

    def build_splits(self) -> dict[str, Dataset]:
        """Train, val and test (held-out data, else seeded cuts), and predict: every row in order."""
        if self.predict_only:
            return {"predict": ColumnDataset(self.arrays)}
        # `rows` is sorted: a split of every row is the array itself, not a copy of it.
        splits = {name: {k: a if len(rows) == len(a) else a[rows] for k, a in self.arrays.items()}
                  for name, rows in self.split(len(next(iter(self.arrays.values())))).items()}
        return {name: ColumnDataset(columns)
                for name, columns in {**splits, **self.held_out, "predict": self.arrays}.items()}

    def predict_dataloader(self) -> DataLoader | list:
        return self._loader("predict", shuffle=False)

    def _loader(self, name: str, *, shuffle: bool) -> DataLoader | list:
        if self.predict_only and name != "predict":
            raise DataError(f"{self.owner}: targets is None, so this data is predict-only and has no "
                            f"{name} split; pass targets= to train, validate or test, or call "
                            "predict_dataloader().")
        return super()._loader(name, shuffle=shuffle)

    def _label(self, key: str) -> str:
        """How a message names the array of batch key `key`."""
        if key == SAMPLE_WEIGHT and self.weighted:
            return SAMPLE_WEIGHT
        return f"input '{key}'" if key in self.input_names else f"target '{key}'"

    def _check_distinct(self) -> None:
        """Every batch key belongs to one array: a shared name would overwrite one of them."""
        both = sorted(set(self.input_names) & set(self.target_names))
        self.check(f"{both} name both an input and a target; a batch holds one array per name, "
                   "so rename one of them." if both else None,
                   f"'{SAMPLE_WEIGHT}' names an input or target, but it is the batch key of the "
                   "sample weights; rename that array." if self.weighted and SAMPLE_WEIGHT in
                   {*self.input_names, *self.target_names} else None)

    def _columns(self, inputs: Any, targets: Any, weights: Any, *, where: str) -> Columns:
        """One source's arrays, named, converted, checked, and of one length; messages start
        with `where` (`val_data: `)."""
        prefix = f"{self.owner}: {where}"
        named = given.named(inputs, self.input_names, "inputs", prefix)
        if targets is not None:
            named |= given.named(targets, self.target_names, "targets", prefix)
        columns = {key: given.column(value, f"{prefix}{self._label(key)}")
                   for key, value in named.items()}
        if weights is not None:
            columns[SAMPLE_WEIGHT] = given.weights(weights, prefix)
        rows = given.same_rows(columns, self._label, prefix)
        if weights is None and self.weighted:  # Keras's default for a split given no weights
            columns[SAMPLE_WEIGHT] = np.ones(rows, dtype=np.float32)
        return columns

    def _matched(self, columns: Columns, split: str) -> Columns:
        """Held-out arrays in the training arrays' dtypes, after checking that their row
        shapes and dtype kinds (integer, float) agree."""
        for key, column in columns.items():
            fit, what = self.arrays[key], f"{split}_data: {self._label(key)}"
            self.check(None if column.shape[1:] == fit.shape[1:] else
                       f"{what} has rows of shape {column.shape[1:]}, but the training array's "
                       f"rows have shape {fit.shape[1:]}; expected the same.",
                       None if column.dtype.kind == fit.dtype.kind else
                       f"{what} has dtype {column.dtype}, but the training array has "
                       f"{fit.dtype}; expected both integer or both float.")
            columns[key] = column.astype(fit.dtype, copy=False)
        return columns
