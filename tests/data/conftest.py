"""Fixtures for the data tests: one shared cache for real downloads, fake wheels for the rest."""

import os
from pathlib import Path

import pytest

from plait.data.easy_vqa import EasyVQADataModule


@pytest.fixture(scope="session")
def plait_cache(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`$PLAIT_CACHE` if set, else a folder in pytest's cache that outlives the session."""
    if os.environ.get("PLAIT_CACHE"):
        return Path(os.environ["PLAIT_CACHE"])
    cache = getattr(request.config, "cache", None)  # None under -p no:cacheprovider
    if cache is not None:
        return cache.mkdir("plait-data")
    return tmp_path_factory.mktemp("plait-data")


@pytest.fixture(scope="session")
def vqa(plait_cache: Path) -> EasyVQADataModule:
    """easy-VQA, fetched once per machine, set up once per session."""
    data = EasyVQADataModule(cache_dir=str(plait_cache), batch_size=32)
    data.prepare_data()
    data.setup("fit")
    return data
