"""`TimeDistributed`: one module applied to every step of a sequence."""

from __future__ import annotations

from typing import Any

import torch
import torch.utils._pytree as pytree
from torch import nn

from plait.blocks.base import Block
from plait.blocks.masking import step_mask, zero_padding
from plait.graph import TensorSpec


class TimeDistributed(Block):
    """Keras' `TimeDistributed`: run `module` on each step, with the steps folded into the batch.

    `module` may be a block, a plain torch module or a plait `Graph`, returning one tensor
    or a tuple, list or dict of them. Its weights are shared by all steps. A lazy module is
    built from the specs with the step dimension removed.

    With `mask_zero`, a step whose first tensor argument is all zeros is padding, and
    every output there is zeroed: a `Dense` with a bias would otherwise turn padding into
    a real-looking step, and the next masked block would read it.

    Args:
        module: the module applied to each step.
        mask_zero: zero the outputs at all-zero (padded) input steps.

    Shape:
        `(B, T, *S) -> (B, T, *S')` where `module` maps `(N, *S) -> (N, *S')`.
    """

    def __init__(self, module: nn.Module, *, mask_zero: bool = False) -> None:
        super().__init__()
        self.module = module
        self.mask_zero = mask_zero

    def build(self, *specs: Any, **spec_kwargs: Any) -> None:
        if getattr(self.module, "built", True) is False:
            def step(spec: TensorSpec) -> TensorSpec:
                if not spec.shape:
                    raise ValueError(f"TimeDistributed expects inputs (B, T, ...); received {spec}")
                return TensorSpec(spec.shape[1:], spec.dtype)

            inner, inner_kwargs = pytree.tree_map_only(TensorSpec, step, (specs, spec_kwargs))
            self.module.build(*inner, **inner_kwargs)
        self.built = True

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        first = next(x for x in pytree.tree_leaves((args, kwargs)) if isinstance(x, torch.Tensor))
        batch, steps = first.shape[0], first.shape[1]
        mask = step_mask(first, None, self.mask_zero, self)  # (B, T) or None
        args, kwargs = pytree.tree_map_only(
            torch.Tensor, lambda x: x.flatten(0, 1), (args, kwargs))  # (B, T, ...) -> (B*T, ...)
        out = self.module(*args, **kwargs)
        out = pytree.tree_map_only(
            torch.Tensor, lambda y: y.unflatten(0, (batch, steps)), out)  # (B*T, ...) -> (B, T, ...)
        if mask is None:
            return out
        return pytree.tree_map_only(torch.Tensor, lambda y: zero_padding(y, mask), out)
