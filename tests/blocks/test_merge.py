import pytest
import torch

from plait.blocks import Add, Average, Concat, Multiply
from plait.graph import GraphError, TensorSpec


def specs(*shapes):
    return [TensorSpec(s) for s in shapes]


@pytest.mark.parametrize("as_list", [False, True])
def test_merges_take_arguments_or_one_list(as_list):
    a, b = torch.randn(2, 3), torch.randn(2, 3)

    def call(block):
        block.build(*([specs((3,), (3,))] if as_list else specs((3,), (3,))))
        return block([a, b]) if as_list else block(a, b)

    assert torch.equal(call(Concat()), torch.cat([a, b], dim=-1))
    assert torch.equal(call(Add()), a + b)
    assert torch.equal(call(Multiply()), a * b)
    assert torch.allclose(call(Average()), (a + b) / 2)


def test_three_inputs():
    xs = [torch.randn(2, 4) for _ in range(3)]
    assert torch.allclose(Average()(xs), sum(xs) / 3)
    assert Concat()(*xs).shape == (2, 12)


def test_concat_on_channels():
    block = Concat(axis=1)
    block.build(*specs((3, 8, 8), (5, 8, 8)))
    assert block(torch.randn(2, 3, 8, 8), torch.randn(2, 5, 8, 8)).shape == (2, 8, 8, 8)


def test_variable_sizes_fit_anything():
    Concat().build(*specs((None, 4), (7, 2)))
    Add().build(*specs((None, 4), (7, 4)))


@pytest.mark.parametrize("cls", [Add, Multiply, Average])
def test_mismatched_shapes_name_every_input(cls):
    with pytest.raises(GraphError) as err:
        cls().build(*specs((32,), (16,)))
    assert str(err.value) == f"{cls.__name__} expects inputs of one shape; received (B, 32), (B, 16)"


def test_concat_mismatch_names_the_axis_and_every_input():
    with pytest.raises(GraphError) as err:
        Concat(axis=-1).build(specs((4, 32), (5, 16)))
    assert str(err.value) == ("Concat(axis=-1) expects inputs that match on every dimension but "
                              "axis -1; received (B, 4, 32), (B, 5, 16)")


def test_concat_rank_mismatch():
    with pytest.raises(GraphError, match=r"one number of dimensions; received \(B, 4, 32\), \(B, 16\)"):
        Concat().build(*specs((4, 32), (16,)))


@pytest.mark.parametrize("axis", [0, -3, 3])
def test_concat_refuses_the_batch_axis_and_axes_out_of_range(axis):
    with pytest.raises(GraphError, match=rf"Concat\(axis={axis}\) expects an axis in 1..2 or -2..-1 "
                                         r"for 3-dimensional inputs \(axis 0 is the batch\)"):
        Concat(axis=axis).build(*specs((4, 32), (4, 16)))


def test_merges_need_enough_inputs():
    with pytest.raises(GraphError, match=r"Add expects at least 2 inputs; received 1: \(B, 3\)"):
        Add().build(TensorSpec((3,)))
    Concat().build(TensorSpec((3,)))
