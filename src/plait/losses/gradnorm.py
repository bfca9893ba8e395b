"""GradNorm: Chen, Badrinarayanan, Lee and Rabinovich, "GradNorm: Gradient Normalization for
Adaptive Loss Balancing in Deep Multitask Networks", ICML 2018."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from plait.losses.balancer import LossBalancer
from plait.losses.errors import LossError

_EPS = 1e-8


class GradNorm(LossBalancer):
    """Learned weights w_i that even out the outputs' gradient norms at a shared layer.

    G_i = ||grad_W w_i L_i|| is output i's gradient norm at the shared parameters W. Each
    target is mean(G) * r_i^alpha, with r_i = L~_i / mean(L~) and L~_i = L_i(t) / L_i(0):
    an output whose loss fell less gets a larger gradient. The GradNorm loss
    sum_i |G_i - target_i| (targets held constant) trains only the w_i; the model trains
    on sum_i w_i L_i with the w_i held constant. The weights are kept positive and
    renormalized to sum to K, the number of outputs, before every step.

    Lightning's automatic optimization clears gradients between `training_step` and
    `backward`, so the GradNorm loss cannot leave its gradient in `w.grad` itself. Instead
    `combine` adds the term `L_grad - L_grad.detach()`: its value is zero, so the logged
    total is unchanged, and its gradient is dL_grad/dw, which reaches the w_i alone, so one
    `backward` and one optimizer step train both.

    Args:
        output_names: the outputs, in order.
        weights: initial weights, renormalized to sum to K; 1.0 each if omitted.
        alpha: how strongly slower outputs are favoured; 0 asks for equal gradient norms.
            The paper uses 0.12 to 3; 1.5 is its choice for NYUv2.

    Raises:
        LossError: a negative alpha.
    """

    def __init__(self, output_names: Sequence[str], weights: Sequence[float] | None = None,
                 *, alpha: float = 1.5) -> None:
        super().__init__(output_names, weights)
        if not alpha >= 0:
            raise LossError(f"gradnorm alpha must be zero or positive, received {alpha}")
        self.alpha = float(alpha)
        k = len(self.output_names)
        initial = torch.tensor(self.initial_weights)
        self.loss_weights = nn.Parameter(initial * k / initial.sum())
        self.register_buffer("initial_losses", torch.ones(k))  # L_i(0), set on the first step
        self.register_buffer("started", torch.zeros((), dtype=torch.bool))

    def weight_vector(self) -> Tensor:
        weights = self.loss_weights.detach().clamp_min(_EPS)
        return weights * (len(self.output_names) / weights.sum())

    def combine(self, losses: Mapping[str, Tensor],
                shared_params: Sequence[Tensor] | None = None) -> Tensor:
        """sum_i w_i L_i, plus the zero-valued GradNorm term when training.

        Raises:
            LossError: training without `shared_params`.
        """
        stacked = self.stack(losses)
        with torch.no_grad():  # the optimizer stepped since the last call
            self.loss_weights.copy_(self.weight_vector())
        total = (self.loss_weights.detach() * stacked).sum()
        if self.training and torch.is_grad_enabled():
            if shared_params is None:
                raise LossError("gradnorm needs shared_params when training: the parameters of "
                                "the last layer all outputs share (e.g. the fusion's weight)")
            total = total + self.gradnorm_term(losses, shared_params)
        return total

    def gradient_norms(self, losses: Mapping[str, Tensor],
                       shared_params: Sequence[Tensor]) -> Tensor:
        """||grad_W L_i|| for every output, `(K,)`, detached.

        Each loss is differentiated on its own graph (not through a stack of all of them),
        so each backward only walks that output's head down to W.

        Raises:
            LossError: no shared parameter needs a gradient, or an output does not reach them.
        """
        given = list(shared_params)
        params = [p for p in given if p.requires_grad]
        if not params:
            raise LossError("gradnorm shared_params: expected tensors that require grad, "
                            f"received {len(given)} that do not")
        norms = []
        for name in self.output_names:
            loss = losses[name]
            grads = [] if not loss.requires_grad else [g for g in torch.autograd.grad(
                loss, params, retain_graph=True, allow_unused=True) if g is not None]
            if not grads:
                raise LossError(f"gradnorm: output {name!r} does not depend on shared_params; "
                                "expected the parameters of a layer every output passes through")
            norms.append(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads])))
        return torch.stack(norms).detach()

    def gradnorm_term(self, losses: Mapping[str, Tensor],
                      shared_params: Sequence[Tensor]) -> Tensor:
        """A zero-valued term whose gradient is the GradNorm loss's, and reaches only the w_i.

        G_i = w_i ||grad_W L_i|| is linear in w_i, so the norms are taken without
        `create_graph` (no double backward through the model): dG_i/dw_i = ||grad_W L_i||
        exactly, the gradient the paper's create_graph formulation gives.

        Args:
            losses: the unweighted loss of every output, keyed by name, still in the graph.
            shared_params: the shared layer's parameters W.
        """
        weights = self.loss_weights
        norms = weights * self.gradient_norms(losses, shared_params)  # G_i, (K,)
        current = self.stack(losses).detach()
        with torch.no_grad():  # L_i(0) is the first training step's loss
            self.initial_losses.copy_(torch.where(self.started, self.initial_losses, current))
            self.started.fill_(True)
        ratios = current / self.initial_losses.clamp_min(_EPS)  # L~_i
        targets = (norms.mean() * (ratios / ratios.mean()) ** self.alpha).detach()
        gradnorm_loss = (norms - targets).abs().sum()
        return gradnorm_loss - gradnorm_loss.detach()

    def extra_repr(self) -> str:
        return f"outputs={self.output_names}, alpha={self.alpha}"
