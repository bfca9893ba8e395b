"""Reading a user's data file, with every way it can be wrong named: each failure is a
`DataError` that names the config key (`data.train_path`, `data.inputs.features`), the
file, what was expected and what the file holds instead."""

from __future__ import annotations

import difflib
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from plait.data.checks import DataError, finite, numbers

Table = pd.DataFrame | Mapping[str, np.ndarray]


class Looks(NamedTuple):
    """What a file's first bytes say it is, and the suffix that would read it (None: none)."""

    what: str
    suffix: str | None

    def hint(self) -> str:
        return f" (rename it to {self.suffix}?)" if self.suffix else ""


EXPECTED = {".csv": "a CSV with a header row and at least one data row",
            ".parquet": "a Parquet file with at least one row",
            ".npz": "an .npz archive of named arrays (as np.savez writes)"}
# What a file's first bytes say it is, and the suffix that would read it.
MAGIC = {b"PAR1": Looks("a Parquet file", ".parquet"), b"PK\x03\x04": Looks("a zip archive", ".npz"),
         b"PK\x05\x06": Looks("an empty zip archive", None),
         b"\x93NUMPY": Looks("a single .npy array", None)}
SHOWN_COLUMNS = 20


@dataclass(frozen=True)
class DataFile:
    """A file the config names: `key` is its config key (`data.train_path`), `path` its value."""

    key: str
    path: str

    @property
    def file(self) -> Path:
        return Path(self.path).expanduser()

    def error(self, text: str) -> DataError:
        return DataError(f"{self.key}: {self.path}: {text}")


@dataclass(frozen=True)
class Field:
    """One batch key and the columns (npz arrays) that feed it."""

    key: str  # the graph input or output name
    section: str  # `inputs` or `targets`, the config mapping that names it
    names: tuple[str, ...]
    stacked: bool  # the config gave a list: the columns are concatenated into a float vector

    @classmethod
    def of(cls, key: str, section: str, spec: str | list[str]) -> Field:
        if isinstance(spec, str):
            return cls(key, section, (spec,), stacked=False)
        return cls(key, section, tuple(spec), stacked=True)

    @property
    def config_key(self) -> str:
        return f"data.{self.section}.{self.key}"

    @property
    def role(self) -> str:
        return f"{self.section.removesuffix('s')} '{self.key}'"


def check_exists(source: DataFile) -> None:
    """Raise a `DataError` unless `source` names a file that is there."""
    file = source.file
    if file.is_dir():
        raise source.error(f"is a directory; expected {EXPECTED[file.suffix]}.")
    if not file.exists():
        where = "" if file.is_absolute() else f" (looked in {Path.cwd()})"
        raise source.error(f"no such file{where}; expected {EXPECTED[file.suffix]}.")


def read_table(source: DataFile) -> Table:
    """The file's columns (csv, parquet) or arrays (npz), after checking it is what it says.

    Raises:
        DataError: the file is missing, unreadable, empty, of another format than its
            suffix, or has no rows.
    """
    looks, suffix = _looks_like(_head(source)), source.file.suffix
    expected = EXPECTED[suffix]
    if looks.suffix != suffix:
        text = ", not text" if suffix == ".csv" else ""
        raise source.error(f"expected {expected}; this file is {looks.what}{text}{looks.hint()}.")
    try:
        table = (pd.read_csv(source.file) if suffix == ".csv" else
                 pd.read_parquet(source.file) if suffix == ".parquet" else _read_npz(source))
    except UnicodeDecodeError:
        raise source.error(f"expected UTF-8 text; {_first_non_utf8(source.file)} is not UTF-8 "
                           "(save the file as CSV UTF-8).") from None
    except DataError:
        raise
    # pandas' ParserError and EmptyDataError, and pyarrow's ArrowInvalid, are ValueErrors.
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        how = "pandas cannot parse it" if suffix == ".csv" else "it cannot be read"
        raise source.error(f"expected {expected}; {how}: {_first_line(err)}") from None
    if len(table) == 0 and suffix != ".npz":
        holds = "a header" if suffix == ".csv" else f"columns {_shown(list(table.columns))}"
        raise source.error(f"expected {expected}; this file has {holds} and 0 rows.")
    return table


def _head(source: DataFile) -> bytes:
    check_exists(source)
    expected = EXPECTED[source.file.suffix]
    try:
        with source.file.open("rb") as stream:
            head = stream.read(4096)
    except OSError as err:
        raise source.error(f"cannot be read ({err.strerror or err}); expected {expected}.") from None
    if not head:
        raise source.error(f"is empty (0 bytes); expected {expected}.")
    return head


def _looks_like(head: bytes) -> Looks:
    for magic, looks in MAGIC.items():
        if head.startswith(magic):
            return looks
    return Looks("binary data", None) if b"\x00" in head else Looks("text", ".csv")


def _first_non_utf8(file: Path) -> str:
    """Where the first byte that is not UTF-8 lies: `byte 0xe9 on line 2`."""
    data = file.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        return f"byte {data[err.start]:#04x} on line {line}"
    return "a byte"  # pandas read in chunks and failed where a whole-file decode does not


def _read_npz(source: DataFile) -> dict[str, np.ndarray]:
    arrays = {}
    with np.load(source.file, allow_pickle=False) as npz:
        for name in npz.files:
            try:
                arrays[name] = npz[name]
            except ValueError as err:  # an object array: np.load reads no pickles
                raise source.error(f"array '{name}' cannot be read ({_first_line(err)}); "
                                   "expected numeric arrays.") from None
    strays = [name for name, value in arrays.items() if not isinstance(value, np.ndarray)]
    if strays or not arrays:
        found = f"members {strays} that are not .npy arrays" if strays else "no arrays"
        raise source.error(f"expected {EXPECTED['.npz']}; this archive holds {found}.")
    return arrays


def column(table: Table, name: str, field: Field, source: DataFile) -> np.ndarray:
    """The column (npz array) `name` as numbers, one row per example, none NaN or Inf.

    Raises:
        DataError: the file lacks it (listing the closest names), or it holds text,
            no rows, or NaN or Inf.
    """
    word, available = "column" if isinstance(table, pd.DataFrame) else "array", column_names(table)
    if name not in available:
        raise _missing(name, available, word, field, source)
    array, what = _values(table, name), f"{word} '{name}' ({field.role})"
    problem = (f"{what} has shape {array.shape}; expected at least one row."
               if array.ndim == 0 or len(array) == 0 else numbers(array, what) or finite(array, what))
    if problem:
        raise source.error(problem)
    return array


def column_names(table: Table) -> list[str]:
    """The columns of a csv or parquet file, or the arrays of an npz file."""
    return [str(c) for c in (table.columns if isinstance(table, pd.DataFrame) else table)]


def _missing(name: str, available: list[str], word: str, field: Field,
             source: DataFile) -> DataError:
    close = difflib.get_close_matches(name, available, n=3)
    guess = f"; closest: {close}" if close else ""
    return DataError(f"{field.config_key}: {word} '{name}' is not in {source.key} ({source.path})"
                     f"{guess}; the file's {word}s: {_shown(available)}.")


def _values(table: Table, name: str) -> np.ndarray:
    """A column as numpy; a nullable pandas column with missing values as float with NaN."""
    values = table[name]
    if isinstance(values, pd.Series) and values.hasnans and (
            pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.asarray(values)


def _shown(names: list[str]) -> str:
    if len(names) <= SHOWN_COLUMNS:
        return str(names)
    return f"{names[:SHOWN_COLUMNS]} ... ({len(names)} in all)"


def _first_line(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0]
