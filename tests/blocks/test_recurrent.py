"""LSTM/GRU encoders on right-padded sequences: same answer as unpadded, as `nn.LSTM`."""

import pytest
import torch
from torch import nn

from plait.blocks import GRUEncoder, LSTMEncoder
from plait.graph import TensorSpec

ENCODERS = [(LSTMEncoder, nn.LSTM), (GRUEncoder, nn.GRU)]
CONFIGS = [(1, False), (1, True), (2, False), (2, True)]  # (num_layers, bidirectional)
LENGTHS = [7, 4, 1, 9]


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def padded_batch(lengths: list[int], steps: int, vocab: int = 50) -> tuple[torch.Tensor, list]:
    """Right-padded token ids (B, steps) and the unpadded sequences (1, L) they hold."""
    sequences = [torch.randint(1, vocab, (1, n)) for n in lengths]
    batch = torch.zeros(len(lengths), steps, dtype=torch.long)
    for i, seq in enumerate(sequences):
        batch[i, : seq.shape[1]] = seq[0]
    return batch, sequences


def encoder(cls, num_layers=1, bidirectional=False, return_sequences=False):
    block = cls(6, vocab_size=50, embedding_dim=5, num_layers=num_layers,
                bidirectional=bidirectional, return_sequences=return_sequences, dropout=0.3)
    block.build(TensorSpec((None,), torch.long))
    return block.eval()


def reference(block, rnn_class) -> nn.RNNBase:
    """The `nn.LSTM`/`nn.GRU` with the encoder's weights, for unpadded sequences."""
    dirs = block.directions
    ref = rnn_class(block.embedding_dim, block.hidden_size, num_layers=block.num_layers,
                    bidirectional=dirs == 2, batch_first=True)
    for layer, directions in enumerate(block.layers):
        for d, rnn in enumerate(directions):
            suffix = "_reverse" if d else ""
            for name, value in rnn.named_parameters():
                getattr(ref, name.replace("l0", f"l{layer}") + suffix).data.copy_(value)
    return ref.eval()


@pytest.mark.parametrize(("cls", "rnn_class"), ENCODERS)
@pytest.mark.parametrize(("num_layers", "bidirectional"), CONFIGS)
def test_last_state_of_a_padded_sequence_equals_the_unpadded_one(cls, rnn_class, num_layers,
                                                                  bidirectional):
    block = encoder(cls, num_layers, bidirectional)
    ref = reference(block, rnn_class)
    batch, sequences = padded_batch(LENGTHS, steps=12)
    out = block(batch)
    assert out.shape == (len(LENGTHS), 6 * block.directions)
    for i, seq in enumerate(sequences):
        assert torch.allclose(out[i], block(seq)[0], atol=1e-6)
        h_n = ref(block.embedding(seq))[1]
        h_n = (h_n[0] if isinstance(h_n, tuple) else h_n)[-block.directions:]  # last layer
        assert torch.allclose(out[i], h_n.flatten(), atol=1e-6)


@pytest.mark.parametrize(("cls", "rnn_class"), ENCODERS)
@pytest.mark.parametrize(("num_layers", "bidirectional"), CONFIGS)
def test_sequences_of_a_padded_batch_equal_the_unpadded_ones(cls, rnn_class, num_layers,
                                                             bidirectional):
    block = encoder(cls, num_layers, bidirectional, return_sequences=True)
    ref = reference(block, rnn_class)
    batch, sequences = padded_batch(LENGTHS, steps=12)
    out = block(batch)
    assert out.shape == (len(LENGTHS), 12, 6 * block.directions)
    for i, seq in enumerate(sequences):
        n = seq.shape[1]
        assert torch.allclose(out[i, :n], ref(block.embedding(seq))[0][0], atol=1e-6)
        assert (out[i, n:] == 0).all()


@pytest.mark.parametrize("cls", [LSTMEncoder, GRUEncoder])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_an_all_padding_sequence_encodes_to_zeros(cls, bidirectional):
    block = encoder(cls, 2, bidirectional)
    batch, _ = padded_batch([3, 0], steps=5)
    out = block(batch)
    assert torch.isfinite(out).all()
    assert (out[1] == 0).all()


def test_float_features_are_read_in_full_like_nn_lstm():
    block = LSTMEncoder(32)
    block.build(TensorSpec((None, 256)))
    # Keras' LSTM(32) on 256 features has 36,992: PyTorch keeps two bias vectors per gate.
    assert n_params(block) == n_params(nn.LSTM(256, 32, batch_first=True)) == 37_120
    x = torch.randn(3, 10, 256)
    ref = nn.LSTM(256, 32, batch_first=True)
    ref.load_state_dict({k.replace("layers.0.0.", ""): v for k, v in block.state_dict().items()})
    assert torch.allclose(block(x), ref(x)[1][0][0], atol=1e-6)


@pytest.mark.parametrize(("cls", "rnn_class"), ENCODERS)
def test_parameters_equal_torch_rnns(cls, rnn_class):
    block = cls(16, vocab_size=100, embedding_dim=8, num_layers=2, bidirectional=True)
    block.build(TensorSpec((None,), torch.long))
    ref = rnn_class(8, 16, num_layers=2, bidirectional=True)
    assert n_params(block) == 100 * 8 + n_params(ref)


@pytest.mark.parametrize(("block", "spec", "message"), [
    (LSTMEncoder(vocab_size=10), TensorSpec((None, 4)),
     r"LSTMEncoder\(vocab_size=10\) expects integer token ids \(B, T\); received torch.float32 \(B, None, 4\)"),
    (GRUEncoder(), TensorSpec((None,), torch.long),
     r"GRUEncoder without vocab_size expects float features \(B, T, F\); received torch.int64 \(B, None\)"),
])
def test_wrong_inputs_are_named(block, spec, message):
    with pytest.raises(ValueError, match=message):
        block.build(spec)
