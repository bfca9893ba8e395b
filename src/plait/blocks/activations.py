"""Activation names shared by the blocks: `"relu"` in a config, a module in the model."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from torch import nn

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "linear": nn.Identity,
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "swish": nn.SiLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "softplus": nn.Softplus,
    "softmax": partial(nn.Softmax, dim=-1),
}


def activation(name: str | nn.Module | None) -> nn.Module:
    """A fresh activation module for `name`; None means identity, a module is kept as is.

    Args:
        name: a key of `ACTIVATIONS` (`"relu"`, `"gelu"`, ...), None, or an `nn.Module`.

    Raises:
        ValueError: the name is unknown; the message lists the known names.
    """
    if name is None:
        return nn.Identity()
    if isinstance(name, nn.Module):
        return name
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}: expected None or one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]()
