"""The text summary of a graph: one row per input and per module, Keras-style."""

from __future__ import annotations

from typing import TYPE_CHECKING

from plait.graph.node import module_name

if TYPE_CHECKING:
    from plait.graph.graph import Graph

_HEADER = ("Layer (type)", "Output shape", "Param #", "Connected to", "Calls")


def summary_text(graph: Graph) -> str:
    """Rows for inputs and modules; parameters of a shared module are counted once."""
    rows = [(f"{name} (Input)", str(spec), "0", "", "")
            for name, spec in graph.input_specs.items()]
    for name, module in graph.blocks.items():
        nodes = graph.nodes_of(module)
        shapes = {", ".join(str(s) for s in n.output_specs) for n in nodes}
        shape = shapes.pop() if len(shapes) == 1 else "multiple"
        params = sum(p.numel() for p in module.parameters())
        connected = "; ".join(", ".join(n.connected_to) for n in nodes)
        rows.append((f"{name} ({type(module).__name__})", shape, f"{params:,}", connected, str(len(nodes))))
    widths = [max(len(r[i]) for r in (_HEADER, *rows)) for i in range(len(_HEADER))]
    line = "  ".join("-" * w for w in widths)
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    trainable = sum(p.numel() for p in graph.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in graph.parameters() if not p.requires_grad)
    return "\n".join([
        f'Graph "{module_name(graph)}"',
        line, fmt.format(*_HEADER), line,
        *(fmt.format(*r).rstrip() for r in rows),
        line,
        f"Total params: {trainable + frozen:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {frozen:,}",
        f"Outputs: {', '.join(f'{n} {s}' for n, s in graph.output_specs.items())}",
    ])
