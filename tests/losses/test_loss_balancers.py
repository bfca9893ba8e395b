"""Fixed weights, uncertainty weighting and DWA: their defining properties and their state."""

import math

import pytest
import torch
from torch import nn

from plait.losses import (
    DynamicWeightAverage,
    FixedWeights,
    LossError,
    MultiOutputLoss,
)

NAMES = ["a", "b"]


def test_fixed_weights_are_configuration_not_checkpoint_state() -> None:
    balancer = FixedWeights(NAMES, [0.25, 4.0])
    total = balancer.combine({"b": torch.tensor(2.0), "a": torch.tensor(4.0)})
    torch.testing.assert_close(total, torch.tensor(9.0))
    assert balancer.current_weights() == {"a": 0.25, "b": 4.0}
    assert "weights" not in balancer.state_dict()


def test_a_balancer_names_the_output_whose_loss_is_missing() -> None:
    with pytest.raises(LossError, match=r"^FixedWeights needs a loss for output 'b', received "
                                        r"losses for \['a'\]$"):
        FixedWeights(NAMES).combine({"a": torch.tensor(1.0)})


# --- uncertainty (Kendall, Gal, Cipolla 2018) -----------------------------------------------------

def test_uncertainty_starts_at_the_given_weights_and_trains_its_log_variances() -> None:
    loss = MultiOutputLoss(NAMES, "mse", [1.0, 0.5], balancer="uncertainty")
    assert [name for name, _ in loss.named_parameters()] == ["balancer.log_vars"]
    torch.testing.assert_close(loss.balancer.log_vars.detach(), torch.tensor([0.0, math.log(2.0)]))
    losses = {"a": torch.tensor(3.0), "b": torch.tensor(5.0)}
    torch.testing.assert_close(loss.balancer.combine(losses), torch.tensor(3.0 + 2.5 + math.log(2)))


def test_uncertainty_weights_up_the_low_noise_output() -> None:
    torch.manual_seed(0)
    x = torch.randn(128, 4)
    clean = x @ torch.randn(4, 1)
    targets = {"a": clean + 0.1 * torch.randn(128, 1), "b": clean + 2.0 * torch.randn(128, 1)}
    trunk, heads = nn.Linear(4, 16), nn.ModuleDict({n: nn.Linear(16, 1) for n in NAMES})
    loss = MultiOutputLoss(NAMES, "mse", balancer="uncertainty")
    params = [*trunk.parameters(), *heads.parameters(), *loss.parameters()]
    optimizer = torch.optim.Adam(params, lr=0.03)
    for _ in range(80):
        hidden = torch.relu(trunk(x))
        total, _ = loss({n: head(hidden) for n, head in heads.items()}, targets)
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
    s_low, s_high = loss.balancer.log_vars.tolist()
    assert s_low < -1.0 and s_high > 0.5  # from 0: low noise down, high noise up
    weights = loss.current_weights()
    assert weights["a"] > 10 * weights["b"]


# --- DWA (Liu, Johns, Davison 2019) --------------------------------------------------------------

def test_dwa_keeps_weight_one_for_the_first_two_epochs() -> None:
    dwa = DynamicWeightAverage(NAMES)
    assert dwa.current_weights() == {"a": 1.0, "b": 1.0}
    dwa.on_epoch_end({"a": 1.0, "b": 1.0})
    assert dwa.current_weights() == {"a": 1.0, "b": 1.0}
    dwa.on_epoch_end({"a": 0.5, "b": 0.9})
    assert dwa.current_weights() != {"a": 1.0, "b": 1.0}


def test_dwa_gives_more_weight_to_the_loss_that_falls_slower() -> None:
    dwa = DynamicWeightAverage(NAMES, temperature=2.0)
    fast, slow = 1.0, 1.0
    previous_slow_weight = 1.0
    for epoch in range(5):
        dwa.on_epoch_end({"a": fast, "b": slow})
        fast, slow = fast * 0.5, slow * 0.95
        weights = dwa.current_weights()
        assert sum(weights.values()) == pytest.approx(2.0)
        if epoch >= 1:
            assert weights["b"] > weights["a"]
            assert weights["b"] >= previous_slow_weight
            previous_slow_weight = weights["b"]
    expected_b = 2 * math.exp(0.95 / 2) / (math.exp(0.95 / 2) + math.exp(0.5 / 2))
    assert dwa.current_weights()["b"] == pytest.approx(expected_b, rel=1e-5)


def test_dwa_averages_its_own_training_losses_when_given_none() -> None:
    given, own = DynamicWeightAverage(NAMES), DynamicWeightAverage(NAMES)
    for epoch_losses in ([(4.0, 2.0), (2.0, 2.0)], [(1.0, 1.8), (1.0, 1.8)]):
        for a, b in epoch_losses:
            own.combine({"a": torch.tensor(a), "b": torch.tensor(b)})
        own.eval()
        own.combine({"a": torch.tensor(100.0), "b": torch.tensor(100.0)})  # validation: not counted
        own.train()
        own.on_epoch_end()
        mean = [sum(pair[i] for pair in epoch_losses) / 2 for i in range(2)]
        given.on_epoch_end(dict(zip(NAMES, mean)))
    assert own.current_weights() == pytest.approx(given.current_weights())
    assert own.current_weights()["b"] > 1.0


def test_dwa_total_uses_the_given_weights_times_its_own() -> None:
    dwa = DynamicWeightAverage(NAMES, [2.0, 1.0])
    dwa.lambdas.copy_(torch.tensor([0.5, 1.5]))
    total = dwa.combine({"a": torch.tensor(1.0), "b": torch.tensor(1.0)})
    torch.testing.assert_close(total, torch.tensor(2.5))


def test_dwa_state_survives_a_checkpoint() -> None:
    dwa = DynamicWeightAverage(NAMES)
    for a, b in [(1.0, 1.0), (0.5, 0.9), (0.2, 0.8)]:
        dwa.on_epoch_end({"a": a, "b": b})
    restored = DynamicWeightAverage(NAMES)
    restored.load_state_dict(dwa.state_dict())
    assert restored.current_weights() == dwa.current_weights()
    assert int(restored.epochs_seen) == 3
    restored.on_epoch_end({"a": 0.1, "b": 0.7})
    dwa.on_epoch_end({"a": 0.1, "b": 0.7})
    assert restored.current_weights() == dwa.current_weights()


def test_dwa_rejects_a_temperature_that_is_not_positive() -> None:
    with pytest.raises(LossError, match="^dwa temperature must be positive, received 0$"):
        DynamicWeightAverage(NAMES, temperature=0)
