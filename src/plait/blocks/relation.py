"""`RelationNetwork`: a fusion that reasons over every pair of objects (Santoro et al. 2017)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from plait.blocks.activations import activation as make_activation
from plait.blocks.base import Block, known_size
from plait.blocks.mlp import MLP
from plait.graph import TensorSpec


class RelationNetwork(Block):
    """`f(sum over pairs (i, j) of g(o_i, o_j, q))`: objects and a question to one vector.

    The objects are the cells of a feature map, each with its (x, y) position in [-1, 1]
    appended, or a given set of object vectors. `g` (an MLP) reads every ordered pair of
    objects, itself included, with the question; the relations are summed, so the result
    does not depend on the order of the objects; `f` (an MLP) reads the sum. Follow it with
    a `Dense` head for logits.

    `g`'s first layer on `[o_i, o_j, q]` equals `A o_i + B o_j + C q`, so it is applied to
    each object once and broadcast over the pairs, which saves a factor of N in that layer.

    Args:
        g_hidden: output sizes of `g`'s layers; the last is the size of one relation.
        f_hidden: output sizes of `f`'s layers; the last is the output size.
        coordinates: append each cell's coordinates to its features (feature maps only).
        activation: the activation after every layer of `g` and `f`.
        dropout: dropout after each layer of `f`.
        aggregate: `sum` the relations (the paper) or take their `mean`, which keeps `f`'s
            input at the scale of one relation however many pairs there are.

    Shape:
        `(B, C, H, W), (B, Q) -> (B, f_hidden[-1])` with `N = H * W` objects, or
        `(B, N, C), (B, Q) -> (B, f_hidden[-1])` for a set of objects.
    """

    def __init__(self, g_hidden: Sequence[int] = (256, 256, 256, 256),
                 f_hidden: Sequence[int] = (256, 256), *, coordinates: bool = True,
                 activation: str = "relu", dropout: float = 0.0, aggregate: str = "sum") -> None:
        super().__init__()
        if aggregate not in ("sum", "mean"):
            raise ValueError(f"RelationNetwork aggregate must be 'sum' or 'mean'; received {aggregate!r}")
        if not g_hidden or not f_hidden:
            raise ValueError(f"RelationNetwork needs at least one layer in g and in f; received "
                             f"g_hidden={list(g_hidden)}, f_hidden={list(f_hidden)}")
        self.g_hidden = tuple(g_hidden)
        self.f_hidden = tuple(f_hidden)
        self.coordinates = coordinates
        self.activation = activation
        self.dropout = dropout
        self.aggregate = aggregate
        make_activation(activation)  # an unknown name fails here, not at build

    def build(self, objects: TensorSpec, question: TensorSpec) -> None:
        if len(objects.shape) not in (2, 3):
            raise ValueError(f"RelationNetwork expects objects as a feature map (B, C, H, W) or a "
                             f"set (B, N, C); received {objects}")
        if len(question.shape) != 1:
            raise ValueError(f"RelationNetwork expects a question vector (B, Q); received {question}")
        is_map = len(objects.shape) == 3
        channels = known_size(objects, 0 if is_map else -1, self, "object feature size")
        width = known_size(question, 0, self, "question size")
        if is_map and self.coordinates:
            height = known_size(objects, 1, self, "feature map height")
            columns = known_size(objects, 2, self, "feature map width")
            self.register_buffer("grid", _grid(height, columns), persistent=False)  # (H*W, 2)
            channels += 2
        else:
            self.register_buffer("grid", None, persistent=False)
        hidden = self.g_hidden[0]
        self.g_left = nn.Linear(channels, hidden)  # o_i's part of g's first layer, with its bias
        self.g_right = nn.Linear(channels, hidden, bias=False)  # o_j's part
        self.g_question = nn.Linear(width, hidden, bias=False)  # q's part
        self.g_first = make_activation(self.activation)
        self.g_rest = _mlp(self.g_hidden[1:], hidden, self.activation, 0.0)
        self.f = _mlp(self.f_hidden, self.g_hidden[-1], self.activation, self.dropout)
        self.built = True

    def forward(self, objects: torch.Tensor, question: torch.Tensor) -> torch.Tensor:
        if objects.dim() == 4:
            objects = objects.flatten(2).transpose(1, 2)  # (B, C, H, W) -> (B, N, C)
            if self.grid is not None:
                grid = self.grid.to(objects.dtype).expand(objects.shape[0], -1, -1)  # (B, N, 2)
                objects = torch.cat([objects, grid], dim=-1)  # (B, N, C + 2)
        left = self.g_left(objects)  # (B, N, G0)
        right = self.g_right(objects)  # (B, N, G0)
        asked = self.g_question(question)  # (B, G0)
        pairs = left[:, :, None] + right[:, None, :] + asked[:, None, None]  # (B, N, N, G0)
        relations = self.g_rest(self.g_first(pairs))  # (B, N, N, G)
        pooled = relations.sum(dim=(1, 2)) if self.aggregate == "sum" else relations.mean(dim=(1, 2))
        return self.f(pooled)  # (B, G) -> (B, F)


def _grid(height: int, width: int) -> torch.Tensor:
    """Each cell's (x, y) in [-1, 1], row by row as `flatten` orders the cells: `(H*W, 2)`."""
    ys = torch.linspace(-1, 1, height) if height > 1 else torch.zeros(1)
    xs = torch.linspace(-1, 1, width) if width > 1 else torch.zeros(1)
    y, x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([x.flatten(), y.flatten()], dim=-1)


def _mlp(hidden: tuple[int, ...], size: int, activation: str, dropout: float) -> nn.Module:
    """An `MLP` built for `size` input features, or an identity when there are no layers."""
    if not hidden:
        return nn.Identity()
    mlp = MLP(hidden, activation=activation, dropout=dropout)
    mlp.build(TensorSpec((size,)))
    return mlp
