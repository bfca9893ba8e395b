"""Modules of a user's own, importable by path as a graph spec's `_target_` needs."""

from __future__ import annotations

import torch
from torch import nn

from plait.blocks import Block
from plait.graph import TensorSpec


class Scorer(nn.Module):
    """Scores features against a table built from its arguments; described by `get_config`."""

    def __init__(self, features: int, classes: int, *, scale: float = 1.0) -> None:
        super().__init__()
        self.table = nn.Parameter(torch.randn(classes, features) * scale)
        self._args = {"features": features, "classes": classes, "scale": scale}

    def get_config(self) -> dict:
        return dict(self._args)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.table.T  # (B, F) -> (B, classes)


class Scaled(nn.Module):
    """Keeps its arguments under their own names, so they are recovered from its attributes."""

    def __init__(self, inner: nn.Module, factor: float = 2.0) -> None:
        super().__init__()
        self.inner = inner
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x) * self.factor


class Lookup(nn.Module):
    """Keeps no attribute named like its argument `table`: it cannot be described."""

    def __init__(self, table: list[float]) -> None:
        super().__init__()
        self.register_buffer("values", torch.tensor(table))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.values


class Apply(nn.Module):
    """Holds a function: plain data cannot."""

    def __init__(self, fn) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x)


class Pair(nn.Module):
    """Two modules given to one constructor, possibly the same one twice (shared)."""

    def __init__(self, first: nn.Module, second: nn.Module) -> None:
        super().__init__()
        self.first = first
        self.second = second

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.second(self.first(x))


class Gate(nn.Module):
    """A call with a keyword tensor and constants: `gate(x, other=y, mode="mul", offset=None)`."""

    def forward(self, x: torch.Tensor, other: torch.Tensor, mode: str = "add",
                offset: float | None = None) -> torch.Tensor:
        out = x * other if mode == "mul" else x + other
        return out if offset is None else out + offset


class Mix(nn.Module):
    """Takes a tuple and a dict of tensors: `mix((a, b), {"w": c})`."""

    def forward(self, pair: tuple[torch.Tensor, torch.Tensor], extra: dict) -> torch.Tensor:
        return pair[0] - pair[1] + extra["w"]


class Twice(Block):
    """A lazy user block: its arguments are recorded by `Block`, its size comes from the input."""

    def __init__(self, units: int, *, gain: float = 1.0) -> None:
        super().__init__()
        self.units = units
        self.gain = gain

    def build(self, spec: TensorSpec) -> None:
        self.linear = nn.Linear(spec.shape[-1], self.units)
        self.built = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x) * self.gain


class Halved(nn.Module):
    """Keeps `size` changed, so what its attributes say builds another module."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size // 2
        self.linear = nn.Linear(size, self.size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)


class DropoutHead(nn.Module):
    """Keeps its float argument `dropout` as the Dropout module it builds from it, so the
    attribute of that name is no constructor argument."""

    def __init__(self, features: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.features = features
        self.dropout = nn.Dropout(dropout)
        self.linear = nn.Linear(features, features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.dropout(x))


class Tempered(nn.Module):
    """Keeps a value derived from `temperature` under that name: building it again from its
    attributes gives another module with the same repr and weights."""

    def __init__(self, features: int, temperature: float = 2.0) -> None:
        super().__init__()
        self.features = features
        self.temperature = temperature ** 0.5
        self.linear = nn.Linear(features, features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x) / self.temperature


class Calibrated(nn.Module):
    """Reads its argument's weights when built: on the meta device that cannot run, which
    says nothing of whether its arguments are right."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner
        self.register_buffer("scale", torch.tensor(float(inner.weight.abs().max())))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x) / self.scale
