"""`InceptionBlock`: the Keras guide's inception module, three towers side by side."""

from __future__ import annotations

import torch
from torch import nn

from plait.blocks.base import Block, known_size
from plait.graph import TensorSpec


def _conv(in_channels: int, out_channels: int, kernel_size: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, kernel_size, padding="same"),
                         nn.ReLU())


class InceptionBlock(Block):
    """Towers 1x1 -> 3x3, 1x1 -> 5x5 and 3x3 max pool -> 1x1, joined on channels.

    Every convolution has 'same' padding and a ReLU, so H and W are kept, as in the guide:
    `concatenate([tower_1, tower_2, tower_3], axis=channels)`.

    Args:
        filters: output channels of each tower's last convolution.
        reduce_filters: output channels of the 1x1 convolutions before the 3x3 and the
            5x5; `filters` if None.

    Shape:
        `(B, C, H, W) -> (B, 3 * filters, H, W)`
    """

    def __init__(self, filters: int = 64, *, reduce_filters: int | None = None) -> None:
        super().__init__()
        self.filters = filters
        self.reduce_filters = reduce_filters or filters

    def build(self, spec: TensorSpec) -> None:
        if len(spec.shape) != 3:
            raise ValueError(f"InceptionBlock expects images (B, C, H, W), channels first; "
                             f"received {spec}")
        channels = known_size(spec, 0, self, "channel count")
        reduced = self.reduce_filters
        self.tower_1 = nn.Sequential(_conv(channels, reduced, 1), _conv(reduced, self.filters, 3))
        self.tower_2 = nn.Sequential(_conv(channels, reduced, 1), _conv(reduced, self.filters, 5))
        self.tower_3 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1),
                                     _conv(channels, self.filters, 1))
        self.built = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        towers = [self.tower_1(x), self.tower_2(x), self.tower_3(x)]  # 3 x (B, filters, H, W)
        return torch.cat(towers, dim=1)  # (B, 3 * filters, H, W)
