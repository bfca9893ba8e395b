"""The shared body of `LSTMEncoder` and `GRUEncoder`: padded sequences without packing.

Padding is wherever the mask says (see `plait.blocks.masking`): token id 0 when the
encoder embeds ids itself, all-zero steps with `mask_zero=True`, or a `mask` argument.
The real steps are first moved to the front of each sample, so left, right and inner
padding all read as right padding. The forward direction is causal, so padding after a
sequence never reaches its outputs; its last state is gathered at `length - 1`. The
backward direction reads each sequence reversed within its own length, so it too starts
at the sequence's last real step. No `pack_padded_sequence`, no `.item()`: the forward
compiles without graph breaks.
"""

from __future__ import annotations

import torch
from torch import nn

from plait.blocks.base import Block, sequence_features
from plait.blocks.masking import (
    align_left,
    gather_steps,
    prefix_mask,
    restore_steps,
    step_mask,
    zero_padding,
)
from plait.graph import TensorSpec


class RecurrentEncoder(Block):
    """A stack of unidirectional `rnn_class` layers, one per direction per layer.

    Subclasses set `rnn_class` (`nn.LSTM`, `nn.GRU`). Parameter counts equal the
    corresponding `nn.LSTM`/`nn.GRU` with the same `num_layers` and `bidirectional`.
    """

    rnn_class: type[nn.RNNBase] = nn.RNN

    def __init__(self, hidden_size: int = 128, *, vocab_size: int | None = None,
                 embedding_dim: int = 128, num_layers: int = 1, bidirectional: bool = False,
                 return_sequences: bool = False, dropout: float = 0.0,
                 mask_zero: bool = False) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.num_layers = num_layers
        self.directions = 2 if bidirectional else 1
        self.return_sequences = return_sequences
        self.mask_zero = mask_zero
        self.dropout = nn.Dropout(dropout)
        if vocab_size is not None:
            self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)

    def build(self, spec: TensorSpec, mask: TensorSpec | None = None) -> None:
        features = sequence_features(spec, self, self.vocab_size, self.embedding_dim)
        sizes = [features] + [self.hidden_size * self.directions] * (self.num_layers - 1)
        self.layers = nn.ModuleList(
            nn.ModuleList(self.rnn_class(size, self.hidden_size, batch_first=True)
                          for _ in range(self.directions))
            for size in sizes)
        self.built = True

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        embeds = self.vocab_size is not None
        # Ids always mark padding with 0: the embedding keeps that row at zero.
        mask = step_mask(x, mask, self.mask_zero or embeds, self)  # (B, T) or None
        if embeds:
            x = self.embedding(x)  # (B, T) -> (B, T, E)
        if mask is None:
            lengths = torch.full((x.shape[0],), x.shape[1], device=x.device)  # (B,)
            return self.encode(x, lengths, masked=False)
        aligned = align_left(x, mask)  # real steps first
        out = self.encode(aligned.x, aligned.lengths, masked=True)
        if self.return_sequences:
            return restore_steps(out, aligned.order)  # (B, T, H * dirs), at the input's steps
        return out  # (B, H * dirs)

    def encode(self, x: torch.Tensor, lengths: torch.Tensor, *, masked: bool) -> torch.Tensor:
        """Run the layers over right-padded steps and read each sample at its own length.

        Shape:
            `(B, T, F), (B,) -> (B, H * dirs)`, or `(B, T, H * dirs)` with `return_sequences`.
        """
        steps = x.shape[1]
        reverse = reversed_index(lengths, steps) if self.directions == 2 else None  # (B, T)
        for i, directions in enumerate(self.layers):
            if i > 0:
                x = self.dropout(x)
            outputs = [directions[0](x)[0]]  # (B, T, H)
            if reverse is not None:
                backward = directions[1](gather_steps(x, reverse))[0]  # (B, T, H), reversed
                outputs.append(gather_steps(backward, reverse))  # back in reading order
            x = torch.cat(outputs, dim=-1)  # (B, T, H * dirs)
        if self.return_sequences:
            return zero_padding(x, prefix_mask(lengths, steps)) if masked else x
        last = (lengths - 1).clamp(min=0)  # (B,), an empty sequence reads step 0
        state = gather_steps(x[..., :self.hidden_size], last.unsqueeze(1))  # (B, 1, H)
        if reverse is not None:
            # The backward direction ends its reading at step 0.
            state = torch.cat([state, x[:, :1, self.hidden_size:]], dim=-1)  # (B, 1, 2H)
        state = state.squeeze(1)  # (B, H * dirs)
        return zero_padding(state, lengths > 0) if masked else state  # an empty sample is 0


def reversed_index(lengths: torch.Tensor, steps: int) -> torch.Tensor:
    """Per-sample step order that reverses each sequence within its length, padding kept last.

    The order is its own inverse: gathering twice restores the reading order.

    Shape:
        `(B,) -> (B, T)`
    """
    position = torch.arange(steps, device=lengths.device).unsqueeze(0)  # (1, T)
    length = lengths.unsqueeze(1)  # (B, 1)
    return torch.where(position < length, length - 1 - position, position)  # (B, T)
