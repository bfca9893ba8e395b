"""Lightning callbacks that plait adds to a run."""

from plait.callbacks.epoch_line import EpochLine

__all__ = ["EpochLine"]
