"""`torch.compile` for a graph from a config switch, and what it would break on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from plait.graph import Graph
from plait.spec import SpecError

# torch.compile's arguments a config may set; anything else is refused by name.
COMPILE_KEYS = ("mode", "backend", "fullgraph", "dynamic", "options")


def compile_options(setting: bool | Mapping[str, Any] | None) -> dict[str, Any] | None:
    """`model.compile` as torch.compile's arguments: None when off, {} for `true`.

    Raises:
        SpecError: a key torch.compile does not take, or another kind of value.
    """
    if setting is None or setting is False:
        return None
    if setting is True:
        return {}
    if isinstance(setting, Mapping):
        unknown = sorted(set(setting) - set(COMPILE_KEYS))
        if unknown:
            raise SpecError(f"model.compile.{unknown[0]}: not an argument of torch.compile; "
                             f"it takes {list(COMPILE_KEYS)}")
        return dict(setting)
    raise SpecError(f"model.compile: expected true, false or a mapping of torch.compile "
                     f"arguments, received {setting!r}")


def compile_graph(graph: Graph, options: Mapping[str, Any]) -> None:
    """Compile the graph in place (its state-dict keys stay as they are, so checkpoints do
    not change). Dynamo traces into LSTM/GRU layers instead of breaking the graph there:
    without `allow_rnn` everything after an RNN would run eager."""
    torch._dynamo.config.allow_rnn = True
    graph.compile(**options)


def example_inputs(graph: Graph, batch: int = 2, length: int = 8) -> list[torch.Tensor]:
    """Inputs of the graph's shapes and dtypes: random floats, token id 1 for integers."""
    inputs = []
    for spec in graph.input_specs.values():
        shape = (batch, *(length if d is None else d for d in spec.shape))
        inputs.append(torch.randn(shape, dtype=spec.dtype) if spec.dtype.is_floating_point
                      else torch.ones(shape, dtype=spec.dtype))
    return inputs


def graph_breaks(graph: Graph) -> tuple[int, list[str]]:
    """How many times dynamo would break the graph, and why (traced, not compiled)."""
    torch._dynamo.reset()
    with torch._dynamo.config.patch(allow_rnn=True):
        explained = torch._dynamo.explain(graph.forward)(*example_inputs(graph))
    return explained.graph_break_count, [str(r.reason) for r in explained.break_reasons]
