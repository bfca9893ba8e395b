import pytest
import torch
import torch.nn.functional as F

from plait.blocks import ACTIVATIONS, MLP, Dense, activation
from plait.blocks.activations import FUNCTIONS, activation_function
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


def test_dense_bias_starts_at_bias_init():
    block = Dense(2, bias_init=9.5).build_like(torch.randn(2, 5))
    assert torch.equal(block.bias, torch.full((2,), 9.5))
    x = torch.zeros(3, 5)
    assert torch.equal(block(x), torch.full((3, 2), 9.5))  # the weights stay nn.Linear's
    with pytest.raises(ValueError, match="bias_init is 1.0, but use_bias is False"):
        Dense(2, use_bias=False, bias_init=1.0)


def test_dense_without_activation_gives_logits():
    block = Dense(3).build_like(torch.randn(2, 5))
    x = torch.randn(2, 5)
    assert torch.allclose(block(x), F.linear(x, block.weight, block.bias))
    linear = Dense(3, activation="linear").build_like(x)
    assert torch.allclose(linear(x), F.linear(x, linear.weight, linear.bias))


def test_dense_state_is_weight_and_bias():
    block = Dense(4, activation="relu").build_like(torch.randn(2, 6))
    assert list(block.state_dict()) == ["weight", "bias"]
    assert block.weight.shape == (4, 6)
    assert repr(block) == "Dense(units=4, activation='relu')"


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_named_activations_apply_as_their_module_does(name):
    x = torch.randn(3, 5)
    block = Dense(4, activation=name).build_like(x)
    expected = activation(name)(F.linear(x, block.weight, block.bias))
    assert torch.allclose(block(x), expected)


def test_dense_calls_an_activation_module_as_a_submodule():
    x = torch.randn(3, 5)
    block = Dense(4, activation=torch.nn.PReLU()).build_like(x)
    assert "activation.weight" in block.state_dict()
    seen = []
    block.activation.register_forward_hook(lambda module, args, out: seen.append(out.shape))
    assert torch.allclose(block(x), block.activation(F.linear(x, block.weight, block.bias)))
    assert seen[0] == (3, 4)


def test_dense_refuses_a_variable_last_dimension():
    with pytest.raises(ValueError, match=r"Dense needs a known last dimension.*\(B, None\)"):
        Dense(3).build(TensorSpec((None,)))


def test_activation_names():
    assert isinstance(activation("gelu"), torch.nn.GELU)
    assert isinstance(activation(None), torch.nn.Identity)
    assert set(ACTIVATIONS) >= {"relu", "tanh", "sigmoid", "gelu"}
    with pytest.raises(ValueError, match=r"unknown activation 'relux': expected None or one of"):
        activation("relux")
    assert set(FUNCTIONS) == set(ACTIVATIONS)
    assert activation_function(None) is None and activation_function("linear") is None
    with pytest.raises(ValueError, match=r"unknown activation 'relux'"):
        Dense(3, activation="relux")


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
