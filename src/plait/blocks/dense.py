"""`Dense`: a linear layer on the last dimension, sized from its input."""

from __future__ import annotations

import torch
import torch.nn.functional as F
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
        self._logits = isinstance(self.activation, nn.Identity)

    def build(self, spec: TensorSpec) -> None:
        self.linear = nn.Linear(known_size(spec, -1, self, "last dimension"), self.units,
                                bias=self.use_bias)
        self.built = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # The inner Linear holds the weights; F.linear spares a module call on the hot path.
        y = F.linear(x, self.linear.weight, self.linear.bias)  # (B, ..., F) -> (B, ..., units)
        return y if self._logits else self.activation(y)
