"""A stage's losses summed over its epoch on the device, for exact means across ranks."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn


class EpochLosses(nn.Module):
    """Each loss (the total first, then every output's) times its batch size, summed, and
    the examples counted: one in-place add a step, no host sync, no logging call.

    Mid-epoch resumption starts the sums afresh (they are not in checkpoints): the epoch's
    means then cover the steps after it.

    Args:
        count: how many losses a step gives.
    """

    def __init__(self, count: int) -> None:
        super().__init__()
        self.register_buffer("sums", torch.zeros(count), persistent=False)
        self.register_buffer("examples", torch.zeros(()), persistent=False)

    def update(self, losses: Tensor, size: int) -> None:
        """Add one step: `losses` `(count,)`, the step's means over `size` examples."""
        self.sums += losses.detach() * size
        self.examples += size

    def means(self, reduce: Callable[[Tensor], Tensor] | None = None) -> Tensor | None:
        """The epoch means, summed over ranks by `reduce` first; None after no step. Resets."""
        totals = torch.cat([self.sums, self.examples[None]])
        if reduce is not None:
            totals = reduce(totals)
        self.sums.zero_()
        self.examples.zero_()
        return totals[:-1] / totals[-1] if totals[-1] > 0 else None
