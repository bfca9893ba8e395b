"""The Lightning side of plait: one LightningModule for every graph, and its checkpoints."""

from plait.system.checkpoint import load_checkpoint
from plait.system.module import GraphSystem

__all__ = ["GraphSystem", "load_checkpoint"]
