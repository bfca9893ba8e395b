"""LightningDataModules whose batches are dicts keyed by a graph's input and output names."""

from plait.data.adult import AdultDataModule
from plait.data.arrays import SAMPLE_WEIGHT, ArrayDataModule
from plait.data.babi import BabiDataModule
from plait.data.base import DictDataModule
from plait.data.checks import DataError
from plait.data.columns import ColumnDataset, collate_dicts
from plait.data.digits import DigitsDataModule
from plait.data.easy_vqa import EasyVQADataModule
from plait.data.fetch import CacheError, PinnedWheel, fetch_wheel
from plait.data.files import FileDataModule
from plait.data.mnist import MNISTDataModule
from plait.data.mnist_pairs import MNISTPairsDataModule
from plait.data.moving_digits import MovingDigitsDataModule
from plait.data.moving_shapes import MovingShapesDataModule
from plait.data.reviews import RottenTomatoesDataModule
from plait.data.sort_of_clevr import SortOfClevrDataModule
from plait.data.tweets import TrumpTweetsDataModule
from plait.data.tweets_pairs import TweetPairsDataModule

__all__ = [
    "AdultDataModule",
    "ArrayDataModule",
    "BabiDataModule",
    "CacheError",
    "ColumnDataset",
    "DataError",
    "DictDataModule",
    "DigitsDataModule",
    "EasyVQADataModule",
    "FileDataModule",
    "MNISTDataModule",
    "MNISTPairsDataModule",
    "MovingDigitsDataModule",
    "MovingShapesDataModule",
    "PinnedWheel",
    "RottenTomatoesDataModule",
    "SAMPLE_WEIGHT",
    "SortOfClevrDataModule",
    "TrumpTweetsDataModule",
    "TweetPairsDataModule",
    "collate_dicts",
    "fetch_wheel",
]
