"""Graphs compile with torch.compile without graph breaks (dynamo's explain, eager backend)."""

import torch

from plait.blocks import CNNTower, Concat, Dense, LSTMEncoder
from plait.graph import Graph, Input


def dense_net() -> Graph:
    x = Input("pixels", shape=(784,))
    return Graph(x, Dense(10)(Dense(64, activation="relu")(Dense(64, activation="relu")(x))))


def vqa_net() -> Graph:
    image = Input("image", shape=(3, 32, 32))
    question = Input("question", shape=(None,), dtype=torch.long)
    merged = Concat()([LSTMEncoder(32, vocab_size=40, embedding_dim=16)(question), CNNTower(channels=(8, 16))(image)])
    return Graph([image, question], {"answer": Dense(13)(merged)})


def breaks(model: torch.nn.Module, *inputs: torch.Tensor) -> tuple[int, list]:
    torch._dynamo.reset()
    with torch._dynamo.config.patch(allow_rnn=True):  # dynamo leaves RNN modules out by default
        explained = torch._dynamo.explain(model)(*inputs)
    return explained.graph_break_count, explained.break_reasons


def test_dense_graph_compiles_whole():
    assert breaks(dense_net(), torch.randn(4, 784)) == (0, [])


def test_multi_input_graph_with_an_lstm_compiles_whole_and_matches_eager():
    graph = vqa_net()
    image, question = torch.randn(4, 3, 32, 32), torch.randint(1, 40, (4, 7))
    question[1, 4:] = 0
    assert breaks(graph, image, question) == (0, [])
    with torch._dynamo.config.patch(allow_rnn=True):
        compiled = torch.compile(graph, backend="eager")
        torch.testing.assert_close(compiled(image, question)["answer"], graph(image, question)["answer"])
