"""Channels-last 1D pooling, as Keras text models write it: `MaxPool1D`, `GlobalMaxPool1D`."""

from __future__ import annotations

import torch
from torch.nn import functional as F

from plait.blocks.base import Block


class MaxPool1D(Block):
    """Keras' `MaxPooling1D` on `(B, T, C)`: the maximum of each window of `pool_size` steps.

    Args:
        pool_size: window width in steps.
        stride: step between windows; `pool_size` if None.

    Shape:
        `(B, T, C) -> (B, floor((T - pool_size) / stride) + 1, C)`
    """

    built = True

    def __init__(self, pool_size: int = 2, *, stride: int | None = None) -> None:
        super().__init__()
        self.pool_size = pool_size
        self.stride = stride or pool_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool1d(x.transpose(1, 2), self.pool_size, self.stride)  # (B, C, T')
        return x.transpose(1, 2)  # (B, T', C)


class GlobalMaxPool1D(Block):
    """Keras' `GlobalMaxPooling1D`: the maximum over all steps of each channel.

    Shape:
        `(B, T, C) -> (B, C)`
    """

    built = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.amax(dim=1)  # (B, T, C) -> (B, C)
