"""Graph inputs read as ids by an embedding, checked on the CPU before a batch moves.

An id outside the table stops a GPU in a device-side assert and a CPU in an `IndexError`,
neither naming the input nor the id: new data tokenized with another vocabulary meets it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from plait.blocks import Embedding
from plait.graph import Graph, GraphError, module_name
from plait.graph.arguments import LIST, POSITIONAL
from plait.losses.named import wrong_values


def id_inputs(graph: Graph) -> dict[str, list[tuple[str, int]]]:
    """Input name -> `(block name, table size)` of each embedding that reads it as it is,
    itself or as the input of a nested graph (a shared encoder)."""
    found: dict[str, list[tuple[str, int]]] = {}
    inputs = graph.input_names
    for step in graph.plan.steps:
        block = step.block
        table = block.embedding if isinstance(block, Embedding) else block if isinstance(block, nn.Embedding) else None
        if table is not None:
            readers = {0: [(module_name(block), table.num_embeddings)]}
        elif isinstance(block, Graph) and step.style in (POSITIONAL, LIST):  # its inputs in order
            inner = id_inputs(block)
            readers = {i: inner[name] for i, name in enumerate(block.input_names) if name in inner}
        else:
            continue
        for position, tables in readers.items():
            if position < len(step.reads) and step.reads[position] < len(inputs):  # a graph input's slot
                found.setdefault(inputs[step.reads[position]], []).extend(tables)
    return found


def check_ids(batch: Any, tables: Mapping[str, list[tuple[str, int]]]) -> None:
    """Every id an embedding reads from the batch's inputs lies in its table.

    Raises:
        GraphError: naming the input, the block, its table's size and the ids outside it.
    """
    if not isinstance(batch, Mapping):
        return
    for name, readers in tables.items():
        ids = batch.get(name)
        if not isinstance(ids, Tensor) or not ids.numel() or ids.is_floating_point():
            continue
        smallest, largest = torch.aminmax(ids)
        for block, size in readers:
            if smallest >= 0 and largest < size:
                continue
            raise GraphError(f"input {name!r}: block {block!r} looks up ids 0 to {size - 1} (a table of "
                             f"{size}), received {wrong_values(ids[(ids < 0) | (ids >= size)], ids.numel())}: "
                             "ids from another vocabulary, or a table too small for this data")
