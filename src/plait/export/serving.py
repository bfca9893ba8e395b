"""The module an export traces: the graph alone, inputs by name, outputs as a named dict."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import Tensor, nn

from plait.export.errors import ExportError
from plait.graph import Graph
from plait.losses import activation_fn


class ServingModule(nn.Module):
    """A graph as a deployed model sees it: one argument per input, a dict of outputs.

    `serving_module` gives it a `forward` whose signature names the graph's inputs.

    Args:
        graph: the plait graph (kept as `model`), in eval mode.
        activations: output name -> `softmax`, `sigmoid` or `identity`, applied to its logits;
            an output not named keeps its logits.

    Shape:
        inputs as the graph's `input_specs`, each with a batch dimension first; outputs as
        its `output_specs`.
    """

    def __init__(self, graph: Graph, activations: Mapping[str, str] | None = None) -> None:
        super().__init__()
        # Not `graph`: an exported program is an fx GraphModule, whose `graph` is its own.
        self.model = graph
        self.activations = dict(activations or {})
        # The functions `GraphSystem.predict` applies, so exported and eager outputs agree.
        self._fns = {name: activation_fn(self.activations.get(name, "identity"))
                     for name in graph.output_names}

    def forward(self, *args: Tensor, **kwargs: Tensor) -> dict[str, Tensor]:
        inputs = {**dict(zip(self.model.input_names, args)), **kwargs}
        out = self.model({name: inputs[name] for name in self.model.input_names})
        if isinstance(out, Mapping):
            values = [out[name] for name in self.model.output_names]
        else:  # a Python graph may return one tensor or a list
            values = list(out) if isinstance(out, (list, tuple)) else [out]
        return {name: self._fns[name](value) for name, value in zip(self.model.output_names, values)}


def serving_module(graph: Graph, activations: Mapping[str, str] | None = None) -> ServingModule:
    """A `ServingModule` whose `forward(<input>, ...)` names the graph's inputs, in eval mode.

    torch.export binds example inputs to parameters by the signature (it cannot bind
    `**inputs`), and the exported program keeps those names as its keywords.

    Raises:
        ExportError: an input name that is not a Python identifier.
    """
    bad = [n for n in graph.input_names if not n.isidentifier() or n == "self"]
    if bad:
        raise ExportError(f"inputs {bad}: an exported model takes its inputs as Python keywords; "
                          "rename them to identifiers (letters, digits, _)")
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    params = [inspect.Parameter(name, kind) for name in ("self", *graph.input_names)]

    def forward(self: ServingModule, *args: Tensor, **kwargs: Tensor) -> dict[str, Tensor]:
        return ServingModule.forward(self, *args, **kwargs)

    forward.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    named = type(ServingModule.__name__, (ServingModule,), {"forward": forward})
    return named(graph, activations).eval()


@dataclass(frozen=True)
class Exportable:
    """What is exported: the graph and each output's activation (as the losses say)."""

    graph: Graph
    activations: dict[str, str]


def exportable(model: Any, activation: bool) -> Exportable:
    """The graph of a `GraphSystem`, a `Graph`, or a checkpoint file, and its activations.

    Args:
        model: a `GraphSystem`, a plait `Graph`, or the path of a plait checkpoint.
        activation: apply each output's activation; False exports logits.

    Raises:
        ExportError: `model` is none of these, or a bare `Graph` with `activation=True`
            (a graph has no losses, so it knows no activations).
        CheckpointError: a path that is not a readable plait checkpoint.
    """
    if isinstance(model, (str, Path)):
        from plait.system import load_checkpoint

        model = load_checkpoint(model, key="model")
    if isinstance(model, Graph):
        if activation:
            raise ExportError("activation=True: a Graph has no losses, so it knows no output "
                              "activations; export the GraphSystem (or its checkpoint), or pass "
                              "activation=False to export logits")
        return Exportable(model, {})
    graph, loss = getattr(model, "graph", None), getattr(model, "loss", None)
    if not isinstance(graph, Graph) or not hasattr(loss, "activations"):
        raise ExportError(f"model: expected a GraphSystem, a plait Graph or a checkpoint path, "
                          f"received {type(model).__name__}")
    return Exportable(graph, dict(loss.activations) if activation else {})
