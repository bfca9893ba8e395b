"""Node lines such as `merge(question_vec, image_vec)`, parsed with Python's own grammar."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from plait.spec.errors import SpecError


@dataclass(frozen=True)
class Ref:
    """A tensor named in a node line: an input or node, optionally one of its outputs."""

    name: str
    index: int | None = None

    def __str__(self) -> str:
        return self.name if self.index is None else f"{self.name}[{self.index}]"


@dataclass(frozen=True)
class Call:
    """`block(args..., key=arg)`, where an argument is a `Ref` or a list of them."""

    block: str
    args: tuple[Ref | tuple[Ref, ...], ...]
    kwargs: tuple[tuple[str, Ref | tuple[Ref, ...]], ...]

    def refs(self) -> list[Ref]:
        found: list[Ref] = []
        for arg in [*self.args, *(v for _, v in self.kwargs)]:
            found.extend(arg if isinstance(arg, tuple) else [arg])
        return found


def parse_call(text: str, where: str) -> Call:
    """Parse one node line.

    Args:
        text: e.g. `merge(question_vec, image_vec)`, `head(lstm[0])`, `concat([a, b])`.
        where: the config key, for errors.

    Raises:
        SpecError: the line is not `block(tensor, ...)`; says what was expected.
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
    args = tuple(_argument(a, text, where) for a in tree.args)
    kwargs = tuple((k.arg, _argument(k.value, text, where)) for k in tree.keywords)
    if any(k is None for k, _ in kwargs):
        raise SpecError(f"{where}: `**` is not supported in {text!r}")
    return Call(tree.func.id, args, kwargs)


def _argument(node: ast.expr, text: str, where: str) -> Ref | tuple[Ref, ...]:
    if isinstance(node, (ast.List, ast.Tuple)):
        return tuple(_ref(e, text, where) for e in node.elts)
    return _ref(node, text, where)


def _ref(node: ast.expr, text: str, where: str) -> Ref:
    if isinstance(node, ast.Name):
        return Ref(node.id)
    if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)
            and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, int)):
        return Ref(node.value.id, node.slice.value)
    raise SpecError(f"{where}: in {text!r}, `{ast.unparse(node)}` is not a tensor name; arguments "
                    "are input or node names, `name[i]` for one output of a node, or lists of them")
