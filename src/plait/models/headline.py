"""The Keras guide's multi-input, multi-output model, written in Python."""

from __future__ import annotations

import torch

from plait.blocks import MLP, Concat, Dense, Embedding, LSTMEncoder
from plait.graph import Graph, Input


def headline(*, vocab_size: int, meta_size: int, embedding_dim: int = 128, lstm_units: int = 32,
             dense_units: int = 64, dense_layers: int = 3) -> Graph:
    """Text through an Embedding and an LSTM, with an auxiliary output on the LSTM alone;
    metadata joined after the LSTM; Dense layers to the main output.

    The YAML twin is `conf/model/headline.yaml`; the guide's sizes are
    `Embedding(10000, 512)` and `LSTM(32)`.

    Args:
        vocab_size: token ids run from 0 (padding) to `vocab_size - 1`.
        meta_size: width of the metadata vector.
        embedding_dim: width of a token's vector.
        lstm_units: the LSTM's hidden size.
        dense_units: width of each Dense layer after the join.
        dense_layers: how many Dense layers.

    Shape:
        text `(B, T)` int64, meta `(B, meta_size)` -> popular `(B, 1)`, popular_aux `(B, 1)` logits.
    """
    text = Input("text", shape=(None,), dtype=torch.long)
    meta = Input("meta", shape=(meta_size,))
    lstm_out = LSTMEncoder(hidden_size=lstm_units)(Embedding(vocab_size, embedding_dim)(text))
    popular_aux = Dense(1)(lstm_out)
    hidden = MLP(hidden=[dense_units] * dense_layers)(Concat()([lstm_out, meta]))
    return Graph(inputs=[text, meta], outputs={"popular": Dense(1)(hidden), "popular_aux": popular_aux})
