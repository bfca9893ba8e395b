"""`Conv1DEncoder`: a 1D-CNN text encoder, tokens or features to one vector."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from plait.blocks.base import Block, sequence_features
from plait.blocks.conv1d import conv_lengths
from plait.blocks.masking import align_left, prefix_mask, step_mask, zero_padding
from plait.blocks.pooling import masked_global_max, masked_max_pool
from plait.graph import TensorSpec


class Conv1DEncoder(Block):
    """Stacked `Conv1d + ReLU` layers, max pooling after chosen layers, global max pool.

    The defaults are the seed "posts" model: Conv1D(128, 5) -> MaxPool(5) -> Conv1D(256, 5)
    -> Conv1D(256, 5) -> MaxPool(5) -> Conv1D(256, 5) -> Conv1D(256, 5) -> GlobalMaxPool.
    Each valid convolution and each pool shortens the sequence, so inputs shorter than
    `min_length` fail: 269 steps for the defaults, 25 with `padding="same"`. Padding
    is read like any other step, as in Keras' `Conv1D`, unless `mask_zero` is set (or a
    `mask` given): then only the real steps are read, as one sequence with zeros beyond
    its ends, so where the padding was changes nothing. Masked pools keep a last window
    that does not fit, so every real step counts; with `"valid"` convolutions a sequence
    shorter than its windows encodes to zeros.

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
        mask_zero: read id 0, or a float step whose every value is zero, as padding.

    Shape:
        `(B, T) long or (B, T, F) float [, mask (B, T) bool] -> (B, channels[-1])`
    """

    def __init__(self, channels: Sequence[int] = (128, 256, 256, 256, 256), *,
                 vocab_size: int | None = None, embedding_dim: int = 128, kernel_size: int = 5,
                 pool_after: Sequence[int] = (0, 2), pool_size: int = 5, padding: str = "valid",
                 dropout: float = 0.0, mask_zero: bool = False) -> None:
        super().__init__()
        self.channels = tuple(channels)
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.kernel_size = kernel_size
        self.pool_after = tuple(pool_after)
        self.pool_size = pool_size
        self.padding = padding
        self.mask_zero = mask_zero
        self.dropout = nn.Dropout(dropout)
        if vocab_size is not None:
            self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        self.min_length = 1  # the shortest input that leaves one step for the global pool
        for i in reversed(range(len(self.channels))):
            if i in self.pool_after:
                self.min_length *= pool_size
            if padding == "valid":
                self.min_length += kernel_size - 1

    def build(self, spec: TensorSpec, mask: TensorSpec | None = None) -> None:
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

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        mask = step_mask(x, mask, self.mask_zero, self)  # (B, T) or None
        if self.vocab_size is not None:
            x = self.embedding(x)  # (B, T) -> (B, T, E)
        if mask is None:
            x = self.convs(x.transpose(1, 2))  # (B, C, T) -> (B, D, T')
            return self.dropout(x.amax(dim=-1))  # (B, D)
        aligned = align_left(x, mask)  # pools and strides start at the first real step
        x, lengths = self.masked_convs(aligned.x.transpose(1, 2), aligned.lengths)  # (B, D, T')
        x = masked_global_max(x.transpose(1, 2), prefix_mask(lengths, x.shape[-1]))  # (B, D)
        return self.dropout(x)

    def masked_convs(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The layers over right-padded steps, keeping each sample's real length.

        Shape:
            `(B, C, T), (B,) -> (B, D, T'), (B,)`
        """
        for layer in self.convs:
            if isinstance(layer, nn.Conv1d):
                # A ReLU leaves padded steps non-zero: zero them so they read as padding.
                x = layer(zero_padding(x, prefix_mask(lengths, x.shape[-1]).unsqueeze(1)))
                lengths = conv_lengths(lengths, self.kernel_size, 1, self.padding)
            elif isinstance(layer, nn.MaxPool1d):
                x, lengths = masked_max_pool(x, lengths, self.pool_size, self.pool_size)
            else:
                x = layer(x)
        return x, lengths
