"""Node lines such as `merge(question_vec, image_vec)`, parsed with Python's own grammar."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from plait.spec.errors import SpecError


@dataclass(frozen=True)
class Ref:
    """A tensor named in a node line: an input or node, optionally one of its outputs."""

    name: str
    index: int | None = None

    def __str__(self) -> str:
        return self.name if self.index is None else f"{self.name}[{self.index}]"


@dataclass(frozen=True)
class Const:
    """A constant argument in a node line: a number, a string, True, False or None."""

    value: Any


# An argument: a tensor name, a constant, or a list, tuple or dict (string keys) of arguments.
Arg = Ref | Const | list | tuple | dict


@dataclass(frozen=True, eq=False)
class Call:
    """`block(args..., key=arg)`: what a node line says, arguments as the block receives them."""

    block: str
    args: tuple[Arg, ...]
    kwargs: tuple[tuple[str, Arg], ...]

    def refs(self) -> list[Ref]:
        """Every tensor the call names, in order."""
        return _refs([*self.args, *(v for _, v in self.kwargs)])


def _refs(arg: Arg) -> list[Ref]:
    if isinstance(arg, Ref):
        return [arg]
    if isinstance(arg, (list, tuple)):
        return [ref for a in arg for ref in _refs(a)]
    if isinstance(arg, dict):
        return _refs(list(arg.values()))
    return []


def parse_call(text: str, where: str) -> Call:
    """Parse one node line.

    Args:
        text: e.g. `merge(question_vec, image_vec)`, `head(lstm[0])`, `concat([a, b], axis=1)`.
        where: the config key, for errors.

    Raises:
        SpecError: the line is not `block(argument, ...)`; says what was expected.
    """
    expected = "expected `block(tensor, ...)`, e.g. `merge(question_vec, image_vec)`"
    if not isinstance(text, str):
        raise SpecError(f"{where}: {expected}; received {type(text).__name__} {text!r}")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as err:
        raise SpecError(f"{where}: cannot parse {text!r} ({err.msg} at column {err.offset}); {expected}") from None
    if not isinstance(tree, ast.Call) or not isinstance(tree.func, ast.Name):
        raise SpecError(f"{where}: {expected}; received {text!r}")
    if any(k.arg is None for k in tree.keywords) or any(isinstance(a, ast.Starred) for a in tree.args):
        raise SpecError(f"{where}: `*` and `**` are not supported in {text!r}")
    args = tuple(_argument(a, text, where) for a in tree.args)
    kwargs = tuple((k.arg, _argument(k.value, text, where)) for k in tree.keywords)
    return Call(tree.func.id, args, kwargs)


def _argument(node: ast.expr, text: str, where: str) -> Arg:
    if isinstance(node, ast.Name):
        return Ref(node.id)
    if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)
            and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, int)):
        return Ref(node.value.id, node.slice.value)
    if isinstance(node, ast.List):
        return [_argument(e, text, where) for e in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_argument(e, text, where) for e in node.elts)
    if isinstance(node, ast.Dict) and all(isinstance(k, ast.Constant) and isinstance(k.value, str)
                                          for k in node.keys):
        return {k.value: _argument(v, text, where) for k, v in zip(node.keys, node.values)}
    try:
        return Const(ast.literal_eval(node))
    except (ValueError, TypeError):
        raise SpecError(f"{where}: in {text!r}, `{ast.unparse(node)}` is not an argument a node "
                        "line takes: input or node names, `name[i]` for one output of a node, "
                        "constants (numbers, strings, True/False/None), and lists, tuples and "
                        "dicts of them") from None
