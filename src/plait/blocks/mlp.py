"""`MLP`: a stack of hidden `Dense` layers on the last dimension."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from plait.blocks.activations import activation as make_activation
from plait.blocks.base import Block, known_size
from plait.graph import TensorSpec


class MLP(Block):
    """`Linear [+ BatchNorm] + activation [+ Dropout]` per hidden size; no output layer.

    Follow it with a `Dense` head for logits.

    Args:
        hidden: output features of each layer.
        activation: name of the activation after each layer (`"relu"`, `"gelu"`, ...).
        dropout: dropout after each layer.
        batch_norm: batch norm over features after each linear layer, which then has
            no bias.

    Shape:
        `(B, ..., F) -> (B, ..., hidden[-1])`
    """

    def __init__(self, hidden: Sequence[int] = (64, 64), *, activation: str = "relu",
                 dropout: float = 0.0, batch_norm: bool = False) -> None:
        super().__init__()
        self.hidden = tuple(hidden)
        self.activation = activation
        self.dropout = dropout
        self.batch_norm = batch_norm
        make_activation(activation)  # an unknown name fails here, not at build

    def build(self, spec: TensorSpec) -> None:
        size = known_size(spec, -1, self, "last dimension")
        layers: list[nn.Module] = []
        for out in self.hidden:
            layers.append(nn.Linear(size, out, bias=not self.batch_norm))
            if self.batch_norm:
                layers.append(nn.BatchNorm1d(out))
            layers.append(make_activation(self.activation))
            if self.dropout > 0:
                layers.append(nn.Dropout(self.dropout))
            size = out
        self.layers = nn.Sequential(*layers)
        self.built = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2 or not self.batch_norm:
            return self.layers(x)  # (B, F) -> (B, hidden[-1])
        # BatchNorm1d normalises dimension 1: fold the leading dimensions into the batch.
        y = self.layers(x.reshape(-1, x.shape[-1]))  # (N, F) -> (N, hidden[-1])
        return y.reshape(*x.shape[:-1], y.shape[-1])  # (B, ..., hidden[-1])
