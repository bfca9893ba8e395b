"""The inputs an export is traced and checked with, and which of their dimensions stay dynamic.

Every input's batch dimension is one dynamic dimension, `batch`, shared by all inputs; every
`None` in an input's shape (a sequence's length) is its own, `<input>_<axis>`. An ONNX file
shows these names as its dimension parameters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn
from torch.export import Dim

from plait.export.errors import ExportError
from plait.graph import Graph

BATCH = "batch"
# Random ids stay below this when the graph embeds none (an id is then any small integer).
DEFAULT_IDS = 2
# Zero steps added to every dynamic dimension for the second check: a length never traced.
EXTRA_STEPS = 5


def dim_name(input_name: str, axis: int) -> str:
    """The name of a dynamic dimension: `question_1` is axis 1 of input `question`."""
    return re.sub(r"\W", "_", f"{input_name}_{axis}")


def dynamic_axes(graph: Graph) -> dict[str, dict[int, str]]:
    """Input name -> {axis: dimension name} for the batch and every `None` dimension."""
    return {name: {0: BATCH, **{axis: dim_name(name, axis)
                                for axis, size in enumerate(spec.shape, start=1) if size is None}}
            for name, spec in graph.input_specs.items()}


def dynamic_shapes(graph: Graph) -> dict[str, dict[int, Dim]]:
    """`dynamic_shapes` for `torch.export` of a `serving_module`: one `Dim` per dimension
    name, so the batch is one dimension across inputs."""
    dims: dict[str, Dim] = {}
    return {name: {axis: dims.setdefault(dim, Dim(dim)) for axis, dim in axes.items()}
            for name, axes in dynamic_axes(graph).items()}


def as_inputs(graph: Graph, sample: Any, rows: int) -> dict[str, Tensor]:
    """The first `rows` rows of `sample` as tensors of the inputs' dtypes, or, without a
    sample, random inputs of the graph's shapes.

    Args:
        graph: the graph whose inputs these are.
        sample: arrays or tensors as `predict` takes them: a dict by input name, a list in
            input order, or one (for a graph of one input); None: random inputs.
        rows: how many rows to keep (or make), at least 1.

    Raises:
        ExportError: `rows` < 1, a sample that does not give every input, or one of no rows.
    """
    # Read as `predict` reads its inputs; imported here, as Lightning loads with plait.system.
    from plait.system.evaluate import is_count, named_arrays

    if not is_count(rows):
        raise ExportError(f"rows: expected an integer >= 1 (the rows to check on), received {rows!r}")
    rows = int(rows)
    if sample is None:
        return random_inputs(graph, rows)
    from plait.system.metrics import as_tensor

    try:
        columns = named_arrays(sample, graph.input_names, "sample", "export")
    except ValueError as err:
        raise ExportError(str(err)) from None
    inputs = {}
    for name, value in columns.items():
        tensor = as_tensor(value, graph.input_specs[name].dtype).detach().cpu()
        if tensor.dim() == 0 or len(tensor) == 0:
            raise ExportError(f"sample: input '{name}' has no rows (shape {tuple(tensor.shape)})")
        inputs[name] = tensor[:rows]
    return inputs


def random_inputs(graph: Graph, rows: int, *, seed: int = 0) -> dict[str, Tensor]:
    """Random inputs of the graph's shapes, `None` dimensions of 8, 9, ... steps; integer
    inputs are ids below every embedding's size, so that any of them can be looked up."""
    generator = torch.Generator().manual_seed(seed)
    ids = min((m.num_embeddings for m in graph.modules() if isinstance(m, nn.Embedding)),
              default=DEFAULT_IDS)
    steps = iter(range(8, 1000))
    inputs = {}
    for name, spec in graph.input_specs.items():
        shape = (rows, *(next(steps) if size is None else size for size in spec.shape))
        if spec.dtype.is_floating_point:
            inputs[name] = torch.randn(shape, generator=generator).to(spec.dtype)
        elif spec.dtype == torch.bool:
            inputs[name] = torch.rand(shape, generator=generator) > 0.5
        else:
            inputs[name] = torch.randint(0, ids, shape, generator=generator, dtype=spec.dtype)
    return inputs


def at_least_two_rows(inputs: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Two rows or more: the exporter would fix a batch of 1 as a constant."""
    return {name: value if len(value) > 1 else value.repeat(2, *[1] * (value.dim() - 1))
            for name, value in inputs.items()}


def longer(graph: Graph, inputs: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """`inputs` with `EXTRA_STEPS` zeros (padding) after every `None` dimension: lengths the
    trace never saw, to check the exported file keeps them dynamic."""
    out = {}
    for name, value in inputs.items():
        for axis in dynamic_axes(graph)[name]:
            if axis > 0:
                pad = list(value.shape)
                pad[axis] = EXTRA_STEPS
                value = torch.cat([value, torch.zeros(pad, dtype=value.dtype)], dim=axis)
        out[name] = value
    return out
