"""Keras's `model.fit(x, y)` for plait: arrays in memory, named by the graph, as a DataModule.

The arrays are checked once, where they are given, so a wrong one is reported at the
line that passed it rather than in the middle of `trainer.fit`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from plait.data.base import DictDataModule, split_indices
from plait.data.checks import DataError, check_fractions
from plait.data.columns import ColumnDataset

if TYPE_CHECKING:
    from plait.graph import Graph

# The batch key of the per-example weights (Keras's `fit(sample_weight=...)`).
SAMPLE_WEIGHT = "sample_weight"
# Characters of a bad value shown in an error message.
SHOWN_CHARS = 40

Columns = dict[str, np.ndarray]


class ArrayDataModule(DictDataModule):
    """Batches cut from numpy arrays or torch tensors in memory, as `model.fit(x, y)` takes them.

    Each array feeds the graph input or output of its name. `inputs` and `targets` are
    each a dict keyed by those names, a list in declared order, or one array for a single
    input (output). A list or a single array is named by `graph` (its `input_names` and
    `output_names`) or by `input_names` / `target_names`; a dict names itself.

    Integer arrays become int64 (class indices, token ids); float and bool arrays become
    float32, except a torch tensor of another float dtype (float64, float16), which keeps
    it. A bfloat16 tensor becomes float32, as numpy, which holds the arrays, has no bfloat16.

    `val_data` and `test_data` take precedence over `val_fraction` and `test_fraction`;
    what has none is cut from the arrays by `seed`. With `targets=None` the data is
    predict-only: `predict_dataloader` serves every row in order and the fractions are
    unused. With targets it serves every row of the given arrays too (not the held-out
    data), targets included, so predictions line up with them.

    Args:
        inputs: the input arrays (dict, list or one array).
        targets: the target arrays, keyed like the graph's outputs; None for predict-only data.
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
        DataError: naming the array: unnamed lists or arrays, names that differ from a
            dict's keys or a list's length, arrays of unequal length, arrays that are not
            numbers or hold NaN or Inf (with the rows), a negative or non-1-D
            `sample_weight`, held-out arrays whose row shape or dtype kind differs from
            the training arrays', fractions out of range.
    """

    named_keys = True  # the user named every array: one the model does not read is a mistake

    def __init__(self, inputs: Any, targets: Any = None, *, batch_size: int = 32,
                 val_fraction: float = 0.1, test_fraction: float = 0.0,
                 val_data: Sequence[Any] | None = None, test_data: Sequence[Any] | None = None,
                 seed: int = 0, graph: Graph | None = None, input_names: Sequence[str] | None = None,
                 target_names: Sequence[str] | None = None, num_workers: int = 0,
                 sample_weight: Any = None) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed)
        owner = self.owner
        check_fractions(val_fraction, test_fraction, owner)
        self.predict_only = targets is None
        held_out = {"val": val_data, "test": test_data}
        if self.predict_only and any(d is not None for d in held_out.values()):
            raise DataError(f"{owner}: val_data and test_data need targets, but targets is None "
                            "(predict-only data); pass targets= to train, validate or test.")
        self.input_names = _names(inputs, input_names, graph, "inputs", owner)
        self.target_names = ([] if self.predict_only else
                             _names(targets, target_names, graph, "targets", owner))
        sources = {"fit": (inputs, targets, sample_weight),
                   **{s: _triple(d, s, owner) for s, d in held_out.items() if d is not None}}
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
        rows = split_indices(len(next(iter(self.arrays.values()))), val_fraction=self.val_fraction,
                             test_fraction=self.test_fraction, seed=self.seed, owner=self.owner)
        splits = {name: {k: _take(a, idx) for k, a in self.arrays.items()}
                  for name, idx in rows.items()}
        return {name: ColumnDataset(columns)
                for name, columns in {**splits, **self.held_out, "predict": self.arrays}.items()}

    def train_dataloader(self) -> DataLoader:
        self._require_targets("train")
        return super().train_dataloader()

    def val_dataloader(self) -> DataLoader | list:
        self._require_targets("val")
        return super().val_dataloader()

    def test_dataloader(self) -> DataLoader | list:
        self._require_targets("test")
        return super().test_dataloader()

    def predict_dataloader(self) -> DataLoader | list:
        return self._loader("predict", shuffle=False)

    def _require_targets(self, split: str) -> None:
        if self.predict_only:
            raise DataError(f"{self.owner}: targets is None, so this data is predict-only and has no "
                            f"{split} split; pass targets= to train, validate or test, or call "
                            "predict_dataloader().")

    def _label(self, key: str) -> str:
        """How a message names the array of batch key `key`."""
        if key == SAMPLE_WEIGHT and self.weighted:
            return SAMPLE_WEIGHT
        return f"input '{key}'" if key in self.input_names else f"target '{key}'"

    def _check_distinct(self) -> None:
        """Every batch key belongs to one array: a shared name would overwrite one of them."""
        both = sorted(set(self.input_names) & set(self.target_names))
        if both:
            raise DataError(f"{self.owner}: {both} name both an input and a target; a batch holds "
                            "one array per name, so rename one of them.")
        if self.weighted and SAMPLE_WEIGHT in {*self.input_names, *self.target_names}:
            raise DataError(f"{self.owner}: '{SAMPLE_WEIGHT}' names an input or target, but it is "
                            "the batch key of the sample weights; rename that array.")

    def _columns(self, inputs: Any, targets: Any, weights: Any, *, where: str) -> Columns:
        """One source's arrays, named, converted, checked, and of one length.

        Raises:
            DataError: see the class; the message starts with `where` (`val_data: `).
        """
        prefix = f"{self.owner}: {where}"
        named = _named(inputs, self.input_names, "inputs", prefix)
        if targets is not None:
            named |= _named(targets, self.target_names, "targets", prefix)
        columns = {key: _column(value, f"{prefix}{self._label(key)}") for key, value in named.items()}
        if weights is not None:
            columns[SAMPLE_WEIGHT] = _weights(weights, prefix)
        rows = _same_rows(columns, self._label, prefix)
        if weights is None and self.weighted:  # Keras's default for a split given no weights
            columns[SAMPLE_WEIGHT] = np.ones(rows, dtype=np.float32)
        return columns

    def _matched(self, columns: Columns, split: str) -> Columns:
        """Held-out arrays in the training arrays' dtypes, after checking their rows agree.

        Raises:
            DataError: an array's row shape or dtype kind (integer, float) differs.
        """
        for key, column in columns.items():
            fit = self.arrays[key]
            what = f"{self.owner}: {split}_data: {self._label(key)}"
            if column.shape[1:] != fit.shape[1:]:
                raise DataError(f"{what} has rows of shape {column.shape[1:]}, but the training "
                                f"array's rows have shape {fit.shape[1:]}; expected the same.")
            if column.dtype.kind != fit.dtype.kind:
                raise DataError(f"{what} has dtype {column.dtype}, but the training array has "
                                f"{fit.dtype}; expected both integer or both float.")
            columns[key] = column.astype(fit.dtype, copy=False)
        return columns


def _names(arrays: Any, given: Sequence[str] | None, graph: Graph | None, arg: str,
           owner: str) -> list[str]:
    """The names of one role's arrays: `given`, else the graph's, else the dict's keys.

    Raises:
        DataError: both `given` and `graph`, repeated names, or an unnamed list or array.
    """
    names_arg = f"{arg.removesuffix('s')}_names"
    graph_names = None if graph is None else (
        graph.input_names if arg == "inputs" else graph.output_names)
    if given is not None and graph_names is not None:
        raise DataError(f"{owner}: pass graph= or {names_arg}=, not both; got {names_arg}="
                        f"{list(given)} and the graph's names {list(graph_names)}.")
    if given is None and graph_names is None:
        if isinstance(arrays, Mapping):
            return [str(key) for key in arrays]
        raise DataError(f"{owner}: {arg} is {_kind(arrays)} without names; pass a dict keyed by "
                        f"the graph's names, graph=, or {names_arg}=[...].")
    names = [str(n) for n in (given if given is not None else graph_names)]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DataError(f"{owner}: {names_arg} repeats {repeated}; got {names}.")
    return names


def _named(arrays: Any, names: list[str], arg: str, prefix: str) -> dict[str, Any]:
    """`arrays` keyed by `names`: a dict as it is, a list in order, one array alone.

    Raises:
        DataError: a dict whose keys are not `names`, or a list or one array whose count
            is not theirs.
    """
    if isinstance(arrays, Mapping):
        named = {str(key): value for key, value in arrays.items()}
        missing = [n for n in names if n not in named]
        unknown = [k for k in named if k not in names]
        if missing or unknown:
            raise DataError(f"{prefix}{arg} has keys {list(named)}; expected {names} (missing "
                            f"{missing}, unknown {unknown}).")
        return {n: named[n] for n in names}
    if isinstance(arrays, (list, tuple)):
        if len(arrays) != len(names):
            hint = (" (a list of numbers is read as a list of arrays: pass one numpy array)"
                    if len(names) == 1 else "")
            raise DataError(f"{prefix}{arg} is a list of {len(arrays)} arrays, but the names are "
                            f"{names}; expected one array per name{hint}.")
        return dict(zip(names, arrays))
    if len(names) != 1:
        raise DataError(f"{prefix}{arg} is one array, but there are {len(names)} names {names}; "
                        "pass a dict or a list with one array per name.")
    return {names[0]: arrays}


def _triple(data: Any, split: str, owner: str) -> tuple[Any, Any, Any]:
    """`(inputs, targets, sample_weight)` from a held-out `(inputs, targets[, sample_weight])`."""
    if not isinstance(data, (list, tuple)) or len(data) not in (2, 3):
        raise DataError(f"{owner}: {split}_data must be (inputs, targets) or (inputs, targets, "
                        f"sample_weight); got {_kind(data)}.")
    return (data[0], data[1], data[2] if len(data) == 3 else None)


def _column(value: Any, what: str) -> np.ndarray:
    """`value` as a contiguous numpy array of its batch dtype, one row per example.

    Raises:
        DataError: it is not numbers, has no rows, or holds NaN or Inf.
    """
    if isinstance(value, Tensor):
        tensor = value.detach().cpu()
        if tensor.is_complex():
            raise DataError(f"{what} has dtype {tensor.dtype}; expected real numbers.")
        # A float tensor keeps its dtype, which the user chose; numpy cannot hold bfloat16.
        keep = tensor.is_floating_point() and tensor.dtype != torch.bfloat16
        array = tensor.float().numpy() if tensor.dtype == torch.bfloat16 else tensor.numpy()
    else:
        keep, array = False, _as_array(value, what)
    if array.dtype.kind not in "biuf":
        raise _not_numbers(array, what)
    if array.ndim == 0 or len(array) == 0:
        raise DataError(f"{what} has shape {array.shape}; expected one row per example, shape "
                        "(N, ...) with N >= 1.")
    if not keep:
        array = array.astype(np.int64 if array.dtype.kind in "iu" else np.float32, copy=False)
    array = np.ascontiguousarray(array)
    if array.dtype.kind == "f":
        _check_finite(array, what)
    return array


def _as_array(value: Any, what: str) -> np.ndarray:
    try:
        return np.asarray(value)
    except ValueError as err:  # ragged nested lists
        first = str(err).strip().splitlines()[0]
        raise DataError(f"{what} cannot become one array ({first}); expected rows of one shape: "
                        "pad ragged sequences to one length first.") from None


def _not_numbers(array: np.ndarray, what: str) -> DataError:
    """The error for text, objects or dates, showing the first value that is not a number."""
    flat = array.reshape(-1)
    at = next((i for i, v in enumerate(flat) if not isinstance(v, (int, float, np.number))), None)
    if at is None and flat.size and array.dtype.kind == "O":  # numbers held as objects (pandas)
        return DataError(f"{what} has dtype object, numbers held as Python objects; expected a "
                         "numeric array: convert it with .astype(float) or .astype(int).")
    example = ""
    if flat.size:
        at = at or 0  # complex numbers: the first value shows the kind
        row = at // (flat.size // len(array)) if array.ndim else 0
        value = flat[at].item() if isinstance(flat[at], np.generic) else flat[at]  # no np.str_()
        example = f", e.g. {repr(value)[:SHOWN_CHARS]} at row {row}"
    return DataError(f"{what} has dtype {array.dtype}{example}; expected numbers (bool, int or "
                     "float). Encode it as numbers first (token ids, category codes, 0/1).")


def _check_finite(array: np.ndarray, what: str) -> None:
    bad = ~np.isfinite(array.reshape(len(array), -1)).all(axis=1)
    if bad.any():
        count = int(bad.sum())
        raise DataError(f"{what} has {count} row{'s' if count > 1 else ''} with NaN or Inf (first "
                        f"at row {int(np.argmax(bad))}, counting from 0) out of {len(array)}; "
                        "clean or impute them before training.")


def _same_rows(columns: Columns, label: Callable[[str], str], prefix: str) -> int:
    """The row count every array shares.

    Raises:
        DataError: naming the first array whose length differs from the first array's.
    """
    (first, reference), *rest = columns.items()
    for key, column in rest:
        if len(column) != len(reference):
            raise DataError(f"{prefix}{label(key)} has {len(column)} rows, but {label(first)} has "
                            f"{len(reference)}; expected one row per example in every array.")
    return len(reference)


def _weights(value: Any, prefix: str) -> np.ndarray:
    """`sample_weight` as float32 `(N,)`, finite and not negative.

    Raises:
        DataError: more dimensions than one, NaN, Inf or a negative weight.
    """
    what = f"{prefix}{SAMPLE_WEIGHT}"
    weights = _column(value, what).astype(np.float32, copy=False)
    if weights.ndim != 1:
        hint = " (flatten it with .reshape(-1))" if weights.size == len(weights) else ""
        raise DataError(f"{what} has shape {weights.shape}; expected ({len(weights)},), one weight "
                        f"per example{hint}.")
    negative = weights < 0
    if negative.any():
        raise DataError(f"{what} has {int(negative.sum())} negative weights (first at row "
                        f"{int(np.argmax(negative))}: {weights[negative][0]}); expected weights >= 0.")
    return weights


def _take(array: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """`array[rows]`; the array itself when `rows` is every row (sorted), saving a copy."""
    return array if len(rows) == len(array) else array[rows]


def _kind(value: Any) -> str:
    """How a message describes what the user passed: `one array of shape (100, 4)`, `a list`."""
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)} items"
    shape = getattr(value, "shape", None)
    return f"one array of shape {tuple(shape)}" if shape is not None else f"a {type(value).__name__}"
