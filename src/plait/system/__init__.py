"""The Lightning side of plait: one LightningModule for every graph, and its checkpoints."""

from plait.system.checkpoint import (
    CheckpointError,
    check_groups_match,
    check_weights_match,
    load_checkpoint,
    read_checkpoint,
)
from plait.system.module import GraphSystem

__all__ = ["CheckpointError", "GraphSystem", "check_groups_match", "check_weights_match",
           "load_checkpoint", "read_checkpoint"]
