"""The graph core with plain torch.nn modules: structure, sharing, nesting, calling."""

import copy
import gc

import pytest
import torch
from torch import nn

from plait.graph import (
    Graph,
    GraphError,
    Input,
    freeze,
    fresh_names,
    name_module,
    symbolic_calls_enabled,
)


def mlp_graph() -> Graph:
    x = Input("x", shape=(16,))
    h = nn.ReLU()(nn.Linear(16, 8)(x))
    return Graph(x, nn.Linear(8, 2)(h))


def test_shapes_are_inferred_with_the_batch_implicit():
    x = Input("x", shape=(None, 16))
    out, (h, c) = nn.LSTM(16, 32, batch_first=True)(x)
    assert out.shape == (None, None, 32)
    assert h.shape == (1, None, 32)  # the batch found in the middle
    conv = nn.Conv2d(3, 8, 3)(Input("img", shape=(3, 28, 28)))
    assert conv.shape == (None, 8, 26, 26)


def test_forward_returns_the_declared_structure():
    a, b = Input("a", shape=(4,)), Input("b", shape=(6,))
    ya, yb = nn.Linear(4, 1)(a), nn.Linear(6, 3)(b)
    xa, xb = torch.randn(5, 4), torch.randn(5, 6)
    assert isinstance(Graph(a, ya)(xa), torch.Tensor)
    listed = Graph([a, b], [ya, yb])([xa, xb])
    assert [t.shape for t in listed] == [(5, 1), (5, 3)]
    keyed = Graph({"a": a, "b": b}, {"one": ya, "three": yb})({"a": xa, "b": xb})
    assert {k: tuple(v.shape) for k, v in keyed.items()} == {"one": (5, 1), "three": (5, 3)}


def test_graph_matches_the_same_modules_called_by_hand():
    g = mlp_graph()
    x = torch.randn(3, 16)
    lin1, relu, lin2 = g.blocks.values()
    torch.testing.assert_close(g(x), lin2(relu(lin1(x))))


def test_shared_module_has_one_set_of_weights_and_one_node_per_call():
    a, b = Input("a", shape=(None, 8)), Input("b", shape=(None, 8))
    lstm = nn.LSTM(8, 4, batch_first=True)
    (ea, _), (eb, _) = lstm(a), lstm(b)
    g = Graph([a, b], [ea, eb])
    assert len(g.blocks) == 1
    assert sum(p.numel() for p in g.parameters()) == sum(p.numel() for p in lstm.parameters())
    assert len(g.state_dict()) == len(lstm.state_dict())
    nodes = g.nodes_of(lstm)
    assert [n.call_index for n in nodes] == [0, 1]
    assert nodes[1].name.endswith(":1")
    assert nodes[0].connected_to == ["a"] and nodes[1].connected_to == ["b"]
    x = torch.randn(2, 5, 8)
    out_a, out_b = g(x, x)
    torch.testing.assert_close(out_a, out_b)  # same weights on the same input


def test_output_shape_of_a_module_called_on_different_shapes_is_ill_defined():
    conv = nn.Conv2d(3, 16, 3, padding=1)
    a, b = Input("a", shape=(3, 32, 32)), Input("b", shape=(3, 64, 64))
    g = Graph([a, b], [conv(a), conv(b)])
    assert g.nodes_of(conv)[0].output_shapes == [(None, 16, 32, 32)]
    assert g.nodes_of(conv)[1].output_shapes == [(None, 16, 64, 64)]
    with pytest.raises(GraphError, match=r"called at 2 nodes with different output shapes.*pick a node"):
        g.output_shape_of(conv)
    same = nn.Linear(3, 3)
    c, d = Input("c", shape=(3,)), Input("d", shape=(3,))
    g2 = Graph([c, d], [same(c), same(d)])
    assert g2.output_shape_of(same) == [(None, 3)]


def test_nested_graph_is_a_block_sharing_weights_with_the_original():
    inner = mlp_graph()
    u, v = Input("u", shape=(16,)), Input("v", shape=(16,))
    outer = Graph([u, v], [inner(u), inner(v)])
    assert list(outer.blocks.values()) == [inner]
    assert outer.nodes_of(inner)[0].output_shapes == [(None, 2)]
    x = torch.randn(4, 16)
    torch.testing.assert_close(outer(x, x)[0], inner(x))
    assert {id(p) for p in outer.parameters()} == {id(p) for p in inner.parameters()}


def test_symbolic_call_hook_lives_only_while_symbolic_tensors_do():
    gc.collect()
    assert not symbolic_calls_enabled()
    x = Input("x", shape=(3,))
    assert symbolic_calls_enabled()
    g = Graph(x, nn.Linear(3, 1)(x))
    del x
    gc.collect()
    assert not symbolic_calls_enabled()
    assert g(torch.randn(2, 3)).shape == (2, 1)


def test_probing_leaves_training_flags_and_running_stats_alone():
    bn = nn.BatchNorm1d(4)
    before = bn.running_mean.clone()
    Graph(x := Input("x", shape=(4,)), bn(x))
    assert bn.training
    torch.testing.assert_close(bn.running_mean, before)


def test_a_frozen_module_trains_in_eval_mode_wherever_it_sits():
    tower = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), nn.Dropout(0.5))
    for inner in tower[1:]:  # inside another block: batch norm and dropout, not the Linear
        freeze(inner)
    x = Input("x", shape=(4,))
    g = Graph(x, nn.Linear(4, 1)(tower(x)))
    g.eval()
    g.train()
    assert g.training and tower.training and tower[0].training
    assert not tower[1].training and not tower[2].training
    stats = tower[1].running_mean.clone()
    batch = torch.randn(8, 4) * 5 + 3
    g(batch).sum().backward()
    torch.testing.assert_close(tower[1].running_mean, stats)  # stored statistics, untouched
    torch.testing.assert_close(g(batch), g(batch))  # no dropout
    assert tower[0].weight.grad is not None and tower[1].weight.grad is None


def test_named_modules_appear_in_the_graph():
    x = Input("x", shape=(3,))
    g = Graph(x, name_module(nn.Linear(3, 2), "head")(x))
    assert list(g.blocks) == ["head"]
    assert g.output_names == ["head"]


def _tower() -> Graph:
    x = Input("x", shape=(3,))
    return Graph(x, nn.Linear(4, 2)(nn.Linear(3, 4)(x)))


def test_a_graph_built_again_names_its_blocks_alike_only_inside_fresh_names():
    """Names count on through the process, as Keras's do; a block's name keys its weights."""
    first = _tower()
    with fresh_names():
        again = _tower()
    with fresh_names():
        third = _tower()
    assert list(again.blocks) == list(third.blocks) == ["linear", "linear_1"]
    third.load_state_dict(again.state_dict())
    assert list(_tower().blocks) != list(first.blocks)  # outside: named on


REUSED = nn.Linear(3, 4)  # a block a builder reuses, as a module-level encoder is


def _on_reused() -> Graph:
    x = Input("x", shape=(3,))
    return Graph(x, {"y": nn.Linear(4, 2)(nn.Linear(4, 4)(REUSED(x)))})


def test_a_builder_reusing_a_block_names_a_second_build_as_the_first():
    """The reused block keeps the name of the build that named it; the new ones skip it."""
    with fresh_names():
        first = _on_reused()
    with fresh_names():
        again = _on_reused()
    assert [n.name for n in again.nodes] == [n.name for n in first.nodes]
    assert list(again.blocks) == list(first.blocks) and len(set(first.blocks)) == 3
    again.load_state_dict(first.state_dict())

    x = Input("tokens", shape=(None, 4))
    deep = nn.Sequential(nn.Conv1d(4, 4, 5), nn.MaxPool1d(5), nn.MaxPool1d(5), nn.MaxPool1d(5), nn.MaxPool1d(5))
    y = deep(Transpose()(x))
    assert y.shape == (None, 4, None)  # 512 steps pool to nothing; the longer probe fits


class Transpose(nn.Module):
    def forward(self, x):
        return x.transpose(1, 2)


def test_a_failed_first_call_leaves_a_lazy_block_unbuilt():
    from plait.blocks import Dense

    dense = Dense(4)
    bad = Input("bad", shape=(3, None))  # Dense needs a known last dimension
    with pytest.raises(GraphError, match="node 'dense.*' \\(Dense\\)"):
        dense(bad)
    assert not dense.built
    assert dense(Input("good", shape=(6,))).shape == (None, 4)
    assert dense.weight.shape[1] == 6


class _Shift(nn.Module):
    def forward(self, x: torch.Tensor, shift: float | None = None, scale: float = 1.0) -> torch.Tensor:
        return x * scale if shift is None else (x + shift) * scale


def test_constant_arguments_none_included_are_passed_as_given():
    x = Input("x", shape=(3,))
    graph = Graph(x, _Shift()(x, None, 2.0))  # None is a constant here, not a tensor's place
    batch = torch.randn(2, 3)
    torch.testing.assert_close(graph(batch), batch * 2.0)
    torch.testing.assert_close(copy.deepcopy(graph)(batch), batch * 2.0)
