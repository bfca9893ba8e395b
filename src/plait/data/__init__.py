"""LightningDataModules whose batches are dicts keyed by a graph's input and output names."""

from plait.data.base import ArrayDictDataset, DataError, DictDataModule, collate_dicts
from plait.data.digits import DigitsDataModule
from plait.data.easy_vqa import EasyVQADataModule
from plait.data.fetch import CacheError, PinnedWheel, fetch_wheel
from plait.data.files import FileDataModule

__all__ = [
    "ArrayDictDataset",
    "CacheError",
    "DataError",
    "DictDataModule",
    "DigitsDataModule",
    "EasyVQADataModule",
    "FileDataModule",
    "PinnedWheel",
    "collate_dicts",
    "fetch_wheel",
]
