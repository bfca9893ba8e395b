"""torch.export: an `ExportedProgram` saved as `.pt2`, run back with `torch.export.load`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from plait.export.quiet import quiet
from plait.export.recurrent import recurrent_as_while_loops
from plait.export.serving import ServingModule


def write_torch_export(module: ServingModule, inputs: Mapping[str, Tensor], dynamic: Any,
                       path: Path) -> None:
    """Export `module` with `torch.export` and save the program to `path` (`.pt2`).

    The program is called with the inputs as keywords and returns a dict of outputs.
    """
    with quiet(), recurrent_as_while_loops():
        program = torch.export.export(module, (), kwargs=dict(inputs), dynamic_shapes=dynamic,
                                      strict=False)
    torch.export.save(program, str(path))


def run_torch_export(path: Path, inputs: Mapping[str, Tensor]) -> dict[str, np.ndarray]:
    """The outputs of the program saved at `path`, loaded with `torch.export.load`."""
    with quiet():
        program = torch.export.load(str(path))
    with torch.no_grad():
        outputs = program.module()(**inputs)
    return {name: value.numpy() for name, value in outputs.items()}
