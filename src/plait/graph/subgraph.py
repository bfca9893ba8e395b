"""`Graph.subgraph`: the part of a graph between some of its tensors, on the same modules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from plait.graph.errors import GraphError
from plait.graph.naming import node_index, resolve
from plait.graph.node import label, module_name
from plait.graph.tensor import Input, SymbolicTensor

if TYPE_CHECKING:
    from plait.graph.graph import Graph


def subgraph(graph: Graph, outputs: str | Sequence[str], inputs: Sequence[str] | None = None,
             name: str | None = None) -> Graph:
    """A new graph from `inputs` to `outputs` of `graph`, calling the very same modules.

    The recorded nodes are copied with new symbolic tensors, so nothing is re-inferred and
    node names stay; the modules, and so the weights, are `graph`'s own.

    Args:
        graph: the graph to cut.
        outputs: one tensor name (the new graph returns a tensor) or several (it returns a
            dict keyed by these names): node names as `graph.summary()` shows them or a
            graph spec's `nodes:` keys, `node[i]` for one output of several, or input names.
        inputs: where to start: input names, or inner tensor names, which become inputs of
            the same shape; None for the inputs of `graph` that `outputs` need.
        name: the new graph's name.

    Raises:
        GraphError: an unknown name (the message lists the known ones), an output that needs
            an input not given, or an inner tensor whose batch is not its first dimension.
    """
    from plait.graph.graph import Graph

    index = node_index(graph)
    wanted = [outputs] if isinstance(outputs, str) else list(outputs)
    if not wanted:
        raise GraphError(f"graph '{module_name(graph)}': subgraph needs at least one output name")
    out_slots = [resolve(graph, text, index, "output") for text in wanted]
    given = {resolve(graph, text, index, "input"): text for text in inputs or ()}
    needed, reached = graph.plan.upstream(out_slots, given)
    if inputs is None:
        given = {slot: graph.input_names[slot] for slot in sorted(reached)}
    elif reached - set(given):
        missing = [graph.input_names[s] for s in sorted(reached - set(given))]
        raise GraphError(f"graph '{module_name(graph)}': outputs {wanted} need inputs {missing}, "
                         f"which are not among the subgraph's inputs {list(inputs)}")
    tensors = {slot: _input(graph, slot, text) for slot, text in given.items()}
    for i in sorted(needed):  # the plan's steps are in topological order
        step = graph.plan.steps[i]
        inbound = [tensors[s] for s in step.reads]
        copy = replace(step.node, inbound=inbound, connected_to=[label(t) for t in inbound])
        for k, (s, spec) in enumerate(zip(step.writes, step.node.output_specs)):
            made = SymbolicTensor(spec, node=copy, index=k)
            tensors.setdefault(s, made)  # an output given as an input stays that input
    ins = [tensors[slot] for slot in given]
    outs = tensors[out_slots[0]] if isinstance(outputs, str) else {
        text: tensors[slot] for text, slot in zip(wanted, out_slots)}
    return Graph(ins, outs, name=name)


def _input(graph: Graph, slot: int, text: str) -> SymbolicTensor:
    """A fresh `Input` like the graph input or inner tensor at `slot`."""
    spec = graph.plan.specs[slot]
    if spec.batch_axis != 0:
        raise GraphError(f"graph '{module_name(graph)}': tensor '{text}' {spec} cannot be an input: "
                         "its batch is not its first dimension")
    return Input(text, shape=spec.shape, dtype=spec.dtype)
