"""easy-VQA's source: the pinned wheel."""

from pathlib import Path

from plait.data.fetch import fetch_wheel, sha256_file
from plait.data.sources.easy_vqa import WHEEL


def test_pinned_wheel_matches_its_checksum(plait_cache: Path):
    assert sha256_file(fetch_wheel(WHEEL, plait_cache)) == WHEEL.sha256

