"""`Block`: an `nn.Module` whose sizes come from its first input, not from its user."""

from __future__ import annotations

import inspect
from typing import Any

import torch
import torch.utils._pytree as pytree
from torch import nn

from plait.graph import TensorSpec


class Block(nn.Module):
    """A lazy module: it creates its size-dependent layers in `build`, from input specs.

    A graph calls `build` once, with a `TensorSpec` (shape without batch, dtype) where
    each tensor argument goes, before the first symbolic call. Outside a graph, build it
    yourself: `Dense(8).build(TensorSpec((32,)))`, or `Dense(8).build_like(x)` from an
    example batch. A block that needs no input size sets `built = True` on its class.
    """

    built: bool = False

    def __new__(cls, *args: Any, **kwargs: Any) -> Block:
        # Keep the constructor's arguments as given, before `__init__` turns them into layers
        # (an activation name into a module, a rate into a Dropout): `get_config` returns them.
        block = super().__new__(cls)
        try:
            bound = inspect.signature(cls.__init__).bind(block, *args, **kwargs)
        except TypeError:
            return block  # copy and pickle call with no arguments; `__init__` reports real misuse
        bound.apply_defaults()
        block.__dict__["_plait_config"] = _as_config(bound)
        return block

    def get_config(self) -> dict[str, Any]:
        """The arguments this block was constructed with, by name, Keras-style.

        `type(block)(**block.get_config())` builds it again, untrained and unbuilt. Graph
        specs (`Graph.to_spec`) record a block this way; a subclass whose arguments need
        another form overrides it. Positional-only and `*args` arguments are under `_args_`.
        """
        return dict(self.__dict__.get("_plait_config", {}))

    def build(self, *specs: Any, **spec_kwargs: Any) -> None:
        """Create the layers that depend on the input sizes, then set `self.built = True`.

        Args:
            *specs: the call's arguments, with a `TensorSpec` in place of each tensor.
            **spec_kwargs: likewise for keyword arguments.
        """
        self.built = True

    def build_like(self, *args: Any, **kwargs: Any) -> Block:
        """Build from example arguments: tensors (batch first) or `TensorSpec`s.

        Returns:
            The block itself, built, so that `block = Dense(8).build_like(x)` reads well.
        """
        (specs, spec_kwargs) = pytree.tree_map_only(torch.Tensor, spec_of, (args, kwargs))
        if not self.built:
            self.build(*specs, **spec_kwargs)
        return self

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError as err:
            if self.__dict__.get("built", type(self).built):
                raise
            raise AttributeError(
                f"{type(self).__name__} has no '{name}' yet: it is not built. Call it on plait "
                f"Input tensors inside a graph, or build it first: block.build(TensorSpec(...)) "
                f"or block.build_like(example_batch)") from err


def _as_config(bound: inspect.BoundArguments) -> dict[str, Any]:
    """Bound constructor arguments (`self` left out) as keyword arguments plus `_args_`."""
    config: dict[str, Any] = {}
    positional: list[Any] = []
    for name, value in list(bound.arguments.items())[1:]:
        kind = bound.signature.parameters[name].kind
        if kind == inspect.Parameter.VAR_POSITIONAL:
            positional.extend(value)
        elif kind == inspect.Parameter.POSITIONAL_ONLY:
            positional.append(value)
        elif kind == inspect.Parameter.VAR_KEYWORD:
            config.update(value)
        else:
            config[name] = value
    # A list or dict the caller changes later must not change what the block was built from.
    config = {k: type(v)(v) if type(v) in (list, dict) else v for k, v in config.items()}
    if positional:
        config["_args_"] = positional
    return config


def spec_of(tensor: torch.Tensor) -> TensorSpec:
    """The spec of a real batch: its shape without the batch dimension, and its dtype."""
    return TensorSpec(tuple(tensor.shape[1:]), tensor.dtype)


def known_size(spec: TensorSpec, dim: int, block: nn.Module, what: str) -> int:
    """`spec.shape[dim]`, or a ValueError naming the block when that size is variable."""
    size = spec.shape[dim]
    if size is None:
        raise ValueError(f"{type(block).__name__} needs a known {what}; received {spec}, where "
                         f"it is variable (None)")
    return size


def sequence_features(spec: TensorSpec, block: nn.Module, vocab_size: int | None, embedding_dim: int) -> int:
    """Feature size of a sequence encoder's steps: token ids it embeds, or float features.

    Raises:
        ValueError: ids given without `vocab_size`, features given with it, or a wrong rank.
    """
    name = type(block).__name__
    if vocab_size is not None:
        if spec.dtype.is_floating_point or len(spec.shape) != 1:
            raise ValueError(f"{name}(vocab_size={vocab_size}) expects integer token ids "
                             f"(B, T); received {spec.dtype} {spec}")
        return embedding_dim
    if not spec.dtype.is_floating_point or len(spec.shape) != 2:
        raise ValueError(f"{name} without vocab_size expects float features (B, T, F); "
                         f"received {spec.dtype} {spec}. Give vocab_size to embed token ids")
    return known_size(spec, -1, block, "feature size")
