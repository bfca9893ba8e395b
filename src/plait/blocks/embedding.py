"""`Embedding`: integer ids (tokens, categories) to learned vectors."""

from __future__ import annotations

import torch
from torch import nn

from plait.blocks.base import Block


class Embedding(Block):
    """A table of `num_embeddings` vectors of size `embedding_dim`, looked up by id.

    Id 0 is padding by default: its vector stays zero and receives no gradient. That exact
    zero vector is how padding reaches the blocks after it: an `LSTMEncoder`, `Conv1D`,
    pool or `TimeDistributed` built with `mask_zero=True` reads an all-zero step as padding
    and skips it, wherever it is (see `plait.blocks.masking`). A real id's vector is never
    all zeros in practice: it starts random and moves by gradient. Parameters are exactly
    `num_embeddings * embedding_dim` (10,000 x 64 gives 640,000, as in Keras).

    Args:
        num_embeddings: how many ids there are (vocabulary size, or category count + 1
            when 0 is kept for padding / unknown).
        embedding_dim: size of each vector.
        padding_idx: the id whose vector is zero and frozen; None for none.
        init_std: the standard deviation of the normal distribution the vectors start
            from; None keeps `nn.Embedding`'s N(0, 1). A table read as a linear model
            (`embedding_dim` 1, or one column per class, averaged over a text's words: a
            "wide" bag-of-words path) starts near zero with a small one, 0.01 say, as a
            linear layer's weights would. It must be above 0: a real id's vector of exact
            zeros would read as padding to a masked block after it.

    Shape:
        `(B, ...) -> (B, ..., embedding_dim)`, e.g. tokens `(B, T) -> (B, T, D)` or one
        categorical column `(B,) -> (B, D)`.
    """

    built = True

    def __init__(self, num_embeddings: int, embedding_dim: int = 64, *,
                 padding_idx: int | None = 0, init_std: float | None = None) -> None:
        super().__init__()
        if init_std is not None and not init_std > 0:
            raise ValueError(f"Embedding: init_std is {init_std}; it must be above 0 (a vector "
                             "of zeros reads as padding), or None for nn.Embedding's N(0, 1).")
        self.embedding = nn.Embedding(num_embeddings, embedding_dim, padding_idx=padding_idx)
        if init_std is not None:
            with torch.no_grad():
                self.embedding.weight.normal_(0.0, init_std)
                if padding_idx is not None:
                    self.embedding.weight[padding_idx].zero_()

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.embedding(ids)  # (B, ...) -> (B, ..., D)
