"""Dynamic Weight Average: Liu, Johns and Davison, "End-to-End Multi-Task Learning with
Attention", CVPR 2019."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor

from plait.losses.balancer import LossBalancer
from plait.losses.errors import LossError


class DynamicWeightAverage(LossBalancer):
    """Weights from how fast each output's loss fell over the last epoch.

    For epoch t, lambda_i(t) = K exp(r_i / T) / sum_j exp(r_j / T) with
    r_i = L_i(t-1) / L_i(t-2), the ratio of the last two epoch-average losses, so a loss
    that falls slower gets more weight. The first two epochs use lambda_i = 1. The total is
    sum_i w_i lambda_i L_i, where w_i are the given weights (1.0 by default).

    `on_epoch_end` moves to the next epoch. Given no averages it uses its own, accumulated
    by `combine` in training mode on this process; under DDP pass averages synced over the
    ranks (e.g. Lightning's epoch-logged per-output losses) so every rank agrees.

    Args:
        output_names: the outputs, in order.
        weights: constant multipliers w_i, 1.0 each if omitted.
        temperature: T; larger T makes the weights more even. The paper uses 2.

    Raises:
        LossError: a temperature that is not positive.
    """

    def __init__(self, output_names: Sequence[str], weights: Sequence[float] | None = None,
                 *, temperature: float = 2.0) -> None:
        super().__init__(output_names, weights)
        if not temperature > 0:
            raise LossError(f"dwa temperature must be positive, received {temperature}")
        self.temperature = float(temperature)
        k = len(self.output_names)
        self.register_buffer("prior", torch.tensor(self.initial_weights), persistent=False)
        self.register_buffer("lambdas", torch.ones(k))
        self.register_buffer("history", torch.zeros(2, k))  # epoch averages L(t-2), L(t-1)
        self.register_buffer("epochs_seen", torch.zeros((), dtype=torch.long))
        # Within-epoch sums are transient: a checkpoint is taken between epochs.
        self.register_buffer("running_sum", torch.zeros(k), persistent=False)
        self.register_buffer("running_count", torch.zeros(()), persistent=False)

    def combine(self, losses: Mapping[str, Tensor],
                shared_params: Sequence[Tensor] | None = None) -> Tensor:
        stacked = self.stack(losses)
        if self.training:
            self.running_sum += stacked.detach()
            self.running_count += 1
        return (self.prior * self.lambdas * stacked).sum()

    def weight_vector(self) -> Tensor:
        return (self.prior * self.lambdas).detach().clone()

    @torch.no_grad()
    def on_epoch_end(self, avg_losses: Mapping[str, float | Tensor] | None = None) -> None:
        """Record this epoch's average losses and set the weights for the next epoch.

        Args:
            avg_losses: each output's unweighted training loss averaged over the epoch;
                if omitted, the averages `combine` accumulated (nothing happens if it saw
                no training step).

        Raises:
            LossError: `avg_losses` lacks an output.
        """
        if avg_losses is None:
            if float(self.running_count) == 0:
                return
            averages = self.running_sum / self.running_count
        else:
            averages = self.stack({n: torch.as_tensor(v, dtype=self.lambdas.dtype,
                                                      device=self.lambdas.device)
                                   for n, v in avg_losses.items()})
        self.running_sum.zero_()
        self.running_count.zero_()
        self.history[0] = self.history[1]
        self.history[1] = averages
        self.epochs_seen += 1
        if int(self.epochs_seen) >= 2:
            rates = self.history[1] / self.history[0].clamp_min(torch.finfo(averages.dtype).tiny)
            self.lambdas.copy_(len(self.output_names) * torch.softmax(rates / self.temperature, 0))

    def extra_repr(self) -> str:
        return f"outputs={self.output_names}, temperature={self.temperature}"
