"""Small graphs with every structure an export must keep: masked LSTM, shared and nested
graphs with a bidirectional GRU, TimeDistributed over frames, a per-step output."""

from __future__ import annotations

import torch
from torch import nn

from plait import Graph, Input
from plait.blocks import (
    MLP,
    CNNTower,
    Concat,
    Dense,
    Embedding,
    GRUEncoder,
    LSTMEncoder,
    TimeDistributed,
)
from plait.system import GraphSystem


def masked_lstm() -> GraphSystem:
    """The Keras headline model: padded token ids through a masked LSTM, two outputs."""
    text = Input("text", shape=(None,), dtype=torch.long)
    meta = Input("meta", shape=(5,))
    encoded = LSTMEncoder(hidden_size=8, mask_zero=True)(Embedding(50, 8)(text))
    main = Dense(3)(MLP(hidden=[8])(Concat()([encoded, meta])))
    graph = Graph([text, meta], {"main": main, "aux": Dense(1)(encoded)})
    return GraphSystem(graph, loss={"main": "cross_entropy", "aux": "binary_cross_entropy"})


def shared_nested_gru() -> GraphSystem:
    """A siamese model: one nested graph (a bidirectional GRU and a Dense) called on two inputs."""
    tokens = Input("tokens", shape=(None,), dtype=torch.long)
    tower = Graph(tokens, Dense(8)(GRUEncoder(hidden_size=6, vocab_size=30, embedding_dim=4,
                                               bidirectional=True)(tokens)), name="tower")
    left = Input("left", shape=(None,), dtype=torch.long)
    right = Input("right", shape=(None,), dtype=torch.long)
    same = Dense(2)(Concat()([tower(left), tower(right)]))
    return GraphSystem(Graph([left, right], {"same": same}), loss="cross_entropy")


def frames_and_steps() -> GraphSystem:
    """A CNN over every frame (TimeDistributed) and an LSTM over them; a question's tags per step."""
    frames = Input("frames", shape=(4, 3, 8, 8))
    question = Input("question", shape=(None,), dtype=torch.long)
    video = LSTMEncoder(hidden_size=8)(TimeDistributed(CNNTower((4,)))(frames))
    words = LSTMEncoder(hidden_size=8, vocab_size=20, embedding_dim=4, return_sequences=True)(question)
    answer = Dense(3)(Concat()([video, GRUEncoder(hidden_size=8)(words)]))
    tags = TimeDistributed(Dense(2))(words)
    graph = Graph([frames, question], {"answer": answer, "tags": tags})
    return GraphSystem(graph, loss={"answer": "cross_entropy", "tags": "mse"})


class ExportsDifferently(nn.Module):
    """A block that computes something else while torch exports it: what the check must catch."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + 0.01 if torch.compiler.is_exporting() else x


GRAPHS = {"masked_lstm": masked_lstm, "shared_nested_gru": shared_nested_gru,
          "frames_and_steps": frames_and_steps}


def padded_inputs(system: GraphSystem, rows: int, steps: int, seed: int = 1) -> dict[str, torch.Tensor]:
    """Inputs with `steps` per sequence, each row's ids right-padded with zeros at random lengths."""
    generator = torch.Generator().manual_seed(seed)
    inputs = {}
    for name, spec in system.graph.input_specs.items():
        shape = (rows, *(steps if d is None else d for d in spec.shape))
        if spec.dtype == torch.long:
            ids = torch.randint(1, 20, shape, generator=generator)
            lengths = torch.randint(1, steps + 1, (rows, 1), generator=generator)
            inputs[name] = torch.where(torch.arange(steps) < lengths, ids, 0)
        else:
            inputs[name] = torch.randn(shape, generator=generator)
    return inputs
