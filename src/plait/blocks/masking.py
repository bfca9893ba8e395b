"""Padding masks for sequence blocks: where they come from and how a block reads past them.

A mask is a `(B, T)` bool tensor, True at real steps. A block gets it as its `mask`
argument, or, when built with `mask_zero=True` (always, for an `LSTMEncoder` that embeds
ids itself), from its input: id 0, or a float step whose every value is zero, is padding.
The latter is how a mask crosses from block to block inside a graph: an `Embedding` gives
padding (id 0) an exact zero vector, and every masked block zeroes its outputs at padded
steps, so the next masked block finds the same padding again.

A real step is all zeros only by accident: never out of an `Embedding` (a real id's vector
starts random and moves by gradient) nor an LSTM/GRU; possibly after a ReLU that cuts
every channel, or a training-time dropout that drops a whole step (`rate ** size`). The
next masked block then skips that step too. Its result still does not depend on the
padding, since the step's content decides, but where that matters, pass `mask`. The
encoders (`LSTMEncoder`, `GRUEncoder`, `Conv1DEncoder`) read the mask once, at their
input, and carry it through their layers exactly.

A masked block reads the real steps only, in order, as one contiguous sequence: padding
on the left, on the right or between steps makes no difference. It first moves the real
steps to the front (`align_left`), a per-sample gather, so nothing is packed and nothing
leaves the device: the forward compiles without graph breaks.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn


class Aligned(NamedTuple):
    """A sequence with its real steps moved to the front.

    Attributes:
        x: the steps, real ones first in their order: `(B, T, ...)`.
        lengths: real steps per sample: `(B,)`.
        order: `order[b, t]` is the input step now at step t: `(B, T)`.
    """

    x: torch.Tensor
    lengths: torch.Tensor
    order: torch.Tensor


def step_mask(x: torch.Tensor, mask: torch.Tensor | None, mask_zero: bool,
              block: nn.Module) -> torch.Tensor | None:
    """The padding mask a block works with, or None when it reads every step.

    Args:
        x: the block's input, `(B, T)` token ids or `(B, T, ...)` float steps.
        mask: a mask given by the caller; it wins over the other sources.
        mask_zero: whether id 0 / an all-zero step marks padding.
        block: named in the error.

    Raises:
        ValueError: `mask` is not `(B, T)` for this input.

    Shape:
        `(B, T, ...) -> (B, T)` bool, True at real steps.
    """
    if mask is not None:
        if mask.shape != x.shape[:2]:
            raise ValueError(f"{type(block).__name__} expects a mask (B, T) = {tuple(x.shape[:2])} "
                             f"for its input {tuple(x.shape)}; received {tuple(mask.shape)}")
        return mask.bool()
    if not mask_zero:
        return None
    if x.dim() == 2:
        return x != 0  # (B, T) ids: id 0 is padding
    return x.flatten(2).ne(0).any(-1)  # (B, T, ...) -> (B, T): an all-zero step is padding


def align_left(x: torch.Tensor, mask: torch.Tensor) -> Aligned:
    """Move each sample's real steps to the front, keeping their order.

    A stable sort of the padding flags gives each sample's order, so the result of a block
    that reads `x[:, :length]` cannot depend on where the padding was.

    Shape:
        `(B, T, ...), (B, T) -> Aligned((B, T, ...), (B,), (B, T))`
    """
    order = torch.argsort((~mask).to(torch.int32), dim=1, stable=True)  # (B, T)
    return Aligned(gather_steps(x, order), mask.sum(1), order)


def restore_steps(y: torch.Tensor, order: torch.Tensor) -> torch.Tensor:
    """Undo `align_left`: put step t of `y` back at input step `order[:, t]`.

    Shape:
        `(B, T, ...), (B, T) -> (B, T, ...)`
    """
    index = order.view(*order.shape, *[1] * (y.dim() - 2)).expand_as(y)
    return torch.empty_like(y).scatter(1, index, y)


def gather_steps(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """`x[b, index[b, s]]` for every sample and step.

    Shape:
        `(B, T, ...), (B, S) -> (B, S, ...)`
    """
    index = index.view(*index.shape, *[1] * (x.dim() - 2))
    return x.gather(1, index.expand(*index.shape[:2], *x.shape[2:]))


def prefix_mask(lengths: torch.Tensor, steps: int) -> torch.Tensor:
    """True at the first `lengths[b]` steps of each sample.

    Shape:
        `(B,) -> (B, steps)`
    """
    return torch.arange(steps, device=lengths.device) < lengths.unsqueeze(1)


def zero_padding(y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """`y` with padded steps (or samples) set to exact zeros, so the next masked block
    finds them. `where`, not a product: a padded `-inf` or NaN becomes 0 too.

    Shape:
        `(B, T, ...), (B, T) -> (B, T, ...)`, or `(B, ...), (B,) -> (B, ...)`
    """
    keep = mask.view(*mask.shape, *[1] * (y.dim() - mask.dim()))
    return torch.where(keep, y, torch.zeros((), dtype=y.dtype, device=y.device))
