"""`plait.export(model, path, format=...)`: write a trained graph as one file, then check it."""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from plait.export.check import compare
from plait.export.errors import ExportError, ExportMismatch
from plait.export.inputs import as_inputs, at_least_two_rows, dynamic_axes, dynamic_shapes, longer
from plait.export.output import output_format, staged
from plait.export.quiet import quiet
from plait.export.serving import ServingModule, exportable, serving_module
from plait.graph import Graph

RUNTIMES = {"onnx": "onnxruntime", "torch_export": "torch.export.load"}
ATOL = 1e-4
RTOL = 1e-4
ROWS = 16

Inputs = dict[str, Tensor]
Runner = Callable[[Path, Mapping[str, Tensor]], dict[str, np.ndarray]]


@dataclass
class ExportReport:
    """What `export` wrote and how it was checked.

    Attributes:
        path: the file written.
        format: `onnx` or `torch_export`.
        inputs: input name -> shape, dynamic dimensions by name (`('batch', 'question_1')`).
        outputs: output name -> the activation applied (`softmax`, `sigmoid`, `identity`).
        checks: one line per check: the runtime, the inputs, the largest difference.
        max_difference: the largest |exported - eager| over every check.
    """

    path: Path
    format: str
    inputs: dict[str, tuple[int | str, ...]]
    outputs: dict[str, str]
    checks: list[str] = field(default_factory=list)
    max_difference: float = 0.0

    def __str__(self) -> str:
        inputs = ", ".join(f"{n} {s}" for n, s in self.inputs.items())
        outputs = ", ".join(f"{n} ({a})" for n, a in self.outputs.items())
        lines = [f"{self.format}: wrote {self.path}", f"  inputs:  {inputs}", f"  outputs: {outputs}"]
        return "\n".join(lines + [f"  checked: {c}" for c in self.checks])


def export(model: Any, path: str | os.PathLike[str], *, format: str | None = None,
           activation: bool = True, sample: Any = None, rows: int = ROWS,
           atol: float = ATOL, rtol: float = RTOL, sample_name: str = "the sample") -> ExportReport:
    """Write `model`'s graph to `path` as ONNX or a `torch.export` program, then check it.

    Inputs and outputs keep the graph's names; the batch dimension and every `None`
    dimension of an input (a sequence's length) are dynamic. After writing, the file is
    run (onnxruntime, or `torch.export.load`) on the first `rows` rows of `sample`, and on
    them again with every dynamic dimension 5 steps longer (padded with zeros), and compared
    with the eager model value by value; an eager output that holds NaN fails the check.
    The file appears at `path` only if every check passes: it is written under a temporary
    name beside `path`, then renamed, replacing a file of the same suffix already there.

    Args:
        model: a `GraphSystem`, a plait `Graph` (with `activation=False`) or a checkpoint path.
        path: the file to write: `.onnx` for `onnx`, `.pt2` for `torch_export`; not a
            folder, nor the checkpoint `model` names.
        format: `onnx` or `torch_export`; None: from the suffix of `path`.
        activation: apply each output's activation (softmax, sigmoid), as `predict` does;
            False writes the logits.
        sample: real inputs to check on, arrays or tensors as `predict` takes them: a dict by
            input name, a list in input order, or one; random inputs if None.
        rows: how many rows of `sample` to check on, at least 1.
        atol: the check's absolute tolerance.
        rtol: the check's tolerance relative to the eager value.
        sample_name: what `sample` is, for the report (`the test split of ...`).

    Returns:
        What was written and how it was checked; `str()` of it is a short report.

    Raises:
        ExportError: an unknown format, a `path` whose suffix is not the format's (or is a
            folder, or the checkpoint exported), the ONNX packages missing (naming the extra),
            a graph the exporter cannot trace, a sample without an input, `rows` < 1, an
            eager output that holds NaN on the inputs checked.
        ExportMismatch: the file's outputs differ from the eager model's beyond the tolerance.
    """
    path = Path(path)
    fmt = output_format(path, format, source=model if isinstance(model, (str, Path)) else None)
    write, run = _backend(fmt)
    target = exportable(model, activation)
    with quiet():  # copying a graph copies torch's pytree specs, which warn
        graph = copy.deepcopy(target.graph).cpu().eval()  # the caller's model stays as it is
    module = serving_module(graph, target.activations)
    inputs = as_inputs(graph, sample, rows)
    report = ExportReport(path, fmt, _shapes(graph),
                          {n: target.activations.get(n, "identity") for n in graph.output_names})
    # Written and checked under a temporary name: a file that fails its check never appears.
    with staged(path) as staging:
        try:
            write(module, at_least_two_rows(inputs), dynamic_shapes(graph), staging)
        except Exception as err:  # torch raises many kinds; its first line says what failed
            raise ExportError(f"format={fmt}: torch could not export the graph: "
                              f"{_summary(err, 2)}") from err
        where = f"{RUNTIMES[fmt]} on {len(next(iter(inputs.values())))} rows of " + (
            sample_name if sample is not None else "random inputs")
        for checked, what in _checks(graph, inputs, where):
            difference = _check(module, run, staging, checked, what, atol, rtol)
            report.checks.append(f"{what}: max |exported - eager| {difference:.2g} "
                                 f"(tolerance {atol:g} + {rtol:g} * |eager|)")
            report.max_difference = max(report.max_difference, difference)
    return report


def _check(module: ServingModule, run: Runner, path: Path, inputs: Inputs, what: str,
           atol: float, rtol: float) -> float:
    """Run the file at `path` on `inputs` and compare it with the eager model.

    Raises:
        ExportMismatch: the file does not run, or its outputs differ beyond the tolerance.
    """
    try:
        outputs = run(path, inputs)
    except Exception as err:  # a file that does not run is as wrong as one that differs
        raise ExportMismatch(f"{what}: the exported file does not run: {_summary(err, 3)}") from err
    return compare(_eager(module, inputs), outputs, atol=atol, rtol=rtol, where=what)


def _backend(fmt: str) -> tuple[Callable[..., None], Runner]:
    """The writer and the runner of a format; ONNX's packages are imported only for ONNX."""
    if fmt == "onnx":
        from plait.export.to_onnx import require_onnx, run_onnx, write_onnx

        require_onnx()
        return write_onnx, run_onnx
    from plait.export.to_torch_export import run_torch_export, write_torch_export

    return write_torch_export, run_torch_export


def _checks(graph: Graph, inputs: Inputs, where: str) -> list[tuple[Inputs, str]]:
    """The inputs to check on: as given, and longer where a dimension is a sequence's."""
    checks = [(inputs, where)]
    if any(axis > 0 for axes in dynamic_axes(graph).values() for axis in axes):
        checks.append((longer(graph, inputs), f"{where}, {', '.join(_sequence_dims(graph))} "
                                              "5 steps longer"))
    return checks


def _sequence_dims(graph: Graph) -> list[str]:
    return [name for axes in dynamic_axes(graph).values() for axis, name in axes.items() if axis > 0]


@torch.no_grad()
def _eager(module: ServingModule, inputs: Inputs) -> dict[str, np.ndarray]:
    return {name: value.numpy() for name, value in module(**inputs).items()}


def _shapes(graph: Graph) -> dict[str, tuple[int | str, ...]]:
    """Each input's shape with its dynamic dimensions by name."""
    axes = dynamic_axes(graph)
    return {name: tuple(axes[name].get(i, size) for i, size in enumerate((None, *spec.shape)))
            for name, spec in graph.input_specs.items()}


def _summary(err: BaseException, lines: int = 1) -> str:
    """An error's first `lines` lines as one, without terminal colours. torch's ONNX exporter
    puts the cause of a failed export under `## Exception summary`: that line is taken."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(err)).strip()
    if "## Exception summary" in text:
        text = text.split("## Exception summary", 1)[1].strip()
    kept = [" ".join(line.split()) for line in text.splitlines() if line.strip()][:lines]
    return " ".join(kept) or type(err).__name__
