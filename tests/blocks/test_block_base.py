import pytest
import torch

from plait.blocks import Block, Dense, spec_of
from plait.graph import TensorSpec


def test_build_with_a_spec_makes_the_layers():
    block = Dense(8)
    assert block.built is False
    block.build(TensorSpec((32,)))
    assert block.built is True
    assert block(torch.randn(4, 32)).shape == (4, 8)


def test_build_like_takes_an_example_batch_and_returns_the_block():
    block = Dense(8).build_like(torch.randn(2, 5, 32))
    assert block(torch.randn(4, 5, 32)).shape == (4, 5, 8)


def test_calling_an_unbuilt_block_says_how_to_build_it():
    with pytest.raises(AttributeError, match=r"not built.*build\(TensorSpec"):
        Dense(8)(torch.randn(4, 32))


def test_spec_of_drops_the_batch():
    assert spec_of(torch.zeros(4, 3, dtype=torch.long)) == TensorSpec((3,), torch.long)


def test_default_build_marks_built():
    block = Block()
    block.build(TensorSpec((1,)))
    assert block.built
