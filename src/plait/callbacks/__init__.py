"""Lightning callbacks that plait adds to a run."""

from plait.callbacks.checkpoint import CheckpointWeights, ModelCheckpoint
from plait.callbacks.epoch_line import EpochLine
from plait.callbacks.resume import RandomState, SaveOnInterrupt, last_checkpoint

__all__ = ["CheckpointWeights", "EpochLine", "ModelCheckpoint", "RandomState", "SaveOnInterrupt",
           "last_checkpoint"]
