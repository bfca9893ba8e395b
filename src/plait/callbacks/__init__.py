"""Lightning callbacks that plait adds to a run."""

from plait.callbacks.epoch_line import EpochLine
from plait.callbacks.resume import RandomState, SaveOnInterrupt, last_checkpoint

__all__ = ["EpochLine", "RandomState", "SaveOnInterrupt", "last_checkpoint"]
