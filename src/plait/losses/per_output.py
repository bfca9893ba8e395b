"""Keras's three ways to give a value per output: one for all, a dict by name, a list in order."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from plait.losses.errors import LossError

_REQUIRED = object()


def check_output_names(output_names: Sequence[str]) -> list[str]:
    """The output names as a list: at least one, all strings, none twice.

    Raises:
        LossError: no names, a name that is not a string, or a repeated name.
    """
    names = list(output_names)
    if not names:
        raise LossError("output_names is empty: expected the names of the model's outputs")
    for name in names:
        if not isinstance(name, str):
            raise LossError(f"output names must be strings, received {name!r} "
                            f"({type(name).__name__})")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise LossError(f"output name {repeated[0]!r} is given more than once in {names}")
    return names


def per_output(value: Any, output_names: list[str], what: str, *,
               default: Any = _REQUIRED) -> list[Any]:
    """One value per output, in output order, from one value, a dict or a list.

    Args:
        value: one value for every output, a mapping keyed by output name, or a sequence
            in output order (a string counts as one value).
        output_names: the outputs, in order.
        what: the argument's name, for messages (`loss`, `loss_weights`).
        default: the value of an output a mapping leaves out; without it, every output
            needs an entry.

    Raises:
        LossError: a key that names no output, a missing entry, or a list of the wrong length.
    """
    if isinstance(value, Mapping):
        for key in value:
            if key not in output_names:
                raise LossError(f"{what} has {key!r}, which names no output; "
                                f"outputs are {output_names}")
        missing = [n for n in output_names if n not in value]
        if missing and default is _REQUIRED:
            raise LossError(f"{what} has no entry for output {missing[0]!r}: expected one for "
                            f"every output {output_names}, received {list(value)}")
        return [value.get(n, default) for n in output_names]
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        if len(value) != len(output_names):
            raise LossError(f"{what} has {len(value)} entries for {len(output_names)} outputs "
                            f"{output_names}: expected one per output, in that order")
        return list(value)
    return [value] * len(output_names)


def check_weight(weight: Any, key: str) -> float:
    """A loss weight as a float: a finite number above zero.

    Args:
        weight: the value given.
        key: where it was given, for messages (`loss_weights['age']`).

    Raises:
        LossError: not a number, not finite, zero or negative.
    """
    if isinstance(weight, bool) or not isinstance(weight, numbers.Real):
        raise LossError(f"{key} must be a positive number, received {weight!r} "
                        f"({type(weight).__name__})")
    value = float(weight)
    if not math.isfinite(value):
        raise LossError(f"{key} must be a positive finite number, received {value}")
    if value <= 0:
        raise LossError(f"{key} must be positive, received {value}; a zero weight would "
                        "stop training the output (remove the output instead), and a "
                        "negative one would train it backwards")
    return value


def check_weights(weights: Any, output_names: list[str], what: str = "loss_weights") -> list[float]:
    """One positive weight per output, from a number, a dict (missing outputs get 1.0) or a list.

    Raises:
        LossError: see `per_output` and `check_weight`.
    """
    values = per_output(weights, output_names, what, default=1.0)
    return [check_weight(w, f"{what}[{n!r}]") for n, w in zip(output_names, values)]
