"""The checks of a data config and of a user's arrays, each message written once.

Every message names the config key (`data.max_len`) or the array, what it holds and what
the data needs, or is None when all is well. A DataModule hands them to
`DictDataModule.check`, which raises the first one, with the module's name in front.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

SHOWN_CHARS = 40  # of a value that is not a number, in a message


class DataError(ValueError):
    """Data that does not fit its config: the message names the config key and both values."""


def room(key: str, configured: int, needed: int, has: str) -> str | None:
    """Why `data.<key>` = `configured` cannot hold what the data `has` (`needed` of it).

    Args:
        key: the config key under `data`.
        configured: its value.
        needed: the least value the data needs.
        has: what the data holds, as a clause: `the longest tweet has 57 tokens`.
    """
    if needed <= configured:
        return None
    return f"{has}, but data.{key} is {configured}. Set data.{key} to at least {needed}."


def at_least(key: str, value: float, least: float, why: str = "") -> str | None:
    """Why `data.<key>` = `value` is below `least` (`why` explains the bound)."""
    if value >= least:
        return None
    return f"data.{key} must be at least {least}{why}, got {value}."


def above_zero(key: str, value: float) -> str | None:
    """Why `data.<key>` = `value` is not above 0."""
    return None if value > 0 else f"data.{key} must be above 0, got {value}."


def one_of(key: str, value: Any, allowed: Iterable[Any]) -> str | None:
    """Why `data.<key>` = `value` is none of `allowed`."""
    allowed = list(allowed)
    return None if value in allowed else f"data.{key} must be one of {allowed}, got {value!r}."


def distinct(keys: dict[str, str | None]) -> str | None:
    """Why batch keys `{config key: batch key}` cannot share one batch (two are the same)."""
    given = {name: key for name, key in keys.items() if key is not None}
    if len(set(given.values())) == len(given):
        return None
    listing = ", ".join(f"data.{name}={key!r}" for name, key in given.items())
    return f"the batch keys must differ, got {list(given.values())} ({listing})."


def fractions(val_fraction: float, test_fraction: float) -> str | None:
    """Why the held-out shares cannot split data: each must lie in [0, 1), and both below 1."""
    for key, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0 <= value < 1:
            return f"data.{key} must lie in [0, 1), got {value}."
    if val_fraction + test_fraction >= 1:
        return (f"data.val_fraction + data.test_fraction must be below 1, "
                f"got {val_fraction} + {test_fraction}.")
    return None



def image_keys(image_key: str | None, pixels_key: str | None, target_key: str) -> str | None:
    """Why an image data set's batch keys cannot be used: no view of the image, or a clash."""
    if image_key is None and pixels_key is None:
        return "set data.image_key or data.pixels_key (both are null)."
    return distinct({"image_key": image_key, "pixels_key": pixels_key, "target_key": target_key})


def numbers(array: np.ndarray, what: str) -> str | None:
    """Why `array` (named `what`) is not numbers: its dtype, and the first value that is not
    a number (text that reads as one counts as one) with its row."""
    if array.dtype.kind in "biuf":
        return None
    flat = array.reshape(-1)
    at = next((i for i, v in enumerate(flat) if not _is_number(v)), None)
    if at is None and flat.size and array.dtype.kind == "O":  # numbers held as objects (pandas)
        return (f"{what} has dtype object, numbers held as Python objects; expected a numeric "
                "array: convert it with .astype(float) or .astype(int).")
    example = ""
    if flat.size:
        at = at or 0  # complex numbers: the first value shows the kind
        row = at // (flat.size // len(array)) if array.ndim else 0
        value = flat[at].item() if isinstance(flat[at], np.generic) else flat[at]  # no np.str_()
        example = f", e.g. {repr(value)[:SHOWN_CHARS]} at row {row}"
    return (f"{what} has dtype {array.dtype}{example}; expected numbers (bool, int or float). "
            "Encode it as numbers first (token ids, category codes, 0/1).")


def _is_number(value: Any) -> bool:
    if not isinstance(value, str):
        return isinstance(value, (int, float, np.number))
    try:
        float(value)
        return True
    except ValueError:
        return False


def finite(array: np.ndarray, what: str) -> str | None:
    """Why a float array `(N, ...)` (named `what`) cannot be used: its rows with NaN or Inf."""
    if array.dtype.kind != "f":
        return None
    bad = ~np.isfinite(array.reshape(len(array), -1)).all(axis=1)
    if not bad.any():
        return None
    count = int(bad.sum())
    return (f"{what} has {count} row{'s' if count > 1 else ''} with NaN or Inf (first at row "
            f"{int(np.argmax(bad))}, counting from 0); clean or impute them first.")
