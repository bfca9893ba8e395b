"""`Flatten`: every dimension but the batch into one."""

from __future__ import annotations

import torch

from plait.blocks.base import Block


class Flatten(Block):
    """Keras' `Flatten`: keeps the batch, joins the rest.

    Shape:
        `(B, d1, d2, ...) -> (B, d1 * d2 * ...)`
    """

    built = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)  # (B, ...) -> (B, prod(...))
