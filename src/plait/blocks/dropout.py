"""`Dropout`: zero a random fraction of the features while training."""

from __future__ import annotations

import torch
from torch.nn import functional as F

from plait.blocks.base import Block


class Dropout(Block):
    """Keras' `Dropout`: while training, zero each element with probability `rate`.

    Kept elements are scaled by `1 / (1 - rate)`; in eval mode it is the identity.

    Args:
        rate: the fraction to drop, in [0, 1).

    Shape:
        `(B, ...) -> (B, ...)`
    """

    built = True

    def __init__(self, rate: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout rate must be in [0, 1); received {rate}")
        self.rate = rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.dropout(x, self.rate, self.training)  # (B, ...) -> (B, ...)

    def extra_repr(self) -> str:
        return f"rate={self.rate}"
