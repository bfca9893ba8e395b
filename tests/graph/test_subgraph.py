"""`Graph.get_block` and `Graph.subgraph` on graphs written in Python: feature extraction."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from plait.blocks import CNNTower, Concat, Dense, LSTMEncoder
from plait.graph import Graph, GraphError, Input, name_module


def vqa_graph() -> Graph:
    image = Input("image", shape=(3, 16, 16))
    question = Input("question", shape=(None,), dtype=torch.long)
    reader = name_module(LSTMEncoder(8, vocab_size=30, embedding_dim=8), "reader")
    vision = name_module(CNNTower(channels=(4, 8)), "vision")
    merged = name_module(Concat(), "merge")([reader(question), vision(image)])
    hidden = name_module(Dense(6, activation="relu"), "joint")(merged)
    return Graph([image, question], {"answer": name_module(Dense(3), "head")(hidden)})


def batch() -> tuple[torch.Tensor, torch.Tensor]:
    return torch.randn(2, 3, 16, 16), torch.randint(1, 30, (2, 7))


def test_get_block_returns_the_registered_module_or_lists_the_names():
    graph = vqa_graph()
    assert graph.get_block("joint") is graph.blocks["joint"]
    with pytest.raises(GraphError, match=r"has no block 'jont'; blocks are \['reader', 'vision', "
                       r"'merge', 'joint', 'head'\]"):
        graph.get_block("jont")


def test_get_block_reaches_into_a_nested_graph():
    x = Input("x", shape=(4,))
    inner = Graph(x, name_module(nn.Linear(4, 2), "proj")(x), name="inner")
    y = Input("y", shape=(4,))
    outer = Graph(y, inner(y))
    assert outer.get_block("inner.proj") is inner.blocks["proj"]
    with pytest.raises(GraphError, match="'proj' of graph .* is a Linear, not a graph"):
        outer.get_block("inner.proj.weight")


def test_a_subgraph_extracts_inner_features_with_the_same_modules():
    graph = vqa_graph().eval()
    features = graph.subgraph(["joint"])
    assert features.input_names == ["image", "question"] and features.output_names == ["joint"]
    assert all(features.get_block(n) is graph.get_block(n) for n in features.blocks)
    image, question = batch()
    by_hand = graph.get_block("joint")(graph.get_block("merge")(
        [graph.get_block("reader")(question), graph.get_block("vision")(image)]))
    torch.testing.assert_close(features(image, question)["joint"], by_hand)
    torch.testing.assert_close(graph.get_block("head")(by_hand), graph(image, question)["answer"])


def test_a_subgraph_takes_only_the_inputs_its_outputs_need():
    graph = vqa_graph()
    vision = graph.subgraph("vision")
    assert vision.input_names == ["image"]
    image, _ = batch()
    assert isinstance(vision(image), torch.Tensor)  # one name given: one tensor returned


def test_an_inner_tensor_can_be_the_subgraph_input():
    graph = vqa_graph().eval()
    head = graph.subgraph("answer", inputs=["merge"])  # an output's name picks its node
    assert head.input_names == ["merge"] and head.input_specs["merge"].shape == (16,)
    merged = torch.randn(2, 16)
    expected = graph.get_block("head")(graph.get_block("joint")(merged))
    torch.testing.assert_close(head(merged), expected)


def test_a_subgraph_trains_the_original_weights():
    graph = vqa_graph()
    features = graph.subgraph("joint")
    before = graph.get_block("joint").weight.detach().clone()
    torch.optim.SGD(features.parameters(), lr=0.1).zero_grad()
    features(*batch()).sum().backward()
    torch.optim.SGD(features.parameters(), lr=0.1).step()
    assert not torch.equal(graph.get_block("joint").weight, before)


def test_the_second_call_of_a_shared_module_is_named_as_in_the_summary():
    shared = name_module(nn.Linear(4, 4), "shared")
    a, b = Input("a", shape=(4,)), Input("b", shape=(4,))
    graph = Graph([a, b], nn.Bilinear(4, 4, 1)(shared(a), shared(b)))
    assert "shared:1" in graph.summary(print_fn=None)
    second = graph.subgraph("shared:1")
    assert second.input_names == ["b"]
    assert graph.subgraph("shared_1").input_names == ["b"]  # the key to_spec writes for it
    x = torch.randn(3, 4)
    torch.testing.assert_close(second(x), shared(x))


def test_one_output_of_several_is_picked_by_index():
    x = Input("x", shape=(None, 4))
    lstm = name_module(nn.LSTM(4, 5, batch_first=True), "lstm")
    sequence, (h, c) = lstm(x)
    graph = Graph(x, [sequence, c])
    cell = graph.subgraph("lstm[2]")
    steps = torch.randn(2, 6, 4)
    torch.testing.assert_close(cell(steps), lstm(steps)[1][1])
    with pytest.raises(GraphError, match=r"output 'lstm' gives 3 tensors; pick one as 'lstm\[i\]'"):
        graph.subgraph("lstm")
    with pytest.raises(GraphError, match=r"'lstm\[3\]' is out of range: node 'lstm' gives 3 tensor"):
        graph.subgraph("lstm[3]")


def test_unknown_names_and_missing_inputs_are_named():
    graph = vqa_graph()
    with pytest.raises(GraphError, match=r"output 'jont' names no input, node or output; inputs are "
                       r"\['image', 'question'\], nodes are \['reader', 'vision', 'merge', 'joint', 'head'\]"):
        graph.subgraph(["jont"])
    with pytest.raises(GraphError, match=r"input 'mrege' names no input, node or output"):
        graph.subgraph("joint", inputs=["mrege"])
    with pytest.raises(GraphError, match=r"outputs \['joint'\] need inputs \['question'\], which are "
                       r"not among the subgraph's inputs \['image'\]"):
        graph.subgraph("joint", inputs=["image"])
