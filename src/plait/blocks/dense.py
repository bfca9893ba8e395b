"""`Dense`: a linear layer on the last dimension, sized from its input."""

from __future__ import annotations

import torch
from torch import nn

from plait.blocks.activations import activation as make_activation
from plait.blocks.base import Block, known_size
from plait.graph import TensorSpec


class Dense(Block):
    """Keras' `Dense`: `activation(x @ W + b)` on the last dimension; heads use it for logits.

    Parameters: `in_features * units + units` (64 -> 32 gives 2,080, as in Keras).

    Args:
        units: output features.
        activation: name of the activation (`"relu"`, `"tanh"`, ...); None for logits.
        use_bias: whether to add a bias.

    Shape:
        `(B, ..., F) -> (B, ..., units)`
    """

    def __init__(self, units: int, *, activation: str | None = None, use_bias: bool = True) -> None:
        super().__init__()
        self.units = units
        self.use_bias = use_bias
        self.activation = make_activation(activation)

    def build(self, spec: TensorSpec) -> None:
        self.linear = nn.Linear(known_size(spec, -1, self, "last dimension"), self.units,
                                bias=self.use_bias)
        self.built = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(self.linear(x))  # (B, ..., F) -> (B, ..., units)
