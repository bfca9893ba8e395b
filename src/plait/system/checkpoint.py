"""Checkpoints that describe themselves: the graph spec travels with the weights."""

from __future__ import annotations

from pathlib import Path

import torch

from plait.spec import SpecError
from plait.system.module import GraphSystem


def load_checkpoint(path: str | Path) -> GraphSystem:
    """Rebuild a trained system from its checkpoint alone, loading with `weights_only=True`.

    Raises:
        SpecError: the file is missing or is not a plait checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"ckpt_path: no checkpoint file at '{path}'")
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    if "plait" not in checkpoint:
        raise SpecError(f"ckpt_path: '{path}' is not a plait checkpoint (it has no 'plait' entry "
                        f"with the graph spec; keys: {sorted(checkpoint)})")
    meta = checkpoint["plait"]
    system = GraphSystem(meta["spec"], loss_balancing=meta.get("loss_balancing", "fixed"))
    system.load_state_dict(checkpoint["state_dict"])
    return system.eval()
