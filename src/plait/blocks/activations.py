"""Activation names shared by the blocks: `"relu"` in a config, a module in the model."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as F
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

# The same activations as functions, for blocks that apply one on their hot path: a function
# call costs less than a module call. "linear" maps to None: nothing to apply.
FUNCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor] | None] = {
    "linear": None,
    "relu": F.relu,
    "leaky_relu": F.leaky_relu,
    "elu": F.elu,
    "selu": F.selu,
    "gelu": F.gelu,
    "silu": F.silu,
    "swish": F.silu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "softplus": F.softplus,
    "softmax": partial(F.softmax, dim=-1),
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
    _check_name(name)
    return ACTIVATIONS[name]()


def activation_function(name: str | None) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """The function for activation `name`; None for None and `"linear"` (nothing to apply).

    Raises:
        ValueError: the name is unknown; the message lists the known names.
    """
    if name is None:
        return None
    _check_name(name)
    return FUNCTIONS[name]


def _check_name(name: str) -> None:
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}: expected None or one of {sorted(ACTIVATIONS)}")
