"""A module call's arguments with its tensors taken out, and put back for another call.

A node records `module(a, [b, c], axis=1)` as the tree of its arguments, the constants in
it (`TENSOR` where a tensor stood) and its tensors in order. The graph calls the module
again with other tensors in their places: real ones in `forward`, fake ones while
inferring shapes, specs when building a lazy block, names when writing a node line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import torch.utils._pytree as pytree

# How a call passes its tensors: `module(a, b)` and `module([a, b])` are common and
# the graph's loop calls them directly; any other call is rebuilt from the tree.
POSITIONAL, LIST, TREE = "positional", "list", "tree"


class _TensorSlot:
    """Marks where a call's arguments held a tensor: `None` may be a constant there."""

    def __repr__(self) -> str:
        return "TENSOR"

    def __reduce__(self) -> str:
        return "TENSOR"  # copies and pickles stay this one object, so `is TENSOR` holds


TENSOR = _TensorSlot()


@dataclass(frozen=True)
class Arguments:
    """The shape of one call's arguments: where its tensors go among its constants.

    Attributes:
        tree: how `(args, kwargs)` nest, as torch's pytree describes it.
        leaves: the flattened arguments: constants, with `TENSOR` where a tensor goes.
        style: `POSITIONAL` for `module(a, b)`, `LIST` for `module([a, b])`, else `TREE`.
    """

    tree: pytree.TreeSpec
    leaves: tuple[Any, ...]
    style: str

    @classmethod
    def split(cls, args: tuple, kwargs: dict, tensor_type: type) -> tuple[Arguments, list]:
        """The call's `Arguments`, and its tensors (the leaves of `tensor_type`) in order."""
        leaves, tree = pytree.tree_flatten((args, kwargs))
        tensors = [x for x in leaves if isinstance(x, tensor_type)]
        constants = tuple(TENSOR if isinstance(x, tensor_type) else x for x in leaves)
        return cls(tree, constants, _style(tree, constants)), tensors

    def fill(self, tensors: Iterable[Any]) -> tuple[tuple, dict]:
        """`(args, kwargs)` with `tensors`, in order, where the call's tensors stood."""
        given = iter(tensors).__next__
        return pytree.tree_unflatten([given() if c is TENSOR else c for c in self.leaves], self.tree)

    def call(self, fn: Callable[..., Any], tensors: Iterable[Any]) -> Any:
        """`fn` called as the recorded call was, with `tensors` in the tensors' places."""
        args, kwargs = self.fill(tensors)
        return fn(*args, **kwargs)


def _style(tree: pytree.TreeSpec, constants: tuple) -> str:
    count = len(constants)
    if any(c is not TENSOR for c in constants):
        return TREE
    if tree == pytree.tree_structure(((0,) * count, {})):
        return POSITIONAL
    if tree == pytree.tree_structure((([0] * count,), {})):
        return LIST
    return TREE
