"""How a `Graph` is put together from symbolic tensors: names, reachable nodes, blocks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from torch import nn

from plait.graph.errors import GraphError
from plait.graph.node import Node, module_name
from plait.graph.tensor import SymbolicTensor

Structure = SymbolicTensor | Sequence[SymbolicTensor] | Mapping[str, SymbolicTensor]


def names_and_tensors(structure: Structure, what: str) -> tuple[list[str], list[SymbolicTensor], str]:
    """Names, tensors and kind ('single', 'list', 'dict') of a graph's inputs or outputs."""
    if isinstance(structure, SymbolicTensor):
        kind, items = "single", [(None, structure)]
    elif isinstance(structure, Mapping):
        kind, items = "dict", list(structure.items())
    elif isinstance(structure, (list, tuple)):
        kind, items = "list", [(None, t) for t in structure]
    else:
        raise GraphError(f"graph {what} must be a symbolic tensor, a list or a dict of them; "
                         f"received {type(structure).__name__}")
    if not items:
        raise GraphError(f"a graph needs at least one of its {what}, received none")
    names, tensors = [], []
    for key, tensor in items:
        if not isinstance(tensor, SymbolicTensor):
            raise GraphError(f"graph {what}: {key or 'entry'} must be a symbolic tensor (from Input "
                             f"or a module call), received {type(tensor).__name__}")
        names.append(key if key is not None else _default_name(tensor))
        tensors.append(tensor)
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise GraphError(f"duplicate names among the graph's {what}: {duplicates}")
    return names, tensors, kind


def _default_name(tensor: SymbolicTensor) -> str:
    if tensor.name:
        return tensor.name
    node = tensor.node
    return node.name if len(node.output_specs) == 1 else f"{node.name}_{tensor.index}"


def check_inputs(names: list[str], tensors: list[SymbolicTensor]) -> None:
    for name, tensor in zip(names, tensors):
        if not tensor.is_input:
            raise GraphError(f"graph input '{name}' must be an Input, received {tensor.describe()}")
    if len({id(t) for t in tensors}) != len(tensors):
        raise GraphError(f"the same Input is given twice among the graph's inputs {names}")


def reachable_nodes(inputs: list[SymbolicTensor], outputs: list[SymbolicTensor],
                     output_names: list[str]) -> set[Node]:
    """Every node between inputs and outputs; checks each output's inputs are given."""
    given = {id(t) for t in inputs}
    reached: set[int] = set()
    nodes: dict[int, Node] = {}
    for out_name, out in zip(output_names, outputs):
        stack, seen = [out], set()
        while stack:
            tensor = stack.pop()
            if tensor.is_input:
                if id(tensor) not in given:
                    names = [t.name for t in inputs]
                    raise GraphError(
                        f"graph disconnected: output '{out_name}' depends on input '{tensor.name}' "
                        f"{tensor.spec}, which is not among the graph's inputs {names}")
                reached.add(id(tensor))
            elif tensor.node.id not in seen:
                seen.add(tensor.node.id)
                nodes[tensor.node.id] = tensor.node
                stack.extend(tensor.node.inbound)
    unused = [t.name for t in inputs if id(t) not in reached]
    if unused:
        raise GraphError(f"graph inputs {unused} reach no output; outputs are {output_names}")
    return set(nodes.values())


def named_modules(nodes: list[Node]) -> dict[str, nn.Module]:
    """Each distinct module once, under its name; two modules may not share a name."""
    named: dict[str, nn.Module] = {}
    for node in nodes:
        name = module_name(node.module)
        if hasattr(nn.ModuleDict, name):
            raise GraphError(f"a block may not be named '{name}' ({type(node.module).__name__}): the "
                             "graph's `blocks` ModuleDict has an attribute of that name; rename it "
                             "with plait.graph.name_module")
        if name in named and named[name] is not node.module:
            raise GraphError(f"duplicate names: two different modules are both named '{name}' "
                             f"({type(named[name]).__name__} and {type(node.module).__name__})")
        named[name] = node.module
    return named
