"""Blocks called on symbolic tensors: built from the graph's shapes, no sizes from the user."""

import pytest
import torch

from plait.blocks import (
    Add,
    CNNTower,
    Concat,
    Conv1DEncoder,
    Dense,
    Embedding,
    Flatten,
    InceptionBlock,
    LSTMEncoder,
    ResidualBlock,
    TimeDistributed,
)
from plait.graph import Graph, GraphError, Input


def test_dense_on_a_concat_of_inputs():
    x, aux = Input("x", shape=(32,)), Input("aux", shape=(5,))
    y = Dense(64)(Concat()(x, aux))
    assert y.shape == (None, 64)
    graph = Graph(inputs=[x, aux], outputs=y)
    assert graph(torch.randn(4, 32), torch.randn(4, 5)).shape == (4, 64)


def test_the_seed_multi_input_model():
    """The Keras guide's headline model: Embedding -> LSTM(32), concat aux, Dense stack."""
    main = Input("main_input", shape=(100,), dtype=torch.long)
    aux = Input("aux_input", shape=(5,))
    lstm_out = LSTMEncoder(32)(Embedding(10_000, 512)(main))
    aux_output = Dense(1)(lstm_out)
    x = Concat()([lstm_out, aux])
    for _ in range(3):
        x = Dense(64, activation="relu")(x)
    graph = Graph(inputs=[main, aux], outputs={"main": Dense(1)(x), "aux": aux_output})
    out = graph(torch.randint(1, 10_000, (2, 100)), torch.randn(2, 5))
    assert out["main"].shape == out["aux"].shape == (2, 1)


def test_text_encoders_keep_the_variable_length():
    tokens = Input("text", shape=(None,), dtype=torch.long)
    assert LSTMEncoder(16, vocab_size=50, bidirectional=True)(tokens).shape == (None, 32)
    assert LSTMEncoder(16, vocab_size=50, return_sequences=True)(tokens).shape == (None, None, 16)
    assert Conv1DEncoder(vocab_size=50)(tokens).shape == (None, 256)


def test_the_vqa_model_from_the_design():
    image = Input("image", shape=(3, 64, 64))
    question = Input("question", shape=(None,), dtype=torch.long)
    merged = Concat()([LSTMEncoder(vocab_size=100, hidden_size=128)(question),
                       CNNTower(channels=(32, 64, 128))(image)])
    graph = Graph(inputs=[image, question], outputs={"answer": Dense(13)(merged)})
    out = graph(torch.randn(2, 3, 64, 64), torch.randint(0, 100, (2, 9)))
    assert out["answer"].shape == (2, 13)


def test_inception_and_residual_blocks_on_images():
    image = Input("image", shape=(3, 32, 32))
    towers = InceptionBlock(16)(ResidualBlock()(image))
    assert towers.shape == (None, 48, 32, 32)
    both = Concat(axis=1)(towers, image)
    assert both.shape == (None, 51, 32, 32)
    assert Flatten()(both).shape == (None, 51 * 32 * 32)


def test_time_distributed_graph_over_video_frames():
    frame = Input("frame", shape=(3, 16, 16))
    vision = Graph(inputs=frame, outputs=CNNTower((8, 16))(frame))
    video = Input("video", shape=(None, 3, 16, 16))
    frames = TimeDistributed(vision)(video)
    assert frames.shape == (None, None, 16)
    encoded = LSTMEncoder(8)(frames)
    graph = Graph(inputs=video, outputs=encoded)
    assert graph(torch.randn(2, 4, 3, 16, 16)).shape == (2, 8)


def test_time_distributed_builds_a_lazy_block():
    steps = Input("steps", shape=(None, 4))
    assert TimeDistributed(Dense(8))(steps).shape == (None, None, 8)


def test_a_shared_merge_is_checked_at_every_call():
    a, b, c = Input("a", shape=(4,)), Input("b", shape=(4,)), Input("c", shape=(3,))
    add = Add()
    add(a, b)
    with pytest.raises(GraphError, match=r"Add expects inputs of one shape; received \(B, 4\), \(B, 3\)"):
        add(a, c)


def test_merge_errors_reach_the_user_with_the_node_name():
    a, b = Input("a", shape=(32,)), Input("b", shape=(16,))
    with pytest.raises(GraphError, match=r"node 'add\w*' \(Add\).*received \(B, 32\), \(B, 16\)"):
        Add()(a, b)
    with pytest.raises(GraphError, match=r"\(Concat\).*but axis -1; received \(B, 2, 32\), \(B, 3, 16\)"):
        Concat()(Input(shape=(2, 32)), Input(shape=(3, 16)))
