"""`RepeatVector`: one vector per sample, repeated at every step of a sequence."""

from __future__ import annotations

import torch

from plait.blocks.base import Block
from plait.blocks.masking import step_mask, zero_padding
from plait.graph import GraphError, TensorSpec


class RepeatVector(Block):
    """Keras' `RepeatVector`: `(B, D)` repeated `n` times, or at every step of a sequence.

    `RepeatVector(n)(vector)` gives `n` steps, as in Keras. `RepeatVector()(vector, steps_of)`
    gives as many steps as `steps_of` has, so it follows a batch's padded length, and puts a
    zero vector at each padded step of `steps_of`: id 0 of `(B, T)` ids, an all-zero step
    of `(B, T, ...)` floats, or where `mask` is False. A masked block after a `Concat` or
    `Add` with that sequence then still finds the padding (see `plait.blocks.masking`);
    that is why `mask_zero` is on by default here, where it is off for the blocks that read
    a sequence. This is how a question reaches every word of a story:
    `Concat()(Embedding(...)(story), RepeatVector()(question_vec, story))` into an
    `LSTMEncoder(mask_zero=True)`.

    The steps share the vector's memory (`expand`, no copy) except where padding is zeroed;
    a module of your own that writes into its input in place needs `.clone()` first.

    Args:
        n: the number of steps; None to take them from `steps_of`.
        mask_zero: whether the padded steps of `steps_of` get zeros.

    Raises:
        ValueError: `n` is not a whole number of at least 1.
        GraphError: the input is not `(B, D)`, or neither or both of `n` and `steps_of`
            are given.

    Shape:
        `(B, D) -> (B, n, D)`, or `(B, D), (B, T, ...) -> (B, T, D)`.
    """

    # No weights: `build` only checks the specs, and `built` stays False so that a block
    # called at several nodes is checked at each (as the merges are).

    def __init__(self, n: int | None = None, *, mask_zero: bool = True) -> None:
        super().__init__()
        if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
            raise ValueError(f"RepeatVector expects n, a whole number of steps >= 1, or None to "
                             f"take them from steps_of; received n={n!r}")
        self.n = n
        self.mask_zero = mask_zero

    def build(self, vector: TensorSpec, steps_of: TensorSpec | None = None,
              mask: TensorSpec | None = None) -> None:
        if len(vector.shape) != 1:
            raise GraphError(f"RepeatVector expects a vector per sample (B, D); received {vector}")
        self._check_steps(steps_of)
        if steps_of is not None and len(steps_of.shape) < 1:
            raise GraphError(f"RepeatVector expects steps_of to be a sequence (B, T, ...); "
                             f"received {steps_of}")

    def _check_steps(self, steps_of: object) -> None:
        if (self.n is None) == (steps_of is None):
            given = "neither" if steps_of is None else f"n={self.n} and steps_of"
            raise GraphError(f"RepeatVector expects either n or a sequence to take the steps "
                             f"of (steps_of, (B, T, ...)); received {given}")

    def forward(self, vector: torch.Tensor, steps_of: torch.Tensor | None = None,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        self._check_steps(steps_of)  # outside a graph nothing has called `build`
        if steps_of is None:
            return vector.unsqueeze(1).expand(-1, self.n, -1)  # (B, D) -> (B, n, D)
        repeated = vector.unsqueeze(1).expand(-1, steps_of.shape[1], -1)  # (B, T, D)
        mask = step_mask(steps_of, mask, self.mask_zero, self)  # (B, T) or None
        return repeated if mask is None else zero_padding(repeated, mask)

    def extra_repr(self) -> str:
        return f"n={self.n}" if self.n is not None else f"mask_zero={self.mask_zero}"
