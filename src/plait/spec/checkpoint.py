"""`_checkpoint_` in a spec: a block started from the weights of the same-named block in
another run's checkpoint, and the spec a run's own checkpoint keeps without those keys."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from plait.spec.errors import SpecError


def load_block_state(block: nn.Module, path: str, source: str, where: str) -> None:
    """Load the weights stored under `blocks.<source>.` in a checkpoint into `block`.

    Works on a plait checkpoint (Lightning's, with `state_dict`) and on a bare state dict
    of a `Graph`; where a block appears at several depths, the outermost copy is taken.

    Raises:
        SpecError: the file is missing, holds no such block, or its weights do not fit.
    """
    if not Path(path).is_file():
        raise SpecError(f"{where}._checkpoint_: no checkpoint file at '{path}'")
    state = torch.load(path, map_location="cpu", weights_only=True)
    state = state.get("state_dict", state)
    marker = f"blocks.{source}."
    prefixes = sorted({k[: k.index(marker)] for k in state if marker in k}, key=len)
    if not prefixes:
        found = sorted({k.split("blocks.", 1)[1].split(".", 1)[0] for k in state if "blocks." in k})
        raise SpecError(f"{where}._checkpoint_: '{path}' holds no block '{source}'; it holds {found}")
    start = prefixes[0] + marker
    picked = {k[len(start):]: v for k, v in state.items() if k.startswith(start)}
    try:
        block.load_state_dict(picked)
    except RuntimeError as err:
        raise SpecError(f"{where}._checkpoint_: the weights of block '{source}' in '{path}' do not fit: {err}") from None


def without_init_checkpoints(spec: Any) -> Any:
    """The spec with its `_checkpoint_` keys removed: what a run's own checkpoint describes,
    since it holds every weight itself."""
    if isinstance(spec, Mapping):
        return {k: without_init_checkpoints(v) for k, v in spec.items()
                if k not in ("_checkpoint_", "_checkpoint_block_")}
    if isinstance(spec, list):
        return [without_init_checkpoints(v) for v in spec]
    return spec
