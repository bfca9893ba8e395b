"""scikit-learn's 8x8 digits: the small real data set of the fast tests."""

import numpy as np
import pytest
import torch

from plait.data import DataError, DigitsDataModule


def test_image_batches():
    data = DigitsDataModule(batch_size=16)
    data.setup()
    assert data.provides == {"image", "digit"}
    batch = next(iter(data.train_dataloader()))
    assert set(batch) == data.provides
    assert batch["image"].dtype == torch.float32 and batch["image"].shape == (16, 1, 8, 8)
    assert batch["image"].min() >= 0 and batch["image"].max() <= 1
    assert batch["digit"].dtype == torch.int64 and batch["digit"].shape == (16,)


def test_pixels_and_image_together_with_renamed_target():
    data = DigitsDataModule(image_key="grid", pixels_key="pixels", target_key="label")
    data.setup()
    batch = next(iter(data.test_dataloader()))
    assert set(batch) == {"grid", "pixels", "label"} == data.provides
    assert batch["pixels"].shape == (64, 64)
    assert torch.equal(batch["pixels"], batch["grid"].flatten(1))


def test_splits_are_seeded_and_limited():
    a, b, c = (DigitsDataModule(seed=s) for s in (0, 0, 1))
    for data in (a, b, c):
        data.setup()
    sizes = {k: len(v) for k, v in a.splits.items()}
    assert sizes == {"train": 1258, "val": 180, "test": 359}
    first = [next(iter(d.train_dataloader()))["digit"] for d in (a, b, c)]
    assert torch.equal(first[0], first[1]) and not torch.equal(first[0], first[2])
    limited = DigitsDataModule(limit=40)
    limited.setup()
    assert {len(v) for v in limited.splits.values()} == {40}
    assert np.isin(limited.splits["val"].indices, np.arange(180)).all()


def test_errors_name_the_key():
    with pytest.raises(DataError, match=r"data\.image_key or data\.pixels_key"):
        DigitsDataModule(image_key=None)
    with pytest.raises(DataError, match=r"10 classes, but data\.num_classes is 5"):
        DigitsDataModule(num_classes=5).setup()
    with pytest.raises(DataError, match=r"data\.batch_size must be at least 1"):
        DigitsDataModule(batch_size=0)
