"""A recorded call written back as a spec's node line: `merge([question_vec, image_vec], axis=1)`.

The line is Python syntax, which `plait.spec.expressions.parse_call` reads back: tensor
names, `name[i]`, constants (numbers, strings, True/False/None), and lists, tuples and
dicts of them, positionally or by keyword, exactly as the call was made.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from plait.graph.errors import GraphError
from plait.graph.node import Node

_CONSTANTS = (bool, int, float, complex, str, bytes, type(None))


@dataclass(frozen=True)
class _Name:
    """A tensor's name in a line, written bare rather than quoted."""

    text: str


def node_line(block: str, node: Node, tensor_names: list[str], where: str) -> str:
    """`block(...)` with the node's arguments, tensors written by their names.

    Args:
        block: the name of the block the node calls.
        node: the recorded call.
        tensor_names: the names of its tensor arguments, in order.
        where: the node, for errors.

    Raises:
        GraphError: a constant argument with no literal form (a tensor, a function, NaN).
    """
    args, kwargs = node.arguments.fill([_Name(name) for name in tensor_names])
    parts = [_text(a, where) for a in args]
    parts += [f"{key}={_text(value, where)}" for key, value in kwargs.items()]
    return f"{block}({', '.join(parts)})"


def _text(value: Any, where: str) -> str:
    if isinstance(value, _Name):
        return value.text
    if type(value) is list:
        return "[" + ", ".join(_text(v, where) for v in value) + "]"
    if type(value) is tuple:
        inner = ", ".join(_text(v, where) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if type(value) is dict and all(isinstance(k, str) for k in value):
        return "{" + ", ".join(f"{k!r}: {_text(v, where)}" for k, v in value.items()) + "}"
    text = repr(value)
    if type(value) in _CONSTANTS and _reads_back(text, value):
        return text
    raise GraphError(f"{where}: argument {text[:80]} cannot be written in a node line, which "
                     "holds tensor names, numbers, strings, True/False/None, and lists, tuples "
                     "and dicts of them; pass it to the block's constructor instead")


def _reads_back(text: str, value: Any) -> bool:
    try:
        read = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return False  # nan, inf
    return type(read) is type(value) and read == value
