"""Channels-last 1D max pooling, as Keras text models write it: `MaxPool1D`, and the masked
maximums it and the global poolings (`plait.blocks.global_pool`) share.

Masked (`mask_zero`, or a `mask`; see `plait.blocks.masking`), the real steps alone are
pooled, so where the padding was changes nothing.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from plait.blocks.base import Block
from plait.blocks.masking import align_left, prefix_mask, step_mask, zero_padding


class MaxPool1D(Block):
    """Keras' `MaxPooling1D` on `(B, T, C)`: the maximum of each window of `pool_size` steps.

    Unmasked, a last window that does not fit is dropped, as in Keras. Masked, windows
    start at the first real step and every window that starts at a real step is kept, its
    maximum taken over its real steps: a short sequence still gives one output. The real
    outputs come first (right padding) and padded ones are zero.

    Args:
        pool_size: window width in steps.
        stride: step between windows; `pool_size` if None.
        mask_zero: read a step whose every channel is zero as padding.

    Shape:
        `(B, T, C) [, mask (B, T) bool] -> (B, floor((T - pool_size) / stride) + 1, C)`;
        masked, `(B, ceil(T / stride), C)`.
    """

    built = True

    def __init__(self, pool_size: int = 2, *, stride: int | None = None,
                 mask_zero: bool = False) -> None:
        super().__init__()
        self.pool_size = pool_size
        self.stride = stride or pool_size
        self.mask_zero = mask_zero

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        mask = step_mask(x, mask, self.mask_zero, self)  # (B, T) or None
        if mask is None:
            x = F.max_pool1d(x.transpose(1, 2), self.pool_size, self.stride)  # (B, C, T')
            return x.transpose(1, 2)  # (B, T', C)
        aligned = align_left(x, mask)  # windows start at the first real step
        y, _ = masked_max_pool(aligned.x.transpose(1, 2), aligned.lengths, self.pool_size, self.stride)
        return y.transpose(1, 2)  # (B, T', C)


def masked_max_pool(x: torch.Tensor, lengths: torch.Tensor, pool_size: int,
                    stride: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Max pooling of right-padded, channels-first steps over their real steps only.

    Windows start at 0, stride, 2 * stride, ...; one that starts at a real step is kept,
    so `ceil(length / stride)` outputs per sample; padded outputs are zero.

    Returns:
        The pooled steps and the real outputs per sample.

    Shape:
        `(B, C, T), (B,) -> (B, C, ceil(T / stride)), (B,)`
    """
    steps = x.shape[-1]
    windows = -(-steps // stride)
    fill = float("-inf")  # padding never wins a maximum
    x = x.masked_fill(~prefix_mask(lengths, steps).unsqueeze(1), fill)
    x = F.pad(x, (0, max((windows - 1) * stride + pool_size - steps, 0)), value=fill)
    y = F.max_pool1d(x, pool_size, stride)  # (B, C, windows)
    kept = -(-lengths // stride)  # (B,)
    return zero_padding(y, prefix_mask(kept, windows).unsqueeze(1)), kept


def masked_global_max(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The maximum of each channel over the real steps; zeros for a sample without any.

    Shape:
        `(B, T, C), (B, T) -> (B, C)`
    """
    y = x.masked_fill(~mask.unsqueeze(-1), float("-inf")).amax(dim=1)  # (B, C)
    return zero_padding(y, mask.any(dim=1))
