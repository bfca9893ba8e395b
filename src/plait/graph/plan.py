"""A graph compiled for `forward`: numbered value slots and the steps that fill them.

Slots `0 .. n - 1` hold the graph's `n` inputs, in order; each step then reads the slots
of its tensor arguments and writes its outputs into slots of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from torch import nn

from plait.graph.node import Node
from plait.graph.tensor import SymbolicTensor, TensorSpec


@dataclass(frozen=True, eq=False, slots=True)
class Step:
    """One node of a compiled graph: which block it calls on which slots, and where its
    outputs go.

    Attributes:
        node: the recorded call.
        block: the module it calls, `node.module`, at hand for the forward loop.
        reads: the slots of its tensor arguments, in argument order.
        writes: the slots of its outputs, flattened.
        style: how the block takes its tensors (`plait.graph.arguments.POSITIONAL`, ...).
        returns_tensor: whether the block returns one bare tensor (not a tuple, list or dict).
    """

    node: Node
    block: nn.Module
    reads: tuple[int, ...]
    writes: tuple[int, ...]
    style: str
    returns_tensor: bool


class Plan:
    """The steps of a graph in topological order, over slots numbered from its inputs.

    Args:
        inputs: the graph's input tensors, in order.
        outputs: the graph's output tensors, in order.
        nodes: every node between them, in topological order.

    Attributes:
        steps: one `Step` per node, in order.
        specs: the spec of every slot.
        output_slots: the slot of each output, in order.
    """

    def __init__(self, inputs: list[SymbolicTensor], outputs: list[SymbolicTensor], nodes: list[Node]) -> None:
        slot = {_key(t): i for i, t in enumerate(inputs)}
        self.specs: list[TensorSpec] = [t.spec for t in inputs]
        self.steps: list[Step] = []
        for node in nodes:
            reads = tuple(slot[_key(t)] for t in node.inbound)
            writes = tuple(range(len(slot), len(slot) + len(node.output_specs)))
            slot.update({(node.id, i): s for i, s in enumerate(writes)})
            self.specs.extend(node.output_specs)
            bare = replace(node, inbound=None)  # the plan keeps no symbolic tensor alive
            self.steps.append(Step(bare, node.module, reads, writes, node.arguments.style,
                                   node.output_tree.is_leaf()))
        self.output_slots = [slot[_key(t)] for t in outputs]
        self._producers = {s: i for i, step in enumerate(self.steps) for s in step.writes}

    def producer(self, slot: int) -> int | None:
        """The index of the step that writes `slot`; None for an input's slot."""
        return self._producers.get(slot)

    def upstream(self, slots: Iterable[int], given: Iterable[int] = ()) -> tuple[set[int], set[int]]:
        """What `slots` are computed from, walking back until `given` slots or inputs.

        Returns:
            The indices of the steps needed, and the input slots reached.
        """
        stop = set(given)
        needed: set[int] = set()
        reached: set[int] = set()
        stack, seen = list(slots), set()
        while stack:
            slot = stack.pop()
            if slot in stop or slot in seen:
                continue
            seen.add(slot)
            step = self._producers.get(slot)
            if step is None:
                reached.add(slot)
            elif step not in needed:
                needed.add(step)
                stack.extend(self.steps[step].reads)
        return needed, reached

    def shared_steps(self) -> list[int]:
        """The indices of the steps that every output depends on, in order."""
        needs = [self.upstream([slot])[0] for slot in self.output_slots]
        return sorted(set.intersection(*needs))


def _key(tensor: SymbolicTensor) -> Any:
    return id(tensor) if tensor.is_input else (tensor.node.id, tensor.index)
