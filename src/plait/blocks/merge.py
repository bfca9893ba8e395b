"""Merges of several tensors into one: `Concat`, `Add`, `Multiply`, `Average`.

Each accepts its inputs as arguments, `Add()(a, b)`, or as one list, `Add()([a, b])`.
Shapes are checked in `build`, from the specs, with a message that lists every input.
"""

from __future__ import annotations

from typing import Any

import torch

from plait.blocks.base import Block
from plait.graph import GraphError, TensorSpec


def _flat(inputs: tuple[Any, ...]) -> list[Any]:
    """`(a, b)` or `([a, b],)` -> `[a, b]`."""
    if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)):
        return list(inputs[0])
    return list(inputs)


def _listing(specs: list[TensorSpec]) -> str:
    return ", ".join(str(s) for s in specs)


def _sum(xs: list[torch.Tensor]) -> torch.Tensor:
    out = xs[0]
    for x in xs[1:]:
        out = out + x
    return out


def _same(a: int | None, b: int | None) -> bool:
    return a is None or b is None or a == b  # a variable size fits any size


class _Merge(Block):
    """The shape checks shared by the merges.

    A merge holds no weights, so `build` only checks the specs and `built` stays False: a
    merge called at several nodes (one `Add` used twice) is checked at each of them.
    """

    minimum = 2

    def build(self, *specs: TensorSpec | list[TensorSpec]) -> None:
        specs = _flat(specs)
        name = type(self).__name__
        constants = [s for s in specs if not isinstance(s, TensorSpec)]
        if constants:
            shown = constants[0]
            what = f"Tensor of shape {tuple(shown.shape)}" if isinstance(shown, torch.Tensor) else type(shown).__name__
            raise GraphError(f"{name} merges tensors of the graph; received a constant {what}: make it an "
                             "Input, or the output of a module")
        if len(specs) < self.minimum:
            raise GraphError(f"{name} expects at least {self.minimum} inputs; received "
                             f"{len(specs)}: {_listing(specs)}")
        self.check(specs, name)

    def check(self, specs: list[TensorSpec], name: str) -> None:
        first = specs[0].shape
        if any(len(s.shape) != len(first) or not all(map(_same, s.shape, first)) for s in specs):
            raise GraphError(f"{name} expects inputs of one shape; received {_listing(specs)}")


class Concat(_Merge):
    """Keras' `Concatenate`: join inputs along `axis`, counted on the full tensor with batch.

    Args:
        axis: the joined dimension; -1 (features) by default, 1 for the channels of
            `(B, C, H, W)`. Axis 0 is the batch and is refused.

    Shape:
        `(B, 32), (B, 16) -> (B, 48)`; every dimension but `axis` must match.
    """

    minimum = 1

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = axis

    def check(self, specs: list[TensorSpec], name: str) -> None:
        ndim = len(specs[0].shape) + 1
        what = f"{name}(axis={self.axis})"
        if any(len(s.shape) + 1 != ndim for s in specs):
            raise GraphError(f"{what} expects inputs with one number of dimensions; received "
                             f"{_listing(specs)}")
        if not -ndim <= self.axis < ndim or self.axis % ndim == 0:
            raise GraphError(f"{what} expects an axis in 1..{ndim - 1} or -{ndim - 1}..-1 for "
                             f"{ndim}-dimensional inputs (axis 0 is the batch); received "
                             f"{_listing(specs)}")
        joined = self.axis % ndim - 1
        first = specs[0].shape
        for s in specs[1:]:
            if not all(_same(a, b) for i, (a, b) in enumerate(zip(s.shape, first)) if i != joined):
                raise GraphError(f"{what} expects inputs that match on every dimension but axis "
                                 f"{self.axis}; received {_listing(specs)}")

    def forward(self, *inputs: torch.Tensor | list[torch.Tensor]) -> torch.Tensor:
        return torch.cat(_flat(inputs), dim=self.axis)  # (B, a), (B, b) -> (B, a + b)


class Add(_Merge):
    """Keras' `Add`: the elementwise sum of inputs of one shape.

    Shape:
        `(B, ...), (B, ...) -> (B, ...)`
    """

    def forward(self, *inputs: torch.Tensor | list[torch.Tensor]) -> torch.Tensor:
        return _sum(_flat(inputs))  # (B, ...)


class Multiply(_Merge):
    """Keras' `Multiply`: the elementwise product of inputs of one shape.

    Shape:
        `(B, ...), (B, ...) -> (B, ...)`
    """

    def forward(self, *inputs: torch.Tensor | list[torch.Tensor]) -> torch.Tensor:
        xs = _flat(inputs)
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out  # (B, ...)


class Average(_Merge):
    """Keras' `Average`: the elementwise mean of inputs of one shape.

    Shape:
        `(B, ...), (B, ...) -> (B, ...)`
    """

    def forward(self, *inputs: torch.Tensor | list[torch.Tensor]) -> torch.Tensor:
        xs = _flat(inputs)
        return _sum(xs) / len(xs)  # (B, ...)
