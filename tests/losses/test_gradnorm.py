"""GradNorm (Chen et al. 2018): it evens out gradient norms, and trains only its weights."""

import copy
import functools

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from plait.losses import GradNorm, LossError, LossSpec, MultiOutputLoss

NAMES = ["a", "b"]
TEN_TIMES_MSE = LossSpec("mse_x10", lambda logits, target: 10 * F.mse_loss(logits, target))


def _toy(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, nn.Linear, nn.Linear, nn.Linear]:
    """Two identical heads on one trunk, fitting the same target: only the loss scale differs."""
    torch.manual_seed(seed)
    x = torch.randn(64, 8)
    y = x @ torch.randn(8, 1) + torch.randn(64, 1)
    trunk, head_a = nn.Linear(8, 16), nn.Linear(16, 1)
    return x, y, trunk, head_a, copy.deepcopy(head_a)


def _train(balancer, steps: int = 120) -> tuple[list[float], dict[str, float]]:
    """Ratio G_b / G_a of weighted gradient norms at the trunk, per step, and final weights."""
    x, y, trunk, head_a, head_b = _toy()
    loss = MultiOutputLoss(NAMES, {"a": "mse", "b": TEN_TIMES_MSE}, balancer=balancer)
    model = [*trunk.parameters(), *head_a.parameters(), *head_b.parameters()]
    optimizer = torch.optim.Adam([{"params": model, "lr": 1e-2},
                                  {"params": loss.parameters(), "lr": 3e-2}])
    ratios = []
    for _ in range(steps):
        hidden = torch.relu(trunk(x))
        total, per_output = loss({"a": head_a(hidden), "b": head_b(hidden)}, {"a": y, "b": y},
                                 shared_params=[trunk.weight])
        weights = loss.balancer.weight_vector()
        norms = [weights[i] * torch.autograd.grad(per_output[n], trunk.weight,
                                                  retain_graph=True)[0].norm()
                 for i, n in enumerate(NAMES)]
        ratios.append(float(norms[1] / norms[0]))
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
    return ratios, loss.current_weights()


def test_gradnorm_evens_out_the_gradient_norms_that_fixed_weights_leave_tenfold() -> None:
    fixed, _ = _train("fixed")
    balanced, weights = _train(functools.partial(GradNorm, alpha=0.0))
    assert fixed[0] == pytest.approx(10.0, rel=1e-3) == balanced[0]
    assert sum(fixed[-20:]) / 20 == pytest.approx(10.0, rel=0.05)
    assert sum(balanced[-20:]) / 20 == pytest.approx(1.0, abs=0.3)
    assert weights["a"] / weights["b"] == pytest.approx(10.0, rel=0.5)
    assert sum(weights.values()) == pytest.approx(2.0)


def _create_graph_gradient(weights: torch.Tensor, losses: list[torch.Tensor], shared: torch.Tensor,
                           initial: torch.Tensor, alpha: float) -> torch.Tensor:
    """The paper's GradNorm gradient for the weights, via a double backward (create_graph)."""
    norms = torch.stack([torch.autograd.grad(w * loss, shared, create_graph=True)[0].norm()
                         for w, loss in zip(weights, losses)])
    ratios = torch.stack(losses).detach() / initial
    targets = (norms.mean() * (ratios / ratios.mean()) ** alpha).detach()
    return torch.autograd.grad((norms - targets).abs().sum(), weights)[0]


def test_gradnorm_gradient_equals_the_create_graph_formulation() -> None:
    x, y, trunk, head_a, head_b = _toy()
    head_b.reset_parameters()
    balancer = GradNorm(NAMES, [1.5, 0.5], alpha=1.5)
    balancer.initial_losses.copy_(torch.tensor([2.0, 0.5]))
    balancer.started.fill_(True)
    hidden = torch.relu(trunk(x))
    losses = [F.mse_loss(head_a(hidden), y), F.huber_loss(head_b(hidden), y)]
    term = balancer.gradnorm_term(dict(zip(NAMES, losses)), [trunk.weight])
    assert term.item() == 0.0
    ours = torch.autograd.grad(term, balancer.loss_weights, retain_graph=True)[0]
    reference = _create_graph_gradient(balancer.loss_weights, losses, trunk.weight,
                                       balancer.initial_losses, 1.5)
    torch.testing.assert_close(ours, reference)
    untouched = torch.autograd.grad(term, [trunk.weight, head_a.weight], allow_unused=True,
                                    materialize_grads=True)
    assert all(torch.count_nonzero(g) == 0 for g in untouched)


def test_the_model_trains_on_the_weighted_sum_with_weights_held_constant() -> None:
    x, y, trunk, head_a, head_b = _toy()
    loss = MultiOutputLoss(NAMES, "mse", [3.0, 1.0], balancer="gradnorm")
    hidden = torch.relu(trunk(x))
    outputs = {"a": head_a(hidden), "b": head_b(hidden)}
    total, per_output = loss(outputs, {"a": y, "b": y}, shared_params=[trunk.weight])
    torch.testing.assert_close(total, 1.5 * per_output["a"] + 0.5 * per_output["b"])
    expected = torch.autograd.grad(1.5 * per_output["a"], head_a.weight, retain_graph=True)[0]
    total.backward()
    torch.testing.assert_close(head_a.weight.grad, expected)
    assert loss.balancer.loss_weights.grad is not None


def test_gradnorm_keeps_weights_positive_and_summing_to_the_output_count() -> None:
    balancer = GradNorm(["a", "b", "c"])
    with torch.no_grad():
        balancer.loss_weights.copy_(torch.tensor([4.0, -1.0, 2.0]))  # as if after a large step
    balancer.eval()
    balancer.combine({n: torch.tensor(1.0) for n in "abc"})
    weights = balancer.loss_weights.detach()
    assert (weights > 0).all() and weights.sum().item() == pytest.approx(3.0)


def test_gradnorm_records_the_first_training_losses_in_its_state() -> None:
    x, y, trunk, head_a, head_b = _toy()
    loss = MultiOutputLoss(NAMES, "mse", balancer="gradnorm")
    recorded = []
    for _ in range(2):
        hidden = torch.relu(trunk(x))
        _, per_output = loss({"a": head_a(hidden), "b": 2 * head_b(hidden)}, {"a": y, "b": y},
                             shared_params=[trunk.weight])
        recorded.append(torch.stack([per_output[n].detach() for n in NAMES]))
        with torch.no_grad():
            trunk.weight.mul_(0.5)  # the second step's losses differ from the first's
    assert not torch.equal(recorded[0], recorded[1])
    state = loss.state_dict()
    torch.testing.assert_close(state["balancer.initial_losses"], recorded[0])
    assert {"balancer.loss_weights", "balancer.started"} <= set(state)


def test_gradnorm_asks_for_shared_params_when_training_only() -> None:
    loss = MultiOutputLoss(NAMES, "mse", balancer="gradnorm")
    logits = torch.randn(4, 1, requires_grad=True)
    batch = ({"a": logits, "b": logits}, {"a": torch.randn(4), "b": torch.randn(4)})
    with pytest.raises(LossError, match="^gradnorm needs shared_params when training: the "
                                        "parameters of the last layer all outputs share"):
        loss(*batch)
    loss.eval()
    loss(*batch)


def test_gradnorm_names_an_output_that_misses_the_shared_layer() -> None:
    shared = nn.Linear(2, 1)
    x = torch.randn(4, 2)
    with pytest.raises(LossError, match="^gradnorm: output 'b' does not depend on shared_params"):
        GradNorm(NAMES).gradnorm_term({"a": shared(x).mean(), "b": x.sum()}, [shared.weight])
    other = nn.Linear(2, 1)
    with pytest.raises(LossError, match="^gradnorm: output 'b' does not depend on shared_params"):
        GradNorm(NAMES).gradnorm_term({"a": shared(x).mean(), "b": other(x).mean()},
                                      [shared.weight])


def test_gradnorm_rejects_a_negative_alpha() -> None:
    with pytest.raises(LossError, match="^gradnorm alpha must be zero or positive, received -1"):
        GradNorm(NAMES, alpha=-1)
