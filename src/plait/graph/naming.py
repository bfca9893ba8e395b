"""Names of a graph's nodes and tensors, as `subgraph`, `to_spec` and errors use them.

A node made by a graph spec is named by its key under `nodes:`; a node made in Python by
the name its summary shows: the module's name, `name:k` for its k-th further call. A
tensor is its input's name, its node's name, or `name[i]` for output i of a node with
several outputs (counted over the flattened outputs, as the summary counts them).
"""

from __future__ import annotations

import keyword
import re
from typing import TYPE_CHECKING

from plait.graph.errors import GraphError
from plait.graph.node import module_name

if TYPE_CHECKING:
    from plait.graph.graph import Graph

_PICK = re.compile(r"^(?P<name>.+)\[(?P<index>\d+)\]$")


def is_identifier(name: str) -> bool:
    """Whether `name` can stand in a node line: a Python name that is not a keyword."""
    return isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name)


def node_names(graph: Graph) -> list[str]:
    """Each node's name: its spec key where it has one, else the name summary shows."""
    return [node.key or node.name for node in graph.nodes]


def spec_keys(graph: Graph) -> list[str]:
    """Each node's key for a spec's `nodes:`: an identifier, unique, and no input's name.

    A name that is one already keeps it; `lstm:1` becomes `lstm_1` (`lstm_1_1`, ... where
    that is taken), so that `build_graph(graph.to_spec())` names its nodes alike.
    """
    names = node_names(graph)
    taken = set(graph.input_names)
    keys: list[str | None] = [None] * len(names)
    for i, name in enumerate(names):  # names that are keys already go first: they are kept
        if is_identifier(name) and name not in taken:
            keys[i] = name
            taken.add(name)
    for i, name in enumerate(names):
        if keys[i] is None:
            base = re.sub(r"\W", "_", name)
            base = base if is_identifier(base) else f"node_{base}"
            key, k = base, 1
            while key in taken:
                key, k = f"{base}_{k}", k + 1
            keys[i] = key
            taken.add(key)
    return keys


def slot_names(graph: Graph, names: list[str]) -> list[str]:
    """The name of every value slot: the input's name, `node` or `node[i]` from `names`."""
    slots = list(graph.input_names)
    for name, step in zip(names, graph.plan.steps):
        many = len(step.writes) > 1
        slots.extend(f"{name}[{i}]" if many else name for i in range(len(step.writes)))
    return slots


def node_index(graph: Graph) -> dict[str, int]:
    """Node by name: summary names, spec keys, and the keys `to_spec` writes, in that priority."""
    table: dict[str, int] = {}
    for names in (node_names(graph), spec_keys(graph), [n.name for n in graph.nodes]):
        for i, name in enumerate(names):
            table.setdefault(name, i)
    return table


def resolve(graph: Graph, text: str, index: dict[str, int], what: str) -> int:
    """The slot of tensor `text`: an input's name, a node's name, `node[i]`, or an output's name.

    Raises:
        GraphError: no such input or node, a node of several outputs named without `[i]`,
            or `i` out of range; the message lists the known names.
    """
    if text in graph.input_names:
        return graph.input_names.index(text)
    match = _PICK.match(text) if isinstance(text, str) else None
    name, pick = (match["name"], int(match["index"])) if match else (text, None)
    if name not in index:
        if text in graph.output_names:
            return graph.plan.output_slots[graph.output_names.index(text)]
        raise GraphError(f"graph '{module_name(graph)}': {what} '{text}' names no input, node or "
                         f"output; inputs are {graph.input_names}, nodes are {node_names(graph)}, "
                         f"outputs are {graph.output_names}")
    outs = graph.plan.steps[index[name]].writes
    if pick is None and len(outs) > 1:
        raise GraphError(f"graph '{module_name(graph)}': {what} '{text}' gives {len(outs)} tensors; "
                         f"pick one as '{name}[i]'")
    if pick is not None and pick >= len(outs):
        raise GraphError(f"graph '{module_name(graph)}': {what} '{text}' is out of range: node "
                         f"'{name}' gives {len(outs)} tensor(s)")
    return outs[pick or 0]
