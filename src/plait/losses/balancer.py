"""`LossBalancer`: how per-output losses become one total; `FixedWeights`, the plain sum."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from plait.losses.errors import LossError
from plait.losses.per_output import check_output_names, check_weights


class LossBalancer(nn.Module):
    """Combines the unweighted loss of every output into the total that is trained.

    A strategy keeps its state in buffers and parameters, so checkpoints hold it and DDP
    ranks share it; its parameters are trained by the model's optimizer.

    Args:
        output_names: the outputs, in order.
        weights: one positive weight per output, in order; 1.0 each if omitted. What a
            strategy makes of them is its own to say.

    Raises:
        LossError: names or weights that do not fit (see `check_weights`).
    """

    def __init__(self, output_names: Sequence[str], weights: Sequence[float] | None = None) -> None:
        super().__init__()
        self.output_names = check_output_names(output_names)
        given = [1.0] * len(self.output_names) if weights is None else weights
        self.initial_weights = check_weights(list(given), self.output_names, "weights")

    def stack(self, losses: Mapping[str, Tensor]) -> Tensor:
        """The losses as one `(K,)` tensor in output order.

        Raises:
            LossError: an output has no loss.
        """
        try:
            return torch.stack([losses[name] for name in self.output_names])
        except KeyError as err:
            raise LossError(f"{type(self).__name__} needs a loss for output {err.args[0]!r}, "
                            f"received losses for {list(losses)}") from None

    def combine(self, losses: Mapping[str, Tensor],
                shared_params: Sequence[Tensor] | None = None) -> Tensor:
        """The total loss to train on.

        Args:
            losses: the unweighted loss of every output, keyed by output name.
            shared_params: the last shared layer's parameters, for strategies that look at
                gradients (`GradNorm`); the others ignore them.

        Returns:
            A scalar.
        """
        raise NotImplementedError

    def weight_vector(self) -> Tensor:
        """The weights now in use, `(K,)` in output order, detached."""
        raise NotImplementedError

    def current_weights(self) -> dict[str, float]:
        """The weights now in use, by output name, for logging (one device sync)."""
        return dict(zip(self.output_names, self.weight_vector().tolist()))

    def on_epoch_end(self, avg_losses: Mapping[str, float | Tensor] | None = None) -> None:
        """Called once at the end of every training epoch; a no-op unless a strategy needs it.

        Args:
            avg_losses: each output's unweighted loss averaged over the epoch.
        """

    def forward(self, losses: Mapping[str, Tensor],
                shared_params: Sequence[Tensor] | None = None) -> Tensor:
        """Same as `combine`."""
        return self.combine(losses, shared_params)

    def extra_repr(self) -> str:
        return f"outputs={self.output_names}"


class FixedWeights(LossBalancer):
    """Keras's `loss_weights`: total = sum_i w_i * L_i with constant weights.

    The weights are a non-persistent buffer: they are configuration, restated by the
    config on every run, so resuming with changed weights uses the new ones.
    """

    def __init__(self, output_names: Sequence[str], weights: Sequence[float] | None = None) -> None:
        super().__init__(output_names, weights)
        self.register_buffer("weights", torch.tensor(self.initial_weights), persistent=False)

    def combine(self, losses: Mapping[str, Tensor],
                shared_params: Sequence[Tensor] | None = None) -> Tensor:
        return (self.weights * self.stack(losses)).sum()

    def weight_vector(self) -> Tensor:
        return self.weights.detach().clone()
