import pytest
import torch

from plait.blocks import ACTIVATIONS, MLP, Dense, activation
from plait.graph import TensorSpec


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize(("shape", "units", "out"), [
    ((64,), 32, (4, 32)), ((7, 16), 3, (4, 7, 3)), ((64,), 1, (4, 1)),
])
def test_dense_maps_the_last_dimension(shape, units, out):
    block = Dense(units, activation="relu")
    block.build(TensorSpec(shape))
    y = block(torch.randn(4, *shape))
    assert y.shape == out
    assert (y >= 0).all()


def test_dense_parameters_match_keras():
    block = Dense(32)
    block.build(TensorSpec((64,)))
    assert n_params(block) == 2_080
    no_bias = Dense(32, use_bias=False)
    no_bias.build(TensorSpec((64,)))
    assert n_params(no_bias) == 2_048


def test_dense_without_activation_gives_logits():
    block = Dense(3).build_like(torch.randn(2, 5))
    x = torch.randn(2, 5)
    assert torch.allclose(block(x), block.linear(x))


def test_dense_refuses_a_variable_last_dimension():
    with pytest.raises(ValueError, match=r"Dense needs a known last dimension.*\(B, None\)"):
        Dense(3).build(TensorSpec((None,)))


def test_activation_names():
    assert isinstance(activation("gelu"), torch.nn.GELU)
    assert isinstance(activation(None), torch.nn.Identity)
    assert set(ACTIVATIONS) >= {"relu", "tanh", "sigmoid", "gelu"}
    with pytest.raises(ValueError, match=r"unknown activation 'relux': expected None or one of"):
        activation("relux")


@pytest.mark.parametrize(("shape", "batch_norm"), [((20,), False), ((20,), True), ((6, 20), True)])
def test_mlp_shapes(shape, batch_norm):
    block = MLP((64, 32), dropout=0.1, batch_norm=batch_norm)
    block.build(TensorSpec(shape))
    assert block(torch.randn(4, *shape)).shape == (4, *shape[:-1], 32)


def test_mlp_parameters():
    block = MLP((64, 64))
    block.build(TensorSpec((64,)))
    assert n_params(block) == 2 * (64 * 64 + 64)


def test_mlp_checks_the_activation_name_at_once():
    with pytest.raises(ValueError, match="unknown activation"):
        MLP(activation="nope")
