"""Blocks trace into one graph: no `.item()`, no packing, no data-dependent branches."""

import pytest
import torch

from plait.blocks import (
    MLP,
    CNNTower,
    Concat,
    Conv1D,
    Conv1DEncoder,
    Dense,
    GlobalAveragePool1D,
    GRUEncoder,
    InceptionBlock,
    LSTMEncoder,
    MaxPool1D,
    ResidualBlock,
    TimeDistributed,
)


def tokens(steps: int = 12) -> torch.Tensor:
    x = torch.randint(1, 100, (3, steps))
    x[1, steps // 2:] = 0  # a padded sample
    x[2] = 0  # an empty one
    return x


def embedded(steps: int = 12) -> torch.Tensor:
    """Float steps with zero vectors where `tokens` pads, as an `Embedding` gives them."""
    x = torch.randn(3, steps, 5)
    return x * (tokens(steps) != 0).unsqueeze(-1)


CASES = {
    "lstm": (lambda: LSTMEncoder(16, vocab_size=100), tokens),
    "lstm_bidirectional_2_layers": (
        lambda: LSTMEncoder(16, vocab_size=100, num_layers=2, bidirectional=True), tokens),
    "lstm_sequences": (lambda: LSTMEncoder(16, vocab_size=100, return_sequences=True), tokens),
    "gru_float": (lambda: GRUEncoder(16, bidirectional=True), lambda: torch.randn(3, 12, 5)),
    "conv1d_encoder": (lambda: Conv1DEncoder(vocab_size=100), lambda: tokens(300)),
    "conv1d_encoder_masked": (lambda: Conv1DEncoder(vocab_size=100, mask_zero=True), lambda: tokens(300)),
    "lstm_mask_zero": (lambda: LSTMEncoder(16, bidirectional=True, mask_zero=True), embedded),
    "conv1d_masked": (lambda: Conv1D(4, 3, stride=2, mask_zero=True), embedded),
    "max_pool_masked": (lambda: MaxPool1D(3, mask_zero=True), embedded),
    "average_pool_masked": (lambda: GlobalAveragePool1D(mask_zero=True), embedded),
    "cnn_tower": (lambda: CNNTower(batch_norm=True), lambda: torch.randn(2, 3, 32, 32)),
    "inception": (InceptionBlock, lambda: torch.randn(2, 3, 16, 16)),
    "residual": (lambda: ResidualBlock(2, batch_norm=True), lambda: torch.randn(2, 3, 16, 16)),
    "mlp": (lambda: MLP(batch_norm=True), lambda: torch.randn(4, 6, 10)),
    "time_distributed": (lambda: TimeDistributed(Dense(4)), lambda: torch.randn(2, 5, 3)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_no_graph_breaks(name):
    make, example = CASES[name]
    x = example()  # short sequences: tracing an RNN walks every step
    block = make().build_like(x)
    with torch._dynamo.config.patch(allow_rnn=True):
        explanation = torch._dynamo.explain(block)(x)
    assert explanation.graph_break_count == 0, explanation.break_reasons
    assert explanation.graph_count == 1


def test_concat_of_a_list_has_no_graph_breaks():
    explanation = torch._dynamo.explain(Concat())([torch.randn(2, 3), torch.randn(2, 4)])
    assert explanation.graph_break_count == 0


def test_compiled_lstm_encoder_matches_eager():
    block = LSTMEncoder(8, vocab_size=100, bidirectional=True).build_like(tokens(20)).eval()
    x = tokens(20)
    with torch._dynamo.config.patch(allow_rnn=True):
        compiled = torch.compile(block, backend="eager", fullgraph=True)
        assert torch.allclose(compiled(x), block(x))
