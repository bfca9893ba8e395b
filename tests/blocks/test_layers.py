import pytest
import torch

from plait.blocks import (
    Conv1D,
    Dropout,
    Embedding,
    Flatten,
    GlobalMaxPool1D,
    InceptionBlock,
    MaxPool1D,
    ResidualBlock,
)
from plait.graph import TensorSpec


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_embedding_parameters_match_keras_and_padding_is_zero():
    block = Embedding(10_000, 64)
    assert n_params(block) == 640_000
    y = block(torch.tensor([[3, 7, 0, 0]]))
    assert y.shape == (1, 4, 64)
    assert (y[0, 2:] == 0).all()


def test_embedding_init_std_scales_the_start_and_keeps_padding_zero():
    torch.manual_seed(0)
    default = Embedding(5_000, 8).embedding.weight
    assert 0.95 < default[1:].std() < 1.05  # nn.Embedding's N(0, 1), unchanged by default
    torch.manual_seed(0)
    small = Embedding(5_000, 8, init_std=0.01)
    weight = small.embedding.weight
    assert 0.0095 < weight[1:].std() < 0.0105 and (weight[1:] != 0).all()
    assert (weight[0] == 0).all()
    assert small.get_config()["init_std"] == 0.01
    assert Embedding(10, 2, padding_idx=None, init_std=0.1).embedding.weight[0].abs().sum() > 0
    with pytest.raises(ValueError, match="init_std is 0"):
        Embedding(10, 2, init_std=0)


def test_embedding_of_a_categorical_column():
    assert Embedding(12, 4, padding_idx=None)(torch.tensor([1, 5, 11])).shape == (3, 4)


def test_conv1d_is_channels_last_and_matches_keras_parameters():
    block = Conv1D(128, 5, activation="relu")
    block.build(TensorSpec((None, 256)))
    assert n_params(block) == 163_968
    assert n_params(torch.nn.Conv1d(256, 128, 5)) == 163_968
    assert block(torch.randn(2, 30, 256)).shape == (2, 26, 128)
    same = Conv1D(8, 5, padding="same").build_like(torch.randn(2, 30, 4))
    assert same(torch.randn(2, 30, 4)).shape == (2, 30, 8)


def test_pools_are_channels_last():
    x = torch.randn(2, 26, 8)
    assert MaxPool1D(5)(x).shape == (2, 5, 8)
    assert torch.equal(GlobalMaxPool1D()(x), x.amax(1))


def test_flatten_keeps_the_batch():
    assert Flatten()(torch.randn(2, 3, 4, 5)).shape == (2, 60)


def test_dropout_is_identity_in_eval_and_drops_in_training():
    block = Dropout(0.5)
    x = torch.ones(1000)
    assert torch.equal(block.eval()(x), x)
    dropped = block.train()(x)
    assert 300 < int((dropped == 0).sum()) < 700
    with pytest.raises(ValueError, match=r"Dropout rate must be in \[0, 1\); received 1.5"):
        Dropout(1.5)


def test_inception_block_concatenates_three_towers():
    block = InceptionBlock()
    block.build(TensorSpec((3, 32, 32)))
    assert block(torch.randn(2, 3, 32, 32)).shape == (2, 192, 32, 32)
    # The guide's towers on 3 channels: 1x1 -> 3x3, 1x1 -> 5x5, pool -> 1x1, 64 filters each.
    tower_1 = (3 * 64 + 64) + (64 * 64 * 9 + 64)
    tower_2 = (3 * 64 + 64) + (64 * 64 * 25 + 64)
    tower_3 = 3 * 64 + 64
    assert n_params(block) == tower_1 + tower_2 + tower_3


def test_inception_block_reduce_filters():
    block = InceptionBlock(16, reduce_filters=8).build_like(torch.randn(1, 5, 9, 9))
    assert block(torch.randn(1, 5, 9, 9)).shape == (1, 48, 9, 9)


@pytest.mark.parametrize(("convs", "batch_norm", "params"), [
    (1, False, 3 * 3 * 9 + 3),  # the guide's Conv2D(3, (3, 3), padding='same')
    (2, True, 2 * (3 * 3 * 9 + 2 * 3)),
])
def test_residual_block_keeps_the_shape(convs, batch_norm, params):
    block = ResidualBlock(convs, batch_norm=batch_norm, activation="relu")
    block.build(TensorSpec((3, 16, 16)))
    assert n_params(block) == params
    assert block(torch.randn(2, 3, 16, 16)).shape == (2, 3, 16, 16)


def test_residual_block_adds_its_input():
    block = ResidualBlock().build_like(torch.randn(1, 3, 8, 8))
    x = torch.randn(2, 3, 8, 8)
    assert torch.allclose(block(x), x + block.residual(x))


@pytest.mark.parametrize("block", [InceptionBlock(), ResidualBlock()])
def test_image_blocks_refuse_a_vector(block):
    with pytest.raises(ValueError, match=r"expects images \(B, C, H, W\).*received \(B, 32\)"):
        block.build(TensorSpec((32,)))
