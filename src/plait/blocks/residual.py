"""`ResidualBlock`: `y = x + f(x)`, with f a few convolutions that keep the shape."""

from __future__ import annotations

import torch
from torch import nn

from plait.blocks.activations import activation as make_activation
from plait.blocks.base import Block, known_size
from plait.graph import TensorSpec


class ResidualBlock(Block):
    """The Keras guide's residual connection: `x + f(x)`, f keeping channels, H and W.

    With the defaults f is one 3x3 'same' convolution, `Conv2D(C, (3, 3), padding='same')`
    then `add([x, y])` in the guide. With `convs=2, batch_norm=True, activation="relu"` it
    is ResNet's basic block: conv-BN-ReLU-conv-BN, add, ReLU.

    Args:
        convs: convolutions in f; a ReLU goes between consecutive ones.
        kernel_size: odd kernel size of every convolution.
        batch_norm: batch norm after each convolution, which then has no bias.
        activation: applied to the sum (`"relu"` in ResNet); None for none.

    Shape:
        `(B, C, H, W) -> (B, C, H, W)`
    """

    def __init__(self, convs: int = 1, *, kernel_size: int = 3, batch_norm: bool = False,
                 activation: str | None = None) -> None:
        super().__init__()
        self.convs = convs
        self.kernel_size = kernel_size
        self.batch_norm = batch_norm
        self.activation = make_activation(activation)

    def build(self, spec: TensorSpec) -> None:
        if len(spec.shape) != 3:
            raise ValueError(f"ResidualBlock expects images (B, C, H, W), channels first; "
                             f"received {spec}")
        channels = known_size(spec, 0, self, "channel count")
        layers: list[nn.Module] = []
        for i in range(self.convs):
            if i > 0:
                layers.append(nn.ReLU())
            layers.append(nn.Conv2d(channels, channels, self.kernel_size, padding="same",
                                    bias=not self.batch_norm))
            if self.batch_norm:
                layers.append(nn.BatchNorm2d(channels))
        self.residual = nn.Sequential(*layers)
        self.built = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(x + self.residual(x))  # (B, C, H, W)
