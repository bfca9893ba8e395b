"""Checking the arrays given to `ArrayDataModule`: names, numbers, rows, weights.

Each failure is a `DataError` that names the argument (`inputs`, `val_data: `), the array
(`input 'a'`, `sample_weight`), what was expected and what was given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor

from plait.data.checks import DataError, finite, numbers

if TYPE_CHECKING:
    from plait.graph import Graph

# The batch key of the per-example weights (Keras's `fit(sample_weight=...)`).
SAMPLE_WEIGHT = "sample_weight"

Columns = dict[str, np.ndarray]


def names(arrays: Any, given: Sequence[str] | None, graph: Graph | None, arg: str,
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
        raise DataError(f"{owner}: {arg} is {kind(arrays)} without names; pass a dict keyed by "
                        f"the graph's names, graph=, or {names_arg}=[...].")
    names = [str(n) for n in (given if given is not None else graph_names)]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DataError(f"{owner}: {names_arg} repeats {repeated}; got {names}.")
    return names


def named(arrays: Any, names: list[str], arg: str, prefix: str) -> dict[str, Any]:
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


def held_out(data: Any, split: str, owner: str) -> tuple[Any, Any, Any]:
    """`(inputs, targets, sample_weight)` from a held-out `(inputs, targets[, sample_weight])`."""
    if not isinstance(data, (list, tuple)) or len(data) not in (2, 3):
        raise DataError(f"{owner}: {split}_data must be (inputs, targets) or (inputs, targets, "
                        f"sample_weight); got {kind(data)}.")
    return (data[0], data[1], data[2] if len(data) == 3 else None)


def column(value: Any, what: str) -> np.ndarray:
    """`value` as a contiguous numpy array of its batch dtype, one row per example: int64
    for integers, float32 for floats and booleans, a torch float tensor's own dtype.

    Raises:
        DataError: it is not numbers, has no rows, or holds NaN or Inf.
    """
    keep = False  # a float tensor keeps the dtype the user chose; numpy holds no bfloat16
    if isinstance(value, Tensor):
        tensor = value.detach().cpu()
        if tensor.is_complex():
            raise DataError(f"{what} has dtype {tensor.dtype}; expected real numbers.")
        keep = tensor.is_floating_point() and tensor.dtype != torch.bfloat16
        array = tensor.float().numpy() if tensor.dtype == torch.bfloat16 else tensor.numpy()
    else:
        try:
            array = np.asarray(value)
        except ValueError as err:  # ragged nested lists
            raise DataError(f"{what} cannot become one array ({str(err).strip().splitlines()[0]}"
                            "); expected rows of one shape: pad ragged sequences to one length "
                            "first.") from None
    empty = array.ndim == 0 or len(array) == 0
    problem = numbers(array, what) or (f"{what} has shape {array.shape}; expected one row per "
                                       "example, shape (N, ...) with N >= 1." if empty else None)
    if not problem and not keep:
        array = array.astype(np.int64 if array.dtype.kind in "iu" else np.float32, copy=False)
    problem = problem or finite(array, what)
    if problem:
        raise DataError(problem)
    return np.ascontiguousarray(array)


def same_rows(columns: Columns, label: Callable[[str], str], prefix: str) -> int:
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


def weights(value: Any, prefix: str) -> np.ndarray:
    """`sample_weight` as float32 `(N,)`, finite and not negative.

    Raises:
        DataError: more dimensions than one, NaN, Inf or a negative weight.
    """
    what = f"{prefix}{SAMPLE_WEIGHT}"
    weights = column(value, what).astype(np.float32, copy=False)
    if weights.ndim != 1:
        hint = " (flatten it with .reshape(-1))" if weights.size == len(weights) else ""
        raise DataError(f"{what} has shape {weights.shape}; expected ({len(weights)},), one weight "
                        f"per example{hint}.")
    negative = weights < 0
    if negative.any():
        raise DataError(f"{what} has {int(negative.sum())} negative weights (first at row "
                        f"{int(np.argmax(negative))}: {weights[negative][0]}); expected weights >= 0.")
    return weights


def kind(value: Any) -> str:
    """How a message describes what the user passed: `one array of shape (100, 4)`, `a list`."""
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)} items"
    shape = getattr(value, "shape", None)
    return f"one array of shape {tuple(shape)}" if shape is not None else f"a {type(value).__name__}"
