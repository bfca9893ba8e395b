"""MNIST 5k pairs for "same digit?": balanced, drawn inside one split, deterministic by seed;
training pairs fixed, or drawn afresh every epoch from (seed, epoch)."""

import hashlib
from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from torch.utils.data import DistributedSampler

from plait.data import DataError, MNISTDataModule, MNISTPairsDataModule
from plait.data.base import ResumedSampler
from plait.data.mnist_pairs import EpochRows, FreshPairs, draw_pairs
from plait.data.sources.mnist import load_mnist

CONF = Path(__file__).resolve().parents[2] / "conf"


@pytest.fixture(scope="module")
def pairs(plait_cache: Path) -> MNISTPairsDataModule:
    data = MNISTPairsDataModule(cache_dir=str(plait_cache), batch_size=32)
    data.prepare_data()
    data.setup("fit")
    return data


def _global_ids(data: MNISTPairsDataModule, split: str) -> tuple[np.ndarray, np.ndarray]:
    """The row numbers, in the package's file, of each pair's two images."""
    ids, dataset = data.image_ids[split], data.splits[split]
    return ids[dataset.a], ids[dataset.b]


def test_batches_are_keyed_typed_and_shaped(pairs: MNISTPairsDataModule):
    assert pairs.provides == {"digit_a", "digit_b", "same"}
    batch = next(iter(pairs.train_dataloader()))
    assert batch["digit_a"].shape == batch["digit_b"].shape == (32, 1, 28, 28)
    assert batch["digit_a"].dtype == torch.float32 and batch["digit_a"].max() <= 1
    assert batch["same"].dtype == torch.float32 and batch["same"].shape == (32,)


def test_every_split_is_exactly_balanced(pairs: MNISTPairsDataModule):
    assert [len(pairs.splits[s]) for s in ("train", "val", "test")] == [7000, 1000, 2000]
    for split in ("train", "val", "test"):
        assert pairs.splits[split].same.mean() == 0.5


def test_targets_say_whether_the_digits_match(plait_cache: Path, pairs: MNISTPairsDataModule):
    _, labels = load_mnist(plait_cache, "test")
    for split in ("train", "val", "test"):
        a, b = _global_ids(pairs, split)
        assert np.array_equal(labels[a] == labels[b], pairs.splits[split].same == 1)
        assert (a != b).all()  # a same pair is two different images of one digit


def test_pairs_never_mix_splits(pairs: MNISTPairsDataModule):
    for split in ("train", "val", "test"):
        a, b = _global_ids(pairs, split)
        own = set(pairs.image_ids[split].tolist())
        assert set(a.tolist()) <= own and set(b.tolist()) <= own
    assert not set(pairs.image_ids["train"].tolist()) & set(pairs.image_ids["test"].tolist())


def test_different_pairs_spread_over_all_other_digits(plait_cache: Path,
                                                      pairs: MNISTPairsDataModule):
    _, labels = load_mnist(plait_cache, "test")
    a, b = _global_ids(pairs, "train")
    different = pairs.splits["train"].same == 0
    seen = np.zeros((10, 10), dtype=int)
    np.add.at(seen, (labels[a[different]], labels[b[different]]), 1)
    assert (np.diag(seen) == 0).all()
    assert (seen + np.eye(10, dtype=int) > 0).all()  # every ordered pair of digits occurs


def test_pairs_are_deterministic_by_seed(plait_cache: Path, pairs: MNISTPairsDataModule):
    again = MNISTPairsDataModule(cache_dir=str(plait_cache), seed=pairs.seed)
    other = MNISTPairsDataModule(cache_dir=str(plait_cache), seed=1)
    again.setup()
    other.setup()
    assert np.array_equal(_global_ids(again, "val")[1], _global_ids(pairs, "val")[1])
    assert not np.array_equal(_global_ids(other, "val")[1], _global_ids(pairs, "val")[1])


def test_limit_and_pairs_per_image(plait_cache: Path):
    data = MNISTPairsDataModule(cache_dir=str(plait_cache), pairs_per_image=0.5, limit=100)
    data.setup()
    assert len(data.splits["train"].dataset) == 1750
    assert [len(data.splits[s]) for s in ("train", "val", "test")] == [100, 100, 100]


def test_draw_pairs_refuses_a_class_with_one_image():
    labels = np.array([0, 0, 1, 2, 2])
    with pytest.raises(DataError, match=r"2 classes with 2 images each.*1: 1"):
        draw_pairs(labels, 10, np.random.default_rng(0), owner="x")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"pairs_per_image": 0}, r"data\.pairs_per_image must be above 0, got 0"),
    ({"right_key": "digit_a"}, r"batch keys must differ.*data\.right_key='digit_a'"),
])
def test_bad_settings_name_the_key(plait_cache: Path, kwargs, message):
    with pytest.raises(DataError, match=message):
        MNISTPairsDataModule(cache_dir=str(plait_cache), **kwargs)


# sha256 of the pairs (a, b, same) each split had before training pairs could be drawn per
# epoch, for seed 0 and 42: the option off, and val and test in either mode, must keep them.
BEFORE = {0: {"train": "d15c39b4352f5c1a", "val": "3ceafad7b60903a6", "test": "db565407d698b888"},
          42: {"train": "2711018f42687c85", "val": "f9eb0ca4a651d4f8", "test": "0c883281cb3e02b4"}}


def _digest(a: np.ndarray, b: np.ndarray, same: np.ndarray) -> str:
    return hashlib.sha256(np.concatenate([a, b, same.astype(np.int64)]).tobytes()).hexdigest()[:16]


def _module(cache: Path, **kwargs) -> MNISTPairsDataModule:
    data = MNISTPairsDataModule(cache_dir=str(cache), **kwargs)
    data.prepare_data()
    data.setup()
    return data


@pytest.mark.parametrize("seed", [0, 42])
def test_fixed_pairs_and_eval_pairs_are_those_drawn_before(plait_cache: Path, seed: int):
    fixed = _module(plait_cache, seed=seed)
    fresh = _module(plait_cache, seed=seed, train_pairs="per_epoch", train_pairs_per_image=4)
    more = _module(plait_cache, seed=seed, train_pairs_per_image=4)
    for split in ("train", "val", "test"):
        s = fixed.splits[split]
        assert _digest(s.a, s.b, s.same) == BEFORE[seed][split]
    for data in (fresh, more):
        for split in ("val", "test"):
            s = data.splits[split]
            assert _digest(s.a, s.b, s.same) == BEFORE[seed][split]
    assert len(more.splits["train"]) == len(fresh.splits["train"]) == 14000


def test_fresh_pairs_change_every_epoch_and_depend_on_seed_and_epoch_alone(plait_cache: Path):
    data = _module(plait_cache, train_pairs="per_epoch")
    train = data.splits["train"]
    assert isinstance(train, FreshPairs) and len(train) == 7000  # as many as a fixed draw
    epochs = [train.pairs(e) for e in range(3)]
    again = _module(plait_cache, train_pairs="per_epoch").splits["train"].pairs(1)
    other_seed = _module(plait_cache, seed=1, train_pairs="per_epoch").splits["train"].pairs(1)
    assert all(np.array_equal(x, y) for x, y in zip(again, epochs[1]))
    assert not np.array_equal(other_seed.b, epochs[1].b)
    _, labels = load_mnist(plait_cache, "test")
    ids = data.image_ids["train"]
    for drawn in epochs:
        assert drawn.same.mean() == 0.5
        assert np.array_equal(labels[ids[drawn.a]] == labels[ids[drawn.b]], drawn.same == 1)
        assert (drawn.a != drawn.b).all()
    for x, y in zip(epochs, epochs[1:]):
        assert (x.a != y.a).mean() > 0.99  # fresh pairs, not the same pairs reordered
    assert not np.array_equal(_module(plait_cache).splits["train"].a, epochs[0].a)  # nor the fixed


def test_a_row_number_carries_its_epoch(plait_cache: Path):
    train = _module(plait_cache, train_pairs="per_epoch").splits["train"]
    rows = [5, 7000 + 5, 2 * 7000 + 5]
    batch = train.__getitems__(rows)  # one batch across three epochs
    for i, epoch in enumerate(range(3)):
        drawn = train.pairs(epoch)
        assert torch.equal(batch["digit_a"][i], torch.from_numpy(train.digits[drawn.a[5]]))
        assert batch["same"][i] == drawn.same[5]
    assert batch["digit_a"].shape == (3, 1, 28, 28)


def _epoch_rows(loader) -> list[int]:
    return list(loader.batch_sampler.sampler)


@pytest.mark.parametrize("num_workers", [0, 2])
def test_the_loader_serves_each_epochs_own_pairs(plait_cache: Path, num_workers: int):
    data = MNISTPairsDataModule(cache_dir=str(plait_cache), train_pairs="per_epoch", batch_size=1000,
                                num_workers=num_workers)
    data.prepare_data()
    data.setup()
    loader, train = data.train_dataloader(), data.splits["train"]
    assert len(loader) == 7
    for epoch in (0, 1, 0):
        loader.sampler.set_epoch(epoch)  # as Lightning does, every epoch
        loader.batch_sampler.sampler.set_epoch(epoch)
        same = torch.cat([batch["same"] for batch in loader])
        rows = np.array(_epoch_rows(loader)) - epoch * 7000
        assert np.array_equal(same.numpy(), train.pairs(epoch).same[rows])
        assert sorted(rows.tolist()) == list(range(7000))  # every pair of the epoch once


def test_a_resumed_sampler_serves_the_pairs_of_its_epoch(plait_cache: Path):
    train = _module(plait_cache, train_pairs="per_epoch").splits["train"]
    whole = EpochRows(DistributedSampler(train, num_replicas=1, rank=0, seed=0), len(train))
    whole.set_epoch(3)
    resumed = EpochRows(ResumedSampler(DistributedSampler(train, num_replicas=1, rank=0, seed=0),
                                       epoch=3, skip=640), len(train))
    assert list(resumed) == list(whole)[640:]  # Lightning had not set the epoch: the sampler did
    resumed.set_epoch(4)
    whole.set_epoch(4)
    assert list(resumed) == list(whole) and min(whole) >= 4 * 7000


def test_limit_cuts_each_epochs_draw(plait_cache: Path):
    data = _module(plait_cache, train_pairs="per_epoch", limit=65)
    assert [len(data.splits[s]) for s in ("train", "val", "test")] == [64, 65, 65]
    assert len(_module(plait_cache, train_pairs="per_epoch", limit=1).splits["train"]) == 2


def test_bad_train_pairs_names_the_key(plait_cache: Path):
    with pytest.raises(DataError, match=r"data\.train_pairs must be one of \['fixed', 'per_epoch'\]"):
        MNISTPairsDataModule(cache_dir=str(plait_cache), train_pairs="fresh")
    with pytest.raises(DataError, match=r"data\.train_pairs_per_image must be above 0, got 0"):
        MNISTPairsDataModule(cache_dir=str(plait_cache), train_pairs_per_image=0)


class PairRecorder(L.LightningModule):
    """A tiny same/different model that records, per epoch, a fingerprint of every pair it
    trains on: the pixel sums of its two digits."""

    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Linear(2 * 784, 1)
        self.seen: dict[int, list[tuple[float, float]]] = {}

    def training_step(self, batch, batch_idx):
        a, b = batch["digit_a"].flatten(1), batch["digit_b"].flatten(1)
        pairs = zip(a.sum(1).tolist(), b.sum(1).tolist())
        self.seen.setdefault(self.current_epoch, []).extend(pairs)
        logit = self.net(torch.cat([a, b], 1)).squeeze(1)
        return torch.nn.functional.binary_cross_entropy_with_logits(logit, batch["same"])

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


def _fit(cache: Path, root: Path, *, train_pairs: str, epochs: int, num_workers: int = 0,
         ckpt_path: Path | None = None, callbacks=()) -> PairRecorder:
    data = MNISTPairsDataModule(cache_dir=str(cache), train_pairs=train_pairs, limit=64,
                                batch_size=16, num_workers=num_workers)
    model = PairRecorder()
    trainer = L.Trainer(max_epochs=epochs, accelerator="cpu", logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, limit_val_batches=0,
                        default_root_dir=root, callbacks=list(callbacks))
    trainer.fit(model, datamodule=data, ckpt_path=ckpt_path)
    return model


@pytest.mark.parametrize("num_workers", [0, 2])
def test_a_fit_trains_on_fresh_pairs_each_epoch(plait_cache: Path, tmp_path: Path, num_workers: int):
    fresh = _fit(plait_cache, tmp_path, train_pairs="per_epoch", epochs=2, num_workers=num_workers)
    fixed = _fit(plait_cache, tmp_path, train_pairs="fixed", epochs=2, num_workers=num_workers)
    assert len(fresh.seen[0]) == len(fresh.seen[1]) == 64
    assert not set(fresh.seen[0]) & set(fresh.seen[1])  # no pair of epoch 0 again in epoch 1
    assert sorted(fixed.seen[0]) == sorted(fixed.seen[1])  # the same pairs, reshuffled
    assert fixed.seen[0] != fixed.seen[1]


class SaveAt(L.Callback):
    """Saves the fit's state at the end of epoch `epoch`, as `last.ckpt` is, or before its
    batch `batch`, as an interrupted run's is (between two batches)."""

    def __init__(self, path: Path, epoch: int, batch: int | None = None) -> None:
        self.path, self.epoch, self.batch = path, epoch, batch

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if self.batch is not None and (trainer.current_epoch, batch_idx) == (self.epoch, self.batch):
            trainer.save_checkpoint(self.path)

    def on_train_epoch_end(self, trainer, pl_module):
        if self.batch is None and trainer.current_epoch == self.epoch:
            trainer.save_checkpoint(self.path)


@pytest.mark.parametrize("stop", ["epoch_end", "mid_epoch"])
def test_a_resumed_fit_trains_on_the_pairs_of_an_uninterrupted_one(plait_cache: Path,
                                                                   tmp_path: Path, stop: str):
    ckpt = tmp_path / "stopped.ckpt"
    at = SaveAt(ckpt, 0) if stop == "epoch_end" else SaveAt(ckpt, 1, batch=2)
    whole = _fit(plait_cache, tmp_path, train_pairs="per_epoch", epochs=3, callbacks=[at])
    resumed = _fit(plait_cache, tmp_path, train_pairs="per_epoch", epochs=3, ckpt_path=ckpt)
    assert resumed.seen[2] == whole.seen[2]
    if stop == "epoch_end":
        assert resumed.seen[1] == whole.seen[1] and 0 not in resumed.seen
    else:  # the rest of epoch 1, in the same order
        assert resumed.seen[1] == whole.seen[1][32:]  # after its first two batches of 16


def _experiment(cache: Path, *overrides: str):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose("train", overrides=["experiment=siamese_digits", f"paths.data_dir={cache}",
                                           *overrides])


def test_siamese_digits_trains_on_fresh_pairs_and_tests_on_the_references_pairs(plait_cache: Path):
    """experiments/siamese_digits: 28,000 fresh pairs an epoch, and the 1,000 val and 2,000
    test pairs that the 0.9645 of two digit-classifier predictions was measured on."""
    cfg = _experiment(plait_cache)
    assert (cfg.trainer.max_epochs, cfg.data.batch_size, cfg.seed) == (20, 32, 42)
    data = instantiate(cfg.data)
    assert (data.train_pairs, data.train_pairs_per_image) == ("per_epoch", 8)
    data.prepare_data()
    data.setup()
    assert [len(data.splits[s]) for s in ("train", "val", "test")] == [28000, 1000, 2000]
    for split in ("val", "test"):
        s = data.splits[split]
        assert _digest(s.a, s.b, s.same) == BEFORE[42][split]


def test_the_readmes_reference_reads_the_pairs_images_from_the_digit_test_split(plait_cache: Path):
    """The README compares two `digits_inception` predictions per test pair: the pair's rows
    index the test split of MNISTDataModule with the same seed; true labels score 1.0."""
    pairs = MNISTPairsDataModule(cache_dir=str(plait_cache), seed=42)
    digits = MNISTDataModule(cache_dir=str(plait_cache), seed=42)
    for data in (pairs, digits):
        data.prepare_data()
        data.setup()
    test, labels = pairs.splits["test"], digits.splits["test"].columns["digit"]
    assert np.mean((labels[test.a] == labels[test.b]) == test.same) == 1.0
    assert np.mean(test.same == 0) == 0.5  # always "different"
