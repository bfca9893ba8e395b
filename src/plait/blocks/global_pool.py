"""Keras' global 1D poolings, `GlobalAveragePool1D` and `GlobalMaxPool1D`: a sequence's
steps reduced to one vector, over its real steps alone when masked (`mask_zero`, or a
`mask`; see `plait.blocks.masking`), so padding neither dilutes nor moves the result."""

from __future__ import annotations

import torch

from plait.blocks.base import Block
from plait.blocks.masking import step_mask, zero_padding
from plait.blocks.pooling import masked_global_max


class GlobalPool1D(Block):
    """A reduction over the steps of `(B, T, C)`; subclasses say which.

    Args:
        mask_zero: read a step whose every channel is zero as padding, as after an
            `Embedding` (whose padding vector is zero) or another masked block.

    Shape:
        `(B, T, C) [, mask (B, T) bool] -> (B, C)`
    """

    built = True

    def __init__(self, *, mask_zero: bool = False) -> None:
        super().__init__()
        self.mask_zero = mask_zero

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        mask = step_mask(x, mask, self.mask_zero, self)  # (B, T) or None
        return self.reduce(x) if mask is None else self.reduce_real(x, mask)  # (B, C)

    def reduce(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def reduce_real(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class GlobalAveragePool1D(GlobalPool1D):
    """Keras' `GlobalAveragePooling1D`: the mean over all steps of each channel. Masked,
    the mean over the real steps alone; a sample without real steps gives zeros.

    Args:
        mask_zero: read a step whose every channel is zero as padding.

    Shape:
        `(B, T, C) [, mask (B, T) bool] -> (B, C)`
    """

    def reduce(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=1)

    def reduce_real(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        total = zero_padding(x, mask).sum(dim=1)  # (B, C)
        count = mask.sum(dim=1, keepdim=True).clamp(min=1).to(x.dtype)  # (B, 1)
        return total / count


class GlobalMaxPool1D(GlobalPool1D):
    """Keras' `GlobalMaxPooling1D`: the maximum over all steps of each channel. Masked,
    the maximum over the real steps; a sample with none gives zeros.

    Args:
        mask_zero: read a step whose every channel is zero as padding.

    Shape:
        `(B, T, C) [, mask (B, T) bool] -> (B, C)`
    """

    def reduce(self, x: torch.Tensor) -> torch.Tensor:
        return x.amax(dim=1)

    def reduce_real(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return masked_global_max(x, mask)
