"""`Graph`: a DAG of module calls, itself an `nn.Module` and callable like a block."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.utils._pytree as pytree
from torch import nn

from plait.graph.arguments import LIST, POSITIONAL
from plait.graph.errors import GraphError
from plait.graph.node import Node, is_frozen, module_name
from plait.graph.plan import Plan
from plait.graph.tensor import TensorSpec, dtype_kind
from plait.graph.toposort import topological_order
from plait.graph.wiring import (
    Structure,
    check_inputs,
    named_modules,
    names_and_tensors,
    reachable_nodes,
)


def _with_batch(shape: torch.Size) -> str:
    """A tensor's shape with its first size marked as the batch's: `(B=32, 5)`; inside a
    graph being built, the batch is the shape probe's."""
    return "(" + ", ".join([f"B={shape[0]}", *map(str, shape[1:])]) + ")" if len(shape) else "()"


@dataclass(frozen=True, slots=True)
class InputCheck:
    """What `forward` checks of one graph input: its rank with the batch dimension, the
    sizes its spec fixes as `(dim, size)` pairs, and its dtype kind."""

    name: str
    spec: TensorSpec
    ndim: int
    fixed: tuple[tuple[int, int], ...]
    kind: str

    @classmethod
    def of(cls, name: str, spec: TensorSpec) -> InputCheck:
        fixed = tuple((i + 1, d) for i, d in enumerate(spec.shape) if d is not None)
        return cls(name, spec, len(spec.shape) + 1, fixed, dtype_kind(spec.dtype))

    def accepts(self, value: Any) -> bool:
        return (isinstance(value, torch.Tensor) and value.dim() == self.ndim
                and all(value.shape[i] == d for i, d in self.fixed)
                and dtype_kind(value.dtype) == self.kind)


class Graph(nn.Module):
    """A functional model: the modules called between `inputs` and `outputs`.

    Nodes are put in order once, here; `forward` is one loop over that order. A module
    called at several nodes is registered once, so its weights are shared. A module given
    to `freeze` stays in eval mode when the graph trains.

    Args:
        inputs: `Input` tensors: one, a list, or a dict keyed by input name.
        outputs: tensors computed from the inputs: one, a list, or a dict keyed by output name.
        name: the graph's name when it is used as a block; `graph`, `graph_1`, ... if omitted.

    Attributes:
        plan: the compiled graph: one `Step` per node, over numbered value slots.

    Raises:
        GraphError: an output needs an input that is not given, an input reaches no
            output, an input is not an `Input`, or names repeat.
    """

    def __init__(self, inputs: Structure, outputs: Structure, *, name: str | None = None) -> None:
        super().__init__()
        if name is not None:
            self.__dict__["_plait_name"] = name
        in_names, in_tensors, _ = names_and_tensors(inputs, "inputs")
        out_names, out_tensors, self._output_kind = names_and_tensors(outputs, "outputs")
        check_inputs(in_names, in_tensors)
        nodes = reachable_nodes(in_tensors, out_tensors, out_names)
        nodes = topological_order(sorted(nodes, key=lambda n: n.id),
                                  lambda n: [t.node for t in n.inbound if t.node is not None])
        self.input_names = in_names
        self.output_names = out_names
        self.input_specs = {n: t.spec for n, t in zip(in_names, in_tensors)}
        self.output_specs = {n: t.spec for n, t in zip(out_names, out_tensors)}
        self.blocks = nn.ModuleDict(named_modules(nodes))
        self._input_checks = [InputCheck.of(n, s) for n, s in self.input_specs.items()]
        self.plan = Plan(in_tensors, out_tensors, nodes)

    def train(self, mode: bool = True) -> Graph:
        super().train(mode)
        if mode:  # frozen modules, also inside other blocks, run as in inference
            for module in self.modules():
                if is_frozen(module):
                    module.eval()
        return self

    @property
    def nodes(self) -> list[Node]:
        """The nodes, in the order `forward` runs them."""
        return [step.node for step in self.plan.steps]

    def nodes_feeding_every_output(self) -> list[Node]:
        """The nodes that every output depends on, in order: the trunk the outputs share."""
        return [self.plan.steps[i].node for i in self.plan.shared_steps()]

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Run the graph on tensors given positionally, as a list, or keyed by input name.

        Returns:
            The outputs in the structure they were declared in: one tensor, a list or a dict.
        """
        values: list[Any] = self._bind(args, kwargs)
        values.extend([None] * (len(self.plan.specs) - len(values)))
        take = values.__getitem__  # gathers a step's inputs with no comprehension per step
        for step in self.plan.steps:
            if step.style == POSITIONAL:
                out = step.block(*map(take, step.reads))
            elif step.style == LIST:
                out = step.block([*map(take, step.reads)])
            else:
                out = step.node.arguments.call(step.block, map(take, step.reads))
            if step.returns_tensor:
                values[step.writes[0]] = out
            else:
                for i, value in zip(step.writes, pytree.tree_leaves(out)):
                    values[i] = value
        outputs = self.plan.output_slots
        if self._output_kind == "single":
            return values[outputs[0]]
        if self._output_kind == "list":
            return [values[i] for i in outputs]
        return {name: values[i] for name, i in zip(self.output_names, outputs)}

    def _bind(self, args: tuple, kwargs: dict) -> list[torch.Tensor]:
        """The inputs in declared order, each checked against its spec."""
        if len(args) == 1 and not kwargs and isinstance(args[0], Mapping):
            kwargs, args = dict(args[0]), ()
        elif len(args) == 1 and isinstance(args[0], (list, tuple)) and len(self._input_checks) > 1:
            args = tuple(args[0])
        if kwargs:
            if args:
                raise GraphError(f"graph '{module_name(self)}': give inputs positionally or by name, not both")
            unknown = sorted(set(kwargs) - set(self.input_names))
            missing = [n for n in self.input_names if n not in kwargs]
            if unknown or missing:
                raise GraphError(f"graph '{module_name(self)}' expects inputs {self.input_names}; "
                                 f"received {sorted(kwargs)} (missing {missing}, unknown {unknown})")
            args = tuple(kwargs[n] for n in self.input_names)
        if len(args) != len(self._input_checks):
            raise GraphError(f"graph '{module_name(self)}' expects {len(self._input_checks)} inputs "
                             f"{self.input_names}, received {len(args)}")
        for value, check in zip(args, self._input_checks):
            if not check.accepts(value):
                got = (f"{value.dtype} tensor of shape {_with_batch(value.shape)}"
                       if isinstance(value, torch.Tensor) else type(value).__name__)
                raise GraphError(f"graph '{module_name(self)}': input '{check.name}' expects a "
                                 f"{check.kind} tensor of shape {check.spec}, received {got}")
        return list(args)

    def nodes_of(self, module: nn.Module) -> list[Node]:
        """The nodes at which `module` is called in this graph, in call order."""
        found = [n for n in self.nodes if n.module is module]
        if not found:
            raise GraphError(f"module '{module_name(module)}' is not called in graph '{module_name(self)}'")
        return found

    def output_shape_of(self, module: nn.Module) -> list[tuple[int | None, ...]]:
        """The output shapes of `module`, where every node that calls it agrees on them."""
        return self._agreed(module, "output_shapes")

    def input_shape_of(self, module: nn.Module) -> list[tuple[int | None, ...]]:
        """The input shapes of `module`, where every node that calls it agrees on them."""
        return self._agreed(module, "input_shapes")

    def _agreed(self, module: nn.Module, attr: str) -> list[tuple[int | None, ...]]:
        nodes = self.nodes_of(module)
        shapes = [getattr(n, attr) for n in nodes]
        if any(s != shapes[0] for s in shapes):
            kind = attr.split("_")[0]
            listing = "; ".join(f"{n.name}: {s}" for n, s in zip(nodes, shapes))
            raise GraphError(
                f"module '{module_name(module)}' is called at {len(nodes)} nodes with different "
                f"{kind} shapes ({listing}), so its {kind} shape is ill-defined: pick a node, "
                f"e.g. graph.nodes_of(module)[1].{attr}")
        return shapes[0]

    def get_block(self, name: str) -> nn.Module:
        """The module registered under `name`; `outer.inner` reaches into a nested graph.

        Raises:
            GraphError: no such block; the message lists the block names.
        """
        head, _, rest = name.partition(".")
        if head not in self.blocks:
            raise GraphError(f"graph '{module_name(self)}' has no block '{head}'; blocks are {list(self.blocks)}")
        block = self.blocks[head]
        if not rest:
            return block
        if not isinstance(block, Graph):
            raise GraphError(f"block '{head}' of graph '{module_name(self)}' is a "
                             f"{type(block).__name__}, not a graph, so it has no block '{rest}'")
        return block.get_block(rest)

    def subgraph(self, outputs: str | Sequence[str], inputs: Sequence[str] | None = None,
                 *, name: str | None = None) -> Graph:
        """The part of this graph that computes `outputs`, sharing its modules and weights.

        For feature extraction: `graph.subgraph(["joint_vec"])(batch)["joint_vec"]`.

        Args:
            outputs: a tensor name (the new graph returns a tensor) or a list of them (it
                returns a dict keyed by them): a node's name as `summary()` shows it, a graph
                spec's `nodes:` key, `node[i]` for one of several outputs, or an input.
            inputs: names of inputs or inner tensors to start from; None for the inputs
                that `outputs` need.
            name: the new graph's name.

        Raises:
            GraphError: an unknown name (the known ones are listed), or a needed input missing.
        """
        from plait.graph.subgraph import subgraph

        return subgraph(self, outputs, inputs, name)

    def to_spec(self) -> dict[str, Any]:
        """This graph as the plain-data spec that `plait.spec.build_graph` compiles.

        Blocks become `_target_` configs with their constructor arguments (Keras's
        `get_config`), nested graphs nested specs, calls node lines. `build_graph` of the
        result gives the same blocks, nodes and state dict keys; its outputs are a dict.

        Raises:
            GraphError: a block that cannot be described (a class in `__main__` or inside
                a function, an argument that cannot be recovered or is no plain data, a
                lambda), named with the reason.
        """
        from plait.graph.to_spec import SpecWriter

        return SpecWriter(self).write()

    def summary(self, print_fn: Callable[[str], Any] | None = print) -> str:
        """A table of layers: name, type, output shape, parameters, connected to, calls.

        Args:
            print_fn: where each line goes; None prints nothing.

        Returns:
            The table as text.
        """
        from plait.graph.summary import summary_text

        text = summary_text(self)
        if print_fn is not None:
            for line in text.splitlines():
                print_fn(line)
        return text

    def to_dot(self) -> str:
        """The graph as Graphviz DOT text."""
        from plait.graph.plot import to_dot

        return to_dot(self)

    def to_mermaid(self) -> str:
        """The graph as a Mermaid flowchart."""
        from plait.graph.plot import to_mermaid

        return to_mermaid(self)

    def plot(self, path: str) -> str:
        """Write the graph picture to `path` (.dot, .mmd, or .png where graphviz is installed)."""
        from plait.graph.plot import plot

        return plot(self, path)

