"""The one Dataset every plait DataModule serves, and the conversions its columns share."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from plait.data.checks import DataError
from plait.data.text import PAD

# A column computed per batch: `(B,)` row numbers -> the batch's `(B, ...)` array. The
# helpers below make them with `partial` of module functions, so a dataset pickles for
# loader workers and spawned processes, as a closure would not.
BatchFn = Callable[[np.ndarray], np.ndarray]


class ColumnDataset(Dataset):
    """Rows of named columns that share their first dimension, served a whole batch at once
    (`__getitems__`, a `dict[str, Tensor]`): one gather per column, no loop over samples.

    A column is an array `(N, ...)` of the batch's dtype, or a function from a batch's row
    numbers to its array, for what is cheaper to build per batch than to keep per row: an
    image many questions share, token ids cut to the batch's longest, video frames. Arrays
    stay numpy until a batch is cut: numpy's gather does not contend for threads with the
    training step the way a small torch op does on a busy CPU.

    Args:
        columns: batch key -> array or `BatchFn`.
        length: the number of rows; needed only when no column is an array.
        **kept: attributes kept beside the columns and never batched: what traces a row
            back to its source (`image_ids`, the `pairs` of rows), for checks and analysis.

    Raises:
        DataError: the arrays differ in length.
    """

    def __init__(self, columns: Mapping[str, np.ndarray | BatchFn], length: int | None = None,
                 **kept: Any) -> None:
        sizes = {name: len(c) for name, c in columns.items() if isinstance(c, np.ndarray)}
        if len(set(sizes.values())) > 1:
            raise DataError(f"columns differ in length: {sizes}")
        self.columns = dict(columns)
        self._len = next(iter(sizes.values()), 0) if length is None else length
        self.__dict__.update(kept)

    def __len__(self) -> int:
        return self._len

    def __getitems__(self, indices: Sequence[int]) -> dict[str, Tensor]:
        idx = np.asarray(indices, dtype=np.int64)
        return {name: torch.from_numpy(c[idx] if isinstance(c, np.ndarray) else c(idx))
                for name, c in self.columns.items()}

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        return {key: value[0] for key, value in self.__getitems__([index]).items()}


def scale_uint8(pixels: np.ndarray) -> np.ndarray:
    """uint8 pixels as float32 in [0, 1]."""
    return np.multiply(pixels, np.float32(1 / 255), dtype=np.float32)


def image_columns(images: np.ndarray, *, image_key: str | None,
                  pixels_key: str | None) -> dict[str, np.ndarray]:
    """Float images `(N, C, H, W)` as a grid under `image_key`, as a flat `(N, C*H*W)` vector
    under `pixels_key`, or both; a key that is None leaves its view out."""
    views = {image_key: images, pixels_key: images.reshape(len(images), -1)}
    return {key: view for key, view in views.items() if key is not None}


def shared_rows(source: np.ndarray | BatchFn, ids: np.ndarray, *, scale: bool = False) -> BatchFn:
    """A column whose row `i` is row `ids[i]` of `source`: an input many rows share (an
    image asked about many times) is kept once.

    Args:
        source: `(M, ...)` the shared inputs, or a `BatchFn` that makes them from their ids.
        ids: `(N,)` the shared input each row reads.
        scale: uint8 pixels to float32 in [0, 1] (`scale_uint8`), per batch.
    """
    return partial(_shared, source, ids, scale)


def _shared(source: np.ndarray | BatchFn, ids: np.ndarray, scale: bool, idx: np.ndarray) -> np.ndarray:
    rows = source[ids[idx]] if isinstance(source, np.ndarray) else source(ids[idx])
    return scale_uint8(rows) if scale else rows


def trimmed(ids: np.ndarray, lengths: np.ndarray, *, pad_to: int | None = None,
            side: str = "right") -> BatchFn:
    """Padded token ids cut, per batch, to its longest sequence (or to `pad_to`).

    Args:
        ids: `(N, L)` int64 token ids, padded on `side`.
        lengths: `(N,)` each sequence's length.
        pad_to: a fixed width; None cuts to the batch's longest (at least 1).
        side: where the padding is: `"right"`, or `"left"` (see `pad_left`).
    """
    return partial(_trimmed, ids, lengths, pad_to, side)


def _trimmed(ids: np.ndarray, lengths: np.ndarray, pad_to: int | None, side: str,
             idx: np.ndarray) -> np.ndarray:
    width = pad_to or max(int(lengths[idx].max()), 1)
    return ids[idx, :width] if side == "right" else ids[idx, -width:]


def pad_left(ids: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Right-padded rows moved so that each ends at the last column, as Keras'
    `pad_sequences` pads: an LSTM that reads the padding too then ends on the last word."""
    out = np.full_like(ids, PAD)
    width = ids.shape[1]
    for row, n in enumerate(lengths):
        out[row, width - n:] = ids[row, :n]
    return out


def pad_sequences(sequences: Sequence[Tensor], *, length: int | None = None,
                  value: int = 0) -> Tensor:
    """Stack 1-D tensors into `(B, T)`, right-padded with `value` to `length` or the longest."""
    length = max(len(s) for s in sequences) if length is None else length
    out = torch.full((len(sequences), length), value, dtype=sequences[0].dtype)
    for row, seq in enumerate(sequences):
        out[row, :len(seq)] = seq[:length]
    return out


def collate_dicts(samples: Mapping[str, Tensor] | Sequence[Mapping[str, Tensor]]
                  ) -> dict[str, Tensor]:
    """Collate per-sample dicts into one batch dict; a ready batch dict passes through.

    Tensors of one shape are stacked; 1-D tensors of different lengths (token ids) are
    right-padded with 0 to the longest.
    """
    if isinstance(samples, Mapping):  # from a dataset's __getitems__: already a batch
        return dict(samples)
    batch = {}
    for key in samples[0]:
        values = [s[key] for s in samples]
        if all(v.shape == values[0].shape for v in values):
            batch[key] = torch.stack(values)
        elif all(v.dim() == 1 for v in values):
            batch[key] = pad_sequences(values)
        else:
            shapes = sorted({tuple(v.shape) for v in values})
            raise DataError(f"cannot collate '{key}': samples have shapes {shapes}")
    return batch
