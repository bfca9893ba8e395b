"""The shared body of `LSTMEncoder` and `GRUEncoder`: padded sequences without packing.

Token id 0 is padding, on the right. Each sample's length is its count of non-zero ids.
The forward direction is causal, so padding after a sequence never reaches its outputs;
its last state is gathered at `length - 1`. The backward direction reads each sequence
reversed within its own length, so it too starts at the sequence's last real token. No
`pack_padded_sequence`, no `.item()`: the forward compiles without graph breaks.
"""

from __future__ import annotations

import torch
from torch import nn

from plait.blocks.base import Block, sequence_features
from plait.graph import TensorSpec


class RecurrentEncoder(Block):
    """A stack of unidirectional `rnn_class` layers, one per direction per layer.

    Subclasses set `rnn_class` (`nn.LSTM`, `nn.GRU`). Parameter counts equal the
    corresponding `nn.LSTM`/`nn.GRU` with the same `num_layers` and `bidirectional`.
    """

    rnn_class: type[nn.RNNBase] = nn.RNN

    def __init__(self, hidden_size: int = 128, *, vocab_size: int | None = None,
                 embedding_dim: int = 128, num_layers: int = 1, bidirectional: bool = False,
                 return_sequences: bool = False, dropout: float = 0.0) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.num_layers = num_layers
        self.directions = 2 if bidirectional else 1
        self.return_sequences = return_sequences
        self.dropout = nn.Dropout(dropout)
        if vocab_size is not None:
            self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)

    def build(self, spec: TensorSpec) -> None:
        features = sequence_features(spec, self, self.vocab_size, self.embedding_dim)
        sizes = [features] + [self.hidden_size * self.directions] * (self.num_layers - 1)
        self.layers = nn.ModuleList(
            nn.ModuleList(self.rnn_class(size, self.hidden_size, batch_first=True)
                          for _ in range(self.directions))
            for size in sizes)
        self.built = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, steps = x.shape[0], x.shape[1]
        if self.vocab_size is not None:
            mask = x != 0  # (B, T), right padding
            lengths = mask.sum(1)  # (B,)
            x = self.embedding(x)  # (B, T) -> (B, T, E)
        else:
            mask = None
            lengths = torch.full((batch,), steps, device=x.device)
        last = (lengths - 1).clamp(min=0)  # (B,), an empty sequence reads step 0
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
            return x if mask is None else x * mask.unsqueeze(-1).to(x.dtype)  # (B, T, H * dirs)
        state = gather_steps(x[..., :self.hidden_size], last.unsqueeze(1))  # (B, 1, H)
        if reverse is not None:
            # The backward direction ends its reading at step 0.
            state = torch.cat([state, x[:, :1, self.hidden_size:]], dim=-1)  # (B, 1, 2H)
        state = state.squeeze(1)  # (B, H * dirs)
        return state if mask is None else state * (lengths > 0).unsqueeze(-1).to(state.dtype)


def reversed_index(lengths: torch.Tensor, steps: int) -> torch.Tensor:
    """Per-sample step order that reverses each sequence within its length, padding kept last.

    The order is its own inverse: gathering twice restores the reading order.

    Shape:
        `(B,) -> (B, T)`
    """
    position = torch.arange(steps, device=lengths.device).unsqueeze(0)  # (1, T)
    length = lengths.unsqueeze(1)  # (B, 1)
    return torch.where(position < length, length - 1 - position, position)  # (B, T)


def gather_steps(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """`x[b, index[b, t]]` for every sample and step: `(B, T, H), (B, S) -> (B, S, H)`."""
    return x.gather(1, index.unsqueeze(-1).expand(-1, -1, x.shape[-1]))
