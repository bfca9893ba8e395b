"""Graphs built from a spec: inner nodes known by their `nodes:` keys, specs written back alike."""

from __future__ import annotations

import copy

import pytest
import torch

from plait.graph import GraphError
from plait.spec import build_graph

SPEC = {
    "inputs": {"image": {"shape": [3, 16, 16]}, "question": {"shape": [None], "dtype": "long"}},
    "blocks": {
        "vision": {"_target_": "plait.blocks.CNNTower", "channels": [4, 8]},
        "question": {"_target_": "plait.blocks.LSTMEncoder", "vocab_size": 30, "hidden_size": 8,
                     "embedding_dim": 8},
        "merge": {"_target_": "plait.blocks.Concat"},
        "joint": {"_target_": "plait.blocks.MLP", "hidden": [6]},
        "answer": {"_target_": "plait.blocks.Dense", "units": 3},
    },
    "nodes": {"image_vec": "vision(image)", "question_vec": "question(question)",
              "merged": "merge(question_vec, image_vec)", "joint_vec": "joint(merged)",
              "answer": "answer(joint_vec)"},
    "outputs": {"answer": {"loss": "cross_entropy"}},
}


def batch() -> tuple[torch.Tensor, torch.Tensor]:
    return torch.randn(2, 3, 16, 16), torch.randint(1, 30, (2, 7))


def test_features_by_node_key_share_the_graph_s_modules():
    graph = build_graph(copy.deepcopy(SPEC)).eval()
    features = graph.subgraph(["joint_vec"])
    assert features.input_names == ["image", "question"]
    assert features.get_block("joint") is graph.get_block("joint")
    image, question = batch()
    joint_vec = features(image, question)["joint_vec"]
    torch.testing.assert_close(graph.get_block("answer")(joint_vec), graph(image, question)["answer"])


def test_block_names_as_the_summary_shows_them_work_too():
    graph = build_graph(copy.deepcopy(SPEC)).eval()
    image, _ = batch()
    by_key, by_block = graph.subgraph("image_vec"), graph.subgraph("vision")
    assert by_key.input_names == by_block.input_names == ["image"]
    torch.testing.assert_close(by_key(image), by_block(image))


def test_a_head_from_an_inner_tensor():
    graph = build_graph(copy.deepcopy(SPEC)).eval()
    head = graph.subgraph("answer", inputs=["joint_vec"])
    joint_vec = torch.randn(2, 6)
    torch.testing.assert_close(head(joint_vec), graph.get_block("answer")(joint_vec))


def test_unknown_nodes_are_listed_by_key():
    graph = build_graph(copy.deepcopy(SPEC))
    with pytest.raises(GraphError, match=r"output 'joint_vector' names no input, node or output; inputs "
                       r"are \['image', 'question'\], nodes are \['image_vec', 'question_vec', "
                       r"'merged', 'joint_vec', 'answer'\]"):
        graph.subgraph(["joint_vector"])


def test_a_built_graph_writes_its_own_spec_back():
    graph = build_graph(copy.deepcopy(SPEC))
    spec = graph.to_spec()
    assert spec["nodes"] == SPEC["nodes"]
    assert {n: c["_target_"] for n, c in spec["blocks"].items()} == {
        n: c["_target_"] for n, c in SPEC["blocks"].items()}
    assert spec["blocks"]["joint"]["hidden"] == [6]
    assert spec["outputs"] == {"answer": {"node": "answer"}}


def test_a_subgraph_is_a_graph_like_any_other_and_describes_itself():
    graph = build_graph(copy.deepcopy(SPEC)).eval()
    features = graph.subgraph(["joint_vec"])
    spec = features.to_spec()
    assert list(spec["nodes"]) == ["image_vec", "question_vec", "merged", "joint_vec"]
    again = build_graph(spec).eval()
    again.load_state_dict(features.state_dict())
    image, question = batch()
    torch.testing.assert_close(again(image, question)["joint_vec"], features(image, question)["joint_vec"])
