"""`GlobalAveragePool1D`: the mean over a sequence's steps, its real steps when masked."""

from __future__ import annotations

import torch

from plait.blocks.base import Block
from plait.blocks.masking import step_mask, zero_padding


class GlobalAveragePool1D(Block):
    """Keras' `GlobalAveragePooling1D`: the mean over all steps of each channel.

    Masked (`mask_zero`, or a `mask`), the mean over the real steps alone, so padding
    neither dilutes it nor moves it; a sample without real steps gives zeros.

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
        if mask is None:
            return x.mean(dim=1)  # (B, T, C) -> (B, C)
        total = zero_padding(x, mask).sum(dim=1)  # (B, C)
        count = mask.sum(dim=1, keepdim=True).clamp(min=1).to(x.dtype)  # (B, 1)
        return total / count  # (B, C)
