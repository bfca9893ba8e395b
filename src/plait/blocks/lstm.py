"""`LSTMEncoder`: a token or feature sequence to a vector (or a sequence) with an LSTM."""

from __future__ import annotations

from torch import nn

from plait.blocks.recurrent import RecurrentEncoder


class LSTMEncoder(RecurrentEncoder):
    """An LSTM over a padded sequence, correct for every length without packing.

    Given `vocab_size`, it embeds integer token ids itself and id 0 is padding. Float
    features `(B, T, F)` are read in full, unless `mask_zero` makes all-zero steps padding
    (as after an `Embedding`, whose padding vector is zero) or `forward` gets a `mask`.
    Padding is skipped wherever it is, left, right or between steps: the result equals the
    result for the real steps alone, and padded outputs of `return_sequences` are zero.
    PyTorch keeps two bias vectors per gate where Keras keeps one, so `LSTM(32)` on 256
    features has 37,120 parameters here and 36,992 in Keras.

    Args:
        hidden_size: state size per direction.
        vocab_size: number of token ids to embed; None when the input is float features.
        embedding_dim: size of the token embedding (used only with `vocab_size`).
        num_layers: stacked LSTM layers.
        bidirectional: also read each sequence backwards, within its own length.
        return_sequences: return every step's output (padded steps zeroed) instead of
            the last state.
        dropout: dropout between stacked layers, as in `nn.LSTM`.
        mask_zero: read a float step whose every value is zero as padding.

    Shape:
        `(B, T) long or (B, T, F) float [, mask (B, T) bool] -> (B, H * dirs)`, or
        `(B, T, H * dirs)` with `return_sequences`.
    """

    rnn_class = nn.LSTM
