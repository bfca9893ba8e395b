"""Pictures of a graph: DOT and Mermaid text, and PNG through Graphviz's `dot` where installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from plait.graph.errors import GraphError

if TYPE_CHECKING:
    from plait.graph.graph import Graph


def _edges(graph: Graph) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    """Boxes (id, label) and edges (from, to, shape label), one box per node and input."""
    def source(slot: int) -> str:
        step = graph.plan.producer(slot)
        return f"in_{graph.input_names[slot]}" if step is None else f"n{step}"

    boxes = [(f"in_{name}", f"{name}\\nInput {spec}") for name, spec in graph.input_specs.items()]
    edges = []
    for i, step in enumerate(graph.plan.steps):
        shapes = ", ".join(str(s) for s in step.node.output_specs)
        boxes.append((f"n{i}", f"{step.node.name}\\n{type(step.block).__name__} {shapes}"))
        edges += [(source(s), f"n{i}", str(spec)) for s, spec in zip(step.reads, step.node.input_specs)]
    boxes += [(f"out_{name}", f"{name}\\nOutput {spec}") for name, spec in graph.output_specs.items()]
    edges += [(source(s), f"out_{name}", "") for name, s in zip(graph.output_names, graph.plan.output_slots)]
    return boxes, edges


def to_dot(graph: Graph) -> str:
    """Graphviz DOT text, top to bottom."""
    boxes, edges = _edges(graph)
    lines = ["digraph plait {", "  rankdir=TB;", '  node [shape=box, fontname="Helvetica"];']
    lines += [f'  {i} [label="{label}"];' for i, label in boxes]
    lines += [f'  {a} -> {b} [label="{label}"];' for a, b, label in edges]
    return "\n".join([*lines, "}"]) + "\n"


def to_mermaid(graph: Graph) -> str:
    """A Mermaid flowchart, top to bottom."""
    boxes, edges = _edges(graph)
    lines = ["flowchart TB"]
    lines += [f'  {i}["{label.replace(chr(92) + "n", "<br/>")}"]' for i, label in boxes]
    lines += [f"  {a} -->|{label}| {b}" if label else f"  {a} --> {b}" for a, b, label in edges]
    return "\n".join(lines) + "\n"


def plot(graph: Graph, path: str | Path) -> str:
    """Write the picture; the suffix picks the format: .dot, .mmd, or .png (needs Graphviz).

    Returns:
        The path written.

    Raises:
        GraphError: an unknown suffix, or .png without Graphviz's `dot` on the PATH.
    """
    path = Path(path)
    if path.suffix == ".dot":
        path.write_text(to_dot(graph))
    elif path.suffix == ".mmd":
        path.write_text(to_mermaid(graph))
    elif path.suffix == ".png":
        dot = shutil.which("dot")
        if dot is None:
            raise GraphError(f"cannot write {path}: PNG needs Graphviz's `dot` program "
                             "(apt-get install graphviz); .dot and .mmd need nothing")
        subprocess.run([dot, "-Tpng", "-o", str(path)], input=to_dot(graph), text=True, check=True)
    else:
        raise GraphError(f"cannot write {path}: expected a .dot, .mmd or .png path, received '{path.suffix}'")
    return str(path)
