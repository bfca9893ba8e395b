"""`Conv1D`: a 1D convolution over channels-last sequences, as Keras text models write it."""

from __future__ import annotations

import torch
from torch import nn

from plait.blocks.activations import activation as make_activation
from plait.blocks.base import Block, known_size
from plait.graph import TensorSpec


class Conv1D(Block):
    """Keras' `Conv1D` on `(B, T, C)`: `filters` kernels of width `kernel_size` along T.

    Parameters: `kernel_size * in_channels * filters + filters` (256 -> 128 channels with
    width 5 gives 163,968, as in Keras).

    Args:
        filters: output channels.
        kernel_size: kernel width in steps.
        activation: name of the activation (`"relu"`, ...); None for none.
        padding: `"valid"` (T shrinks by `kernel_size - 1`) or `"same"` (T kept).
        stride: step between kernel positions.

    Shape:
        `(B, T, C) -> (B, T', filters)`
    """

    def __init__(self, filters: int, kernel_size: int = 3, *, activation: str | None = None,
                 padding: str = "valid", stride: int = 1) -> None:
        super().__init__()
        self.filters = filters
        self.kernel_size = kernel_size
        self.padding = padding
        self.stride = stride
        self.activation = make_activation(activation)

    def build(self, spec: TensorSpec) -> None:
        channels = known_size(spec, -1, self, "channel count")
        self.conv = nn.Conv1d(channels, self.filters, self.kernel_size, stride=self.stride,
                              padding=self.padding)
        self.built = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x.transpose(1, 2))  # (B, T, C) -> (B, filters, T')
        return self.activation(x.transpose(1, 2))  # (B, T', filters)
