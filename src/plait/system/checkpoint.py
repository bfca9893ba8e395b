"""Checkpoints that describe themselves: the graph spec travels with the weights."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from plait.spec.errors import UnknownTarget
from plait.system.module import GraphSystem


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: missing, unreadable, or of another model."""


def read_checkpoint(path: str | Path, key: str = "ckpt_path") -> dict[str, Any]:
    """A checkpoint's contents, loaded with `weights_only=True`, tensors memory-mapped.

    Args:
        path: the checkpoint file.
        key: the config key or argument that named it, for messages.

    Raises:
        CheckpointError: naming `key` and the file: missing, or not a readable checkpoint
            (truncated, corrupt, or not a torch file).
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{key}: no checkpoint file at '{path}'")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{key}: '{path}' is empty (0 bytes), not a checkpoint")
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception:  # torch raises RuntimeError, EOFError, UnpicklingError, ...
        pass
    try:  # without mmap: an old-format file loads, and a broken one says what is wrong
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise CheckpointError(f"{key}: '{path}' is not a readable checkpoint (truncated or "
                              f"corrupt?): {(str(err).strip().splitlines() or [type(err).__name__])[0]}") from None


def check_weights_match(system: GraphSystem, checkpoint: Mapping[str, Any], path: str | Path,
                        key: str = "ckpt_path") -> None:
    """Check a checkpoint holds exactly the weights of `system`'s graph, shape for shape.

    Raises:
        CheckpointError: naming the file and the blocks that differ (missing, unexpected,
            or of another shape).
    """
    theirs = {k: tuple(v.shape) for k, v in checkpoint.get("state_dict", {}).items()}
    ours = {k: tuple(v.shape) for k, v in system.state_dict().items()}
    if theirs == ours:
        return
    problems = []
    for label, keys in (("missing from the checkpoint", ours.keys() - theirs.keys()),
                        ("not in this model", theirs.keys() - ours.keys()),
                        ("of another shape", {k for k in ours.keys() & theirs.keys() if ours[k] != theirs[k]})):
        if keys:
            problems.append(f"{label}: {sorted({_block_of(k) for k in keys})}")
    raise CheckpointError(f"{key}: '{path}' is a checkpoint of another model; blocks "
                          f"{'; '.join(problems)}")


def check_groups_match(system: GraphSystem, checkpoint: Mapping[str, Any], path: str | Path,
                       key: str = "ckpt_path") -> None:
    """Check a checkpoint's optimizer state was saved with `system`'s parameter groups: torch
    restores it group by group, by position, so other groups would get other blocks' state.

    Raises:
        CheckpointError: naming the file and both runs' `model.param_groups`.
    """
    if not checkpoint.get("optimizer_states"):
        return
    theirs = list((checkpoint.get("plait") or {}).get("param_groups", [""]))  # one group before
    ours = list(system.param_group_names)
    if theirs != ours:
        raise CheckpointError(f"{key}: '{path}' was trained with model.param_groups for "
                              f"{_named(theirs)}, this run has them for {_named(ours)}: its "
                              f"optimizer state would go to other parameters. Resume with the "
                              f"same param_groups, or start a new run from its weights "
                              f"(`_checkpoint_` on a block)")


def _named(groups: list[str]) -> str:
    """The blocks of named parameter groups, `[]` for none (the unnamed group is `""`)."""
    return str([name for name in groups if name])


def _block_of(weight: str) -> str:
    """`graph.blocks.vision.stages.0.weight` -> `vision`; other weights keep their first two parts."""
    parts = weight.split(".")
    if parts[:2] == ["graph", "blocks"] and len(parts) > 2:
        return parts[2]
    return ".".join(parts[:2])


def load_checkpoint(path: str | Path, *, key: str = "path") -> GraphSystem:
    """Rebuild a trained system from its checkpoint alone, loading with `weights_only=True`.

    Args:
        path: the checkpoint file.
        key: the argument or config key that named it, for messages.

    Raises:
        CheckpointError: the file is missing, unreadable, or not a plait checkpoint.
    """
    checkpoint = read_checkpoint(path, key)
    if "plait" not in checkpoint:
        raise CheckpointError(f"{key}: '{path}' is not a plait checkpoint (it has no "
                              f"'plait' entry with the graph spec; keys: {sorted(checkpoint)})")
    meta = checkpoint["plait"]
    try:
        system = GraphSystem(meta["spec"], loss_balancing=meta.get("loss_balancing", "fixed"))
    except UnknownTarget as err:
        raise CheckpointError(f"{key}: '{path}' holds a graph whose blocks do not import here: {err}. A "
                              "block class of your own must import where the checkpoint loads: its package "
                              "installed, or its folder on PYTHONPATH") from None
    system.load_state_dict(checkpoint["state_dict"])
    return system.eval()

