"""Lightning callbacks that plait adds to a run."""

from plait.callbacks.checkpoint import ModelCheckpoint
from plait.callbacks.epoch_line import EpochLine
from plait.callbacks.resume import RandomState, SaveOnInterrupt, last_checkpoint

__all__ = ["EpochLine", "ModelCheckpoint", "RandomState", "SaveOnInterrupt", "last_checkpoint"]
