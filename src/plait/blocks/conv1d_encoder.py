"""`Conv1DEncoder`: a 1D-CNN text encoder, tokens or features to one vector."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from plait.blocks.base import Block, sequence_features
from plait.graph import TensorSpec


class Conv1DEncoder(Block):
    """Stacked `Conv1d + ReLU` layers, max pooling after chosen layers, global max pool.

    The defaults are the seed "posts" model: Conv1D(128, 5) -> MaxPool(5) -> Conv1D(256, 5)
    -> Conv1D(256, 5) -> MaxPool(5) -> Conv1D(256, 5) -> Conv1D(256, 5) -> GlobalMaxPool.
    Each valid convolution and each pool shortens the sequence, so inputs shorter than
    `min_length` fail: 269 steps for the defaults, 25 with `padding="same"`. Padding
    tokens are read like any other token, as in Keras' `Conv1D`.

    Args:
        channels: output channels of each convolution.
        vocab_size: number of token ids to embed (id 0 is padding); None when the input is
            float features `(B, T, F)`.
        embedding_dim: size of the token embedding (used only with `vocab_size`).
        kernel_size: kernel width of every convolution.
        pool_after: indices of the convolutions followed by a max pool.
        pool_size: width and stride of those max pools.
        padding: `"valid"` or `"same"`, for every convolution.
        dropout: dropout on the output vector.

    Shape:
        `(B, T) long or (B, T, F) float -> (B, channels[-1])`
    """

    def __init__(self, channels: Sequence[int] = (128, 256, 256, 256, 256), *,
                 vocab_size: int | None = None, embedding_dim: int = 128, kernel_size: int = 5,
                 pool_after: Sequence[int] = (0, 2), pool_size: int = 5, padding: str = "valid",
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.channels = tuple(channels)
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.kernel_size = kernel_size
        self.pool_after = tuple(pool_after)
        self.pool_size = pool_size
        self.padding = padding
        self.dropout = nn.Dropout(dropout)
        if vocab_size is not None:
            self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        self.min_length = 1  # the shortest input that leaves one step for the global pool
        for i in reversed(range(len(self.channels))):
            if i in self.pool_after:
                self.min_length *= pool_size
            if padding == "valid":
                self.min_length += kernel_size - 1

    def build(self, spec: TensorSpec) -> None:
        size = sequence_features(spec, self, self.vocab_size, self.embedding_dim)
        if spec.shape[0] is not None and spec.shape[0] < self.min_length:
            raise ValueError(f"Conv1DEncoder needs sequences of at least {self.min_length} steps "
                             f"for its convolutions and pools; received {spec}")
        layers: list[nn.Module] = []
        for i, out in enumerate(self.channels):
            layers += [nn.Conv1d(size, out, self.kernel_size, padding=self.padding), nn.ReLU()]
            if i in self.pool_after:
                layers.append(nn.MaxPool1d(self.pool_size))
            size = out
        self.convs = nn.Sequential(*layers)
        self.built = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.vocab_size is not None:
            x = self.embedding(x)  # (B, T) -> (B, T, E)
        x = self.convs(x.transpose(1, 2))  # (B, C, T) -> (B, D, T')
        return self.dropout(x.amax(dim=-1))  # (B, D)
