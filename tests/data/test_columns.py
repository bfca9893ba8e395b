"""ColumnDataset and the conversions its columns share."""

import pickle

import numpy as np
import pytest
import torch

from plait.data.checks import DataError
from plait.data.columns import (
    ColumnDataset,
    image_columns,
    pad_left,
    scale_uint8,
    shared_rows,
    trimmed,
)

IDS = np.array([[5, 6, 0, 0], [7, 0, 0, 0], [8, 9, 4, 0]], dtype=np.int64)
LENGTHS = np.array([2, 1, 3])


def test_a_batch_mixes_arrays_and_columns_made_per_batch():
    images = np.arange(2 * 3, dtype=np.uint8).reshape(2, 3) * 50
    ds = ColumnDataset({"image": shared_rows(images, np.array([1, 0, 1]), scale=True),
                        "question": trimmed(IDS, LENGTHS), "answer": np.array([0, 1, 2])},
                       image_ids=np.array([1, 0, 1]))
    assert len(ds) == 3 and ds.image_ids.tolist() == [1, 0, 1]  # kept, never batched
    batch = ds.__getitems__([2, 0])
    assert set(batch) == {"image", "question", "answer"}
    assert torch.equal(batch["image"], torch.from_numpy(scale_uint8(images[[1, 1]])))
    assert batch["question"].tolist() == [[8, 9, 4], [5, 6, 0]]  # cut to the batch's longest
    item = ds[1]
    assert item["question"].tolist() == [7] and item["answer"].ndim == 0


def test_length_is_given_where_no_column_is_an_array():
    assert len(ColumnDataset({"q": trimmed(IDS, LENGTHS)}, length=3)) == 3
    with pytest.raises(DataError, match="differ in length"):
        ColumnDataset({"x": np.zeros(3), "y": np.zeros(4)})


def test_trimming_on_the_left_and_to_a_fixed_width():
    left = pad_left(IDS, LENGTHS)
    assert left.tolist() == [[0, 0, 5, 6], [0, 0, 0, 7], [0, 8, 9, 4]]
    assert trimmed(left, LENGTHS, side="left")(np.array([0, 1])).tolist() == [[5, 6], [0, 7]]
    assert trimmed(IDS, LENGTHS, pad_to=4)(np.array([1])).tolist() == [[7, 0, 0, 0]]
    empty = np.zeros((2, 4), dtype=np.int64)
    assert trimmed(empty, np.zeros(2, dtype=np.int64))(np.array([0, 1])).shape == (2, 1)


def test_pixels_scale_to_the_unit_range_and_images_have_two_views():
    pixels = np.array([0, 51, 255], dtype=np.uint8)
    assert scale_uint8(pixels).dtype == np.float32
    assert np.allclose(scale_uint8(pixels), [0.0, 0.2, 1.0])
    images = np.ones((4, 1, 2, 2), dtype=np.float32)
    views = image_columns(images, image_key="grid", pixels_key="flat")
    assert views["grid"].shape == (4, 1, 2, 2) and views["flat"].shape == (4, 4)
    assert set(image_columns(images, image_key=None, pixels_key="flat")) == {"flat"}


def test_a_dataset_pickles_for_loader_workers_and_spawned_processes():
    ds = ColumnDataset({"image": shared_rows(np.eye(3, dtype=np.uint8), np.array([2, 0]), scale=True),
                        "question": trimmed(IDS[:2], LENGTHS[:2], side="right"),
                        "answer": np.array([1, 0])}, image_ids=np.array([2, 0]))
    again = pickle.loads(pickle.dumps(ds))
    assert again.image_ids.tolist() == [2, 0]
    for key, value in ds.__getitems__([1, 0]).items():
        assert torch.equal(again.__getitems__([1, 0])[key], value)
