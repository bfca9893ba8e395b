"""RelationNetwork: g over every pair of objects with the question, summed, then f."""

import pytest
import torch

from plait.blocks import Dense, RelationNetwork
from plait.graph import Graph, GraphError, Input, TensorSpec


def network(**kwargs) -> RelationNetwork:
    return RelationNetwork(g_hidden=(16, 12), f_hidden=(10, 7), **kwargs)


def test_map_and_set_shapes():
    rn = network().build_like(torch.randn(2, 8, 4, 5), torch.randn(2, 11))
    assert rn(torch.randn(2, 8, 4, 5), torch.randn(2, 11)).shape == (2, 7)
    assert rn.grid.shape == (20, 2)
    objects = network().build_like(torch.randn(2, 6, 8), torch.randn(2, 11))
    assert objects(torch.randn(3, 6, 8), torch.randn(3, 11)).shape == (3, 7)


def test_equals_g_on_every_concatenated_pair():
    """The split first layer is the paper's g on [o_i, o_j, q], summed over all N^2 pairs."""
    rn = network(coordinates=False).build_like(torch.randn(2, 5, 3), torch.randn(2, 4))
    objects, question = torch.randn(2, 5, 3), torch.randn(2, 4)
    weight = torch.cat([rn.g_left.weight, rn.g_right.weight, rn.g_question.weight], dim=1)
    total = torch.zeros(2, 12)
    for i in range(5):
        for j in range(5):
            pair = torch.cat([objects[:, i], objects[:, j], question], dim=-1)
            total += rn.g_rest(torch.relu(pair @ weight.T + rn.g_left.bias))
    assert torch.allclose(rn(objects, question), rn.f(total), atol=1e-5)


def test_a_set_of_objects_has_no_order():
    rn = network().build_like(torch.randn(2, 6, 8), torch.randn(2, 11))
    objects, question = torch.randn(2, 6, 8), torch.randn(2, 11)
    shuffled = objects[:, torch.randperm(6)]
    assert torch.allclose(rn(objects, question), rn(shuffled, question), atol=1e-5)


def test_map_cells_carry_their_coordinates():
    rn = network().build_like(torch.randn(1, 3, 2, 3), torch.randn(1, 4))
    assert rn.grid.tolist() == [[-1, -1], [0, -1], [1, -1], [-1, 1], [0, 1], [1, 1]]
    assert "grid" not in rn.state_dict()  # rebuilt from the shape, never stored
    one = torch.zeros(1, 3, 2, 3)
    one[0, :, 0, 0] = 1.0
    moved = torch.zeros(1, 3, 2, 3)
    moved[0, :, 1, 2] = 1.0
    question = torch.randn(1, 4)
    assert not torch.allclose(rn(one, question), rn(moved, question))
    blind = network(coordinates=False).build_like(one, question)
    assert torch.allclose(blind(one, question), blind(moved, question), atol=1e-6)


def test_in_a_graph_with_a_head():
    image = Input("features", shape=(8, 4, 4))
    question = Input("question", shape=(11,))
    rn = network()
    graph = Graph([image, question], Dense(10)(rn(image, question)))
    assert graph(torch.randn(3, 8, 4, 4), torch.randn(3, 11)).shape == (3, 10)
    assert rn.g_left.in_features == 10  # 8 channels + (x, y)


@pytest.mark.parametrize(("objects", "question", "message"), [
    ((8,), (11,), r"expects objects as a feature map \(B, C, H, W\) or a set \(B, N, C\); "
                  r"received \(B, 8\)"),
    ((8, 4, 4), (2, 11), r"expects a question vector \(B, Q\); received \(B, 2, 11\)"),
    ((8, None, 4), (11,), r"needs a known feature map height; received \(B, 8, None, 4\)"),
])
def test_shape_errors_name_expected_and_received(objects, question, message):
    with pytest.raises(ValueError, match=message):
        network().build(TensorSpec(objects), TensorSpec(question))


def test_graph_error_names_the_node():
    image, question = Input("features", shape=(8,)), Input("question", shape=(11,))
    with pytest.raises(GraphError, match=r"node 'relation_network.*' \(RelationNetwork\).*"
                                         r"feature map \(B, C, H, W\) or a set"):
        network()(image, question)


def test_needs_layers_in_g_and_f():
    with pytest.raises(ValueError, match=r"at least one layer in g and in f; received "
                                         r"g_hidden=\[\], f_hidden=\[8\]"):
        RelationNetwork(g_hidden=(), f_hidden=(8,))


def test_unknown_activation_fails_at_construction():
    with pytest.raises(ValueError, match="swish_typo"):
        RelationNetwork(activation="swish_typo")


def test_no_graph_breaks():
    objects, question = torch.randn(2, 8, 4, 4), torch.randn(2, 11)
    rn = network(dropout=0.1).build_like(objects, question)
    explanation = torch._dynamo.explain(rn)(objects, question)
    assert explanation.graph_break_count == 0, explanation.break_reasons
    assert explanation.graph_count == 1
