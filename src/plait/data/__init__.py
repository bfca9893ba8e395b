"""LightningDataModules whose batches are dicts keyed by a graph's input and output names.

Each name loads its module on first use (`plait.data.EasyVQADataModule` imports
`plait.data.easy_vqa` alone), so a run pays for pandas and the table readers only when
its data needs them.
"""

from importlib import import_module
from typing import Any

# Public name -> the module under plait.data that defines it.
_HOMES = {
    "AdultDataModule": "adult",
    "ArrayDataModule": "arrays",
    "BabiDataModule": "babi",
    "CacheError": "fetch",
    "ColumnDataset": "columns",
    "DataError": "checks",
    "DictDataModule": "base",
    "DigitsDataModule": "digits",
    "EasyVQADataModule": "easy_vqa",
    "FileDataModule": "files",
    "MNISTDataModule": "mnist",
    "MNISTPairsDataModule": "mnist_pairs",
    "MovingDigitsDataModule": "moving_digits",
    "MovingShapesDataModule": "moving_shapes",
    "PinnedWheel": "fetch",
    "RottenTomatoesDataModule": "reviews",
    "SAMPLE_WEIGHT": "arrays",
    "SortOfClevrDataModule": "sort_of_clevr",
    "TrumpTweetsDataModule": "tweets",
    "TweetPairsDataModule": "tweets_pairs",
    "collate_dicts": "columns",
    "fetch_wheel": "fetch",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'plait.data' has no attribute {name!r}")
    value = getattr(import_module(f"plait.data.{_HOMES[name]}"), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return [*globals(), *__all__]
