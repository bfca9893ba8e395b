import torch
from torch import nn

from plait.blocks import CNNTower, Dense, TimeDistributed
from plait.graph import TensorSpec


def test_plain_linear_on_every_step():
    linear = nn.Linear(4, 3)
    block = TimeDistributed(linear)
    block.build(TensorSpec((7, 4)))
    x = torch.randn(2, 7, 4)
    assert torch.allclose(block(x), linear(x))


class Split(nn.Module):
    def forward(self, x):
        return x[:, :2], [x.sum(-1, keepdim=True), x * 2]


def test_a_module_returning_a_tuple_and_a_list():
    first, (total, double) = TimeDistributed(Split())(torch.randn(2, 5, 4))
    assert first.shape == (2, 5, 2)
    assert total.shape == (2, 5, 1)
    assert double.shape == (2, 5, 4)


def test_a_lazy_block_is_built_without_the_step_dimension():
    block = TimeDistributed(Dense(8))
    block.build(TensorSpec((None, 4)))
    assert block.module.weight.shape[1] == 4
    assert block(torch.randn(2, 9, 4)).shape == (2, 9, 8)


def test_a_vision_tower_on_every_frame():
    tower = CNNTower((4, 8))
    block = TimeDistributed(tower)
    block.build(TensorSpec((5, 3, 16, 16)))
    video = torch.randn(2, 5, 3, 16, 16)
    out = block(video)
    assert out.shape == (2, 5, 8)
    assert torch.allclose(out[1, 3], tower(video[1, 3:4])[0], atol=1e-6)
