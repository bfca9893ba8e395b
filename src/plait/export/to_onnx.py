"""ONNX: written by torch's dynamo exporter, run back with onnxruntime.

The packages are an optional extra (`pip install 'plait[onnx]'`); they are imported only here.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from plait.export.errors import ExportError
from plait.export.quiet import quiet
from plait.export.recurrent import fresh_recurrent_ops
from plait.export.serving import ServingModule

PACKAGES = ("onnx", "onnxscript", "onnxruntime")
EXTRA = "pip install 'plait[onnx]'"
# Weights above this go to a `.data` file beside the model: one protobuf holds at most 2 GiB.
EXTERNAL_DATA_BYTES = 1 << 30


def require_onnx() -> None:
    """Raise an `ExportError` naming the extra to install unless every ONNX package imports."""
    missing = []
    for name in PACKAGES:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise ExportError(f"format=onnx needs the packages {list(PACKAGES)}, and {missing} "
                          f"{'is' if len(missing) == 1 else 'are'} not installed: {EXTRA}")


def write_onnx(module: ServingModule, inputs: Mapping[str, Tensor], dynamic: Any, path: Path) -> None:
    """Trace `module` on `inputs` and write it to `path`, inputs and outputs named as the graph's.

    Args:
        module: the model to write.
        inputs: example inputs by name (their values do not matter, only dtypes and ranks).
        dynamic: `dynamic_shapes` for `torch.export` (keyword inputs).
        path: the `.onnx` file.
    """
    size = sum(p.numel() * p.element_size() for p in module.parameters())
    with quiet(), fresh_recurrent_ops():  # kept whole: ONNX has LSTM and GRU
        torch.onnx.export(
            module, (), str(path), kwargs=dict(inputs), dynamo=True,
            input_names=list(module.model.input_names), output_names=list(module.model.output_names),
            dynamic_shapes=dynamic, external_data=size > EXTERNAL_DATA_BYTES,
            custom_translation_table={torch.ops.aten.sort.stable: _stable_sort})


def _stable_sort(self: Any, stable: bool | None = None, dim: int = -1,
                 descending: bool = False) -> tuple[Any, Any]:
    """`aten.sort.stable` (which torch's ONNX library lacks; masked sequence blocks sort their
    padding to the end) as ONNX `TopK` over the whole dimension: TopK breaks ties by the lower
    index, which is what a stable sort does."""
    from onnxscript import opset18 as op

    size = op.Reshape(op.Gather(op.Shape(self), dim, axis=0), op.Constant(value_ints=[1]))
    values, indices = op.TopK(self, size, axis=dim, largest=descending, sorted=True)
    return values, indices


def run_onnx(path: Path, inputs: Mapping[str, Tensor]) -> dict[str, np.ndarray]:
    """The outputs of the ONNX file at `path` under onnxruntime (CPU), by output name.

    Raises:
        ExportError: the file's input names are not those of `inputs`.
    """
    import onnxruntime as ort

    with quiet():
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    if sorted(names) != sorted(inputs):
        raise ExportError(f"{path}: the ONNX file has inputs {names}, the model {list(inputs)}")
    feeds = {name: value.numpy() for name, value in inputs.items()}
    outputs = session.run(None, feeds)
    return {o.name: value for o, value in zip(session.get_outputs(), outputs)}
