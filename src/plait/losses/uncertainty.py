"""Uncertainty weighting: Kendall, Gal and Cipolla, "Multi-Task Learning Using Uncertainty to
Weigh Losses for Scene Geometry and Semantics", CVPR 2018."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from plait.losses.balancer import LossBalancer


class UncertaintyWeighting(LossBalancer):
    """Learned homoscedastic uncertainty per output: total = sum_i exp(-s_i) * L_i + s_i.

    `s_i = log sigma_i^2` is a parameter trained with the model. For a fixed loss L_i the
    total is smallest at s_i = log L_i, so an output's weight exp(-s_i) settles near
    1 / L_i: noisy outputs are weighted down, precise ones up.

    The paper writes regression terms as 1/(2 sigma^2) L + log sigma, which is half of
    the form above; one form for every output is used here, as in most implementations,
    so a classification and a regression output are treated alike. Note the total can be
    negative and is not comparable with a fixed-weight total; compare per-output losses.

    Args:
        output_names: the outputs, in order.
        weights: initial weights: s_i starts at -log(w_i), so 1.0 (the default) starts
            at s_i = 0.
    """

    def __init__(self, output_names: Sequence[str], weights: Sequence[float] | None = None) -> None:
        super().__init__(output_names, weights)
        self.log_vars = nn.Parameter(torch.tensor([-math.log(w) for w in self.initial_weights]))

    def combine(self, losses: Mapping[str, Tensor],
                shared_params: Sequence[Tensor] | None = None) -> Tensor:
        log_vars = self.log_vars
        return (torch.exp(-log_vars) * self.stack(losses) + log_vars).sum()

    def weight_vector(self) -> Tensor:
        return torch.exp(-self.log_vars.detach())
