"""A trained graph out of plait: ONNX for onnxruntime, or a `torch.export` program (`.pt2`).

`export(model, path, format=...)` writes the file and checks it against the eager model.
The ONNX packages are an optional extra (`pip install 'plait[onnx]'`), imported only for
`format="onnx"`; this package imports torch alone.
"""

from plait.export.api import ATOL, ROWS, RTOL, ExportReport, export
from plait.export.errors import ExportError, ExportMismatch
from plait.export.output import FORMATS
from plait.export.serving import ServingModule, serving_module

__all__ = ["ATOL", "FORMATS", "ROWS", "RTOL", "ExportError", "ExportMismatch", "ExportReport",
           "ServingModule", "export", "serving_module"]
