"""`Dense`: a linear layer on the last dimension, sized from its input."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from plait.blocks.activations import activation_function
from plait.blocks.base import Block, known_size
from plait.graph import TensorSpec


class Dense(Block):
    """Keras' `Dense`: `activation(x @ W + b)` on the last dimension; heads use it for logits.

    Parameters: `in_features * units + units` (64 -> 32 gives 2,080, as in Keras), held as
    `weight` `(units, in_features)` and `bias` `(units,)`, initialised as `nn.Linear`'s.

    Args:
        units: output features.
        activation: name of the activation (`"relu"`, `"tanh"`, ...), applied as a function;
            or an `nn.Module` (a `PReLU`, say), called as a submodule; None for logits.
        use_bias: whether to add a bias.
        bias_init: the bias's starting value in every unit; None keeps `nn.Linear`'s small
            random one. A regression head whose target sits far from zero (a mean of 9,
            say) starts at the target's training mean, so the layers under it need not
            learn the offset.

    Shape:
        `(B, ..., F) -> (B, ..., units)`
    """

    def __init__(self, units: int, *, activation: str | nn.Module | None = None,
                 use_bias: bool = True, bias_init: float | None = None) -> None:
        super().__init__()
        if bias_init is not None and not use_bias:
            raise ValueError(f"Dense: bias_init is {bias_init}, but use_bias is False; "
                             "set use_bias=True or leave bias_init None.")
        self.units = units
        self.use_bias = use_bias
        self.bias_init = bias_init
        self.activation = activation  # a module is registered as a submodule
        self._function = None if isinstance(activation, nn.Module) else activation_function(activation)

    def build(self, spec: TensorSpec) -> None:
        linear = nn.Linear(known_size(spec, -1, self, "last dimension"), self.units, bias=self.use_bias)
        if self.bias_init is not None:
            nn.init.constant_(linear.bias, self.bias_init)
        self.weight, self.bias = linear.weight, linear.bias
        self.built = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.linear(x, self.weight, self.bias)  # (B, ..., F) -> (B, ..., units)
        if self._function is not None:
            return self._function(y)
        return self.activation(y) if isinstance(self.activation, nn.Module) else y

    def extra_repr(self) -> str:
        named = isinstance(self.activation, str)
        return f"units={self.units}" + (f", activation={self.activation!r}" if named else "")
