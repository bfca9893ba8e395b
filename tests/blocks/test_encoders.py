"""Conv1DEncoder and CNNTower: shapes, the seed models' parameter counts."""

import pytest
import torch

from plait.blocks import CNNTower, Conv1DEncoder
from plait.graph import TensorSpec


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_conv1d_encoder_is_the_seed_posts_model():
    block = Conv1DEncoder(vocab_size=50_000, embedding_dim=256)
    block.build(TensorSpec((None,), torch.long))
    convs = [m for m in block.convs if isinstance(m, torch.nn.Conv1d)]
    pools = [i for i, m in enumerate(block.convs) if isinstance(m, torch.nn.MaxPool1d)]
    assert [c.out_channels for c in convs] == [128, 256, 256, 256, 256]
    assert pools == [2, 7]  # after the first and the third convolution (each conv has a ReLU)
    assert n_params(convs[0]) == 163_968
    expected = 12_800_000 + 163_968 + (128 * 256 * 5 + 256) + 3 * (256 * 256 * 5 + 256)
    assert n_params(block) == expected
    assert block(torch.randint(0, 50_000, (2, 300))).shape == (2, 256)


@pytest.mark.parametrize(("kwargs", "shape", "out"), [
    ({"channels": (16, 32), "pool_after": (0,), "pool_size": 2, "kernel_size": 3}, (40, 8), 32),
    ({"channels": (16,), "pool_after": (), "padding": "same"}, (3, 8), 16),
])
def test_conv1d_encoder_on_float_features(kwargs, shape, out):
    block = Conv1DEncoder(**kwargs)
    block.build(TensorSpec((None, shape[1])))
    assert block(torch.randn(2, *shape)).shape == (2, out)


def test_conv1d_encoder_min_length():
    block = Conv1DEncoder(channels=(4, 4), kernel_size=3, pool_after=(0,), pool_size=2)
    assert block.min_length == (1 + 2) * 2 + 2
    block.build(TensorSpec((None, 3)))
    assert block(torch.randn(1, block.min_length, 3)).shape == (1, 4)
    with pytest.raises(RuntimeError):
        block(torch.randn(1, block.min_length - 1, 3))


def test_conv1d_encoder_refuses_a_fixed_length_that_is_too_short():
    with pytest.raises(ValueError, match=r"at least 269 steps .*; received \(B, 100\)"):
        Conv1DEncoder(vocab_size=10).build(TensorSpec((100,), torch.long))


def test_conv1d_encoder_refuses_floats_when_it_embeds():
    with pytest.raises(ValueError, match=r"expects integer token ids \(B, T\); received"):
        Conv1DEncoder(vocab_size=10).build(TensorSpec((None, 4)))


@pytest.mark.parametrize(("kwargs", "out"), [
    ({}, (2, 128)),
    ({"global_pool": False}, (2, 128 * 4 * 4)),
    ({"channels": (8, 16), "convs_per_stage": 2, "batch_norm": True, "pool": "avg"}, (2, 16)),
    ({"channels": (8,), "pool": None, "padding": "valid", "global_pool": False}, (2, 8 * 30 * 30)),
])
def test_cnn_tower_shapes(kwargs, out):
    block = CNNTower(**kwargs, dropout=0.1)
    block.build(TensorSpec((3, 32, 32)))
    assert block(torch.randn(2, 3, 32, 32)).shape == out


def test_cnn_tower_parameters():
    block = CNNTower((32, 64, 128))
    block.build(TensorSpec((3, 64, 64)))
    assert n_params(block) == (3 * 9 * 32 + 32) + (32 * 9 * 64 + 64) + (64 * 9 * 128 + 128)
    normed = CNNTower((8,), batch_norm=True).build_like(torch.randn(1, 3, 8, 8))
    assert n_params(normed) == 3 * 9 * 8 + 2 * 8  # no conv bias before batch norm


def test_cnn_tower_refuses_bad_arguments():
    with pytest.raises(ValueError, match=r"pool must be None or one of \['avg', 'max'\]; received 'min'"):
        CNNTower(pool="min")
    with pytest.raises(ValueError, match=r"expects images \(B, C, H, W\), channels first; received \(B, 64, 64\)"):
        CNNTower().build(TensorSpec((64, 64)))
