"""`Conv1D`: a 1D convolution over channels-last sequences, as Keras text models write it."""

from __future__ import annotations

import torch
from torch import nn

from plait.blocks.activations import activation as make_activation
from plait.blocks.base import Block, known_size
from plait.blocks.masking import align_left, prefix_mask, restore_steps, step_mask, zero_padding
from plait.graph import TensorSpec


class Conv1D(Block):
    """Keras' `Conv1D` on `(B, T, C)`: `filters` kernels of width `kernel_size` along T.

    Parameters: `kernel_size * in_channels * filters + filters` (256 -> 128 channels with
    width 5 gives 163,968, as in Keras).

    Masked (`mask_zero`, or a `mask`), it convolves the real steps alone, as one sequence
    with zeros beyond its ends, and zeroes its outputs where a window is not all real, so
    the next masked block sees that padding as padding. With `padding="same"` outputs stay
    at their input steps; otherwise the real outputs come first (right padding).

    Args:
        filters: output channels.
        kernel_size: kernel width in steps.
        activation: name of the activation (`"relu"`, ...); None for none.
        padding: `"valid"` (T shrinks by `kernel_size - 1`) or `"same"` (T kept).
        stride: step between kernel positions.
        mask_zero: read a step whose every channel is zero as padding.

    Shape:
        `(B, T, C) [, mask (B, T) bool] -> (B, T', filters)`
    """

    def __init__(self, filters: int, kernel_size: int = 3, *, activation: str | None = None,
                 padding: str = "valid", stride: int = 1, mask_zero: bool = False) -> None:
        super().__init__()
        self.filters = filters
        self.kernel_size = kernel_size
        self.padding = padding
        self.stride = stride
        self.mask_zero = mask_zero
        self.activation = make_activation(activation)

    def build(self, spec: TensorSpec, mask: TensorSpec | None = None) -> None:
        channels = known_size(spec, -1, self, "channel count")
        self.conv = nn.Conv1d(channels, self.filters, self.kernel_size, stride=self.stride,
                              padding=self.padding)
        self.built = True

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        mask = step_mask(x, mask, self.mask_zero, self)  # (B, T) or None
        if mask is None:
            return self.convolve(x)
        aligned = align_left(x, mask)  # real steps first: strides start at the first one
        # Padding reads as zeros, like the convolution's own padding at a sequence's ends.
        x = zero_padding(aligned.x, prefix_mask(aligned.lengths, x.shape[1]))
        y = self.convolve(x)  # (B, T', filters)
        lengths = conv_lengths(aligned.lengths, self.kernel_size, self.stride, self.padding)
        y = zero_padding(y, prefix_mask(lengths, y.shape[1]))
        return restore_steps(y, aligned.order) if self.padding == "same" else y

    def convolve(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x.transpose(1, 2))  # (B, T, C) -> (B, filters, T')
        return self.activation(x.transpose(1, 2))  # (B, T', filters)


def conv_lengths(lengths: torch.Tensor, kernel_size: int, stride: int, padding: str) -> torch.Tensor:
    """Outputs of a convolution whose windows lie within each sample's real steps.

    `"same"` (stride 1 in torch) keeps every step; `"valid"` keeps the windows that end
    by the last real step: none for a sequence shorter than the kernel.

    Shape:
        `(B,) -> (B,)`
    """
    if padding == "same":
        return lengths
    return ((lengths - kernel_size) // stride + 1).clamp(min=0)
