"""Seed models built as graphs give the same outputs however their sentences are padded.

Keras carries a mask from `Embedding(mask_zero=True)` to the layers after it. Here the
`Embedding`'s padding id (0) gives an exact zero vector, and blocks built with
`mask_zero=True` read all-zero steps as padding, so no graph change is needed.
"""

import torch
from tests.blocks.padded import PADDINGS, TIGHT, pad, sentences
from torch import nn

from plait.blocks import (
    Concat,
    Conv1D,
    Dense,
    Embedding,
    GlobalAveragePool1D,
    GlobalMaxPool1D,
    LSTMEncoder,
    MaxPool1D,
)
from plait.graph import Graph, Input, name_module

HEADLINES = [100, 37, 5, 1, 64]  # the guide's headlines are up to 100 words


def headline_model() -> Graph:
    """The guide's headline model with its sizes; sentences of any length, padded with 0."""
    torch.manual_seed(0)
    main_input = Input("main_input", shape=(None,), dtype=torch.long)
    lstm_out = name_module(LSTMEncoder(32, mask_zero=True), "lstm")(Embedding(10_000, 512)(main_input))
    auxiliary_output = Dense(1)(lstm_out)
    auxiliary_input = Input("aux_input", shape=(5,))
    x = Concat()([lstm_out, auxiliary_input])
    for _ in range(3):
        x = Dense(64, activation="relu")(x)
    outputs = {"main_output": Dense(1)(x), "aux_output": auxiliary_output}
    return Graph([main_input, auxiliary_input], outputs).eval()


def question_answering_model() -> Graph:
    """Deep Learning with Python's two-input question answering model."""
    torch.manual_seed(0)
    text_input = Input("text", shape=(None,), dtype="int32")
    encoded_text = LSTMEncoder(32, mask_zero=True)(Embedding(10_000, 64)(text_input))
    question_input = Input("question", shape=(None,), dtype="int32")
    encoded_question = LSTMEncoder(16, mask_zero=True)(Embedding(10_000, 32)(question_input))
    answer = Dense(500)(Concat(axis=-1)([encoded_text, encoded_question]))
    return Graph([text_input, question_input], answer).eval()


def test_headline_model_outputs_do_not_depend_on_padding():
    model, meta = headline_model(), torch.randn(len(HEADLINES), 5)
    headlines = sentences(HEADLINES, vocab=10_000)
    reference = model(pad(headlines, "right"), meta)
    for padding in PADDINGS:
        out = model(pad(headlines, padding), meta)
        for name in ("main_output", "aux_output"):
            torch.testing.assert_close(out[name], reference[name], **TIGHT)
    for i, headline in enumerate(headlines):  # each headline alone, unpadded
        alone = model(headline[None], meta[i:i + 1])
        torch.testing.assert_close(alone["main_output"][0], reference["main_output"][i], **TIGHT)


def test_question_answering_model_outputs_do_not_depend_on_padding():
    model = question_answering_model()
    texts = sentences([80, 12, 3, 45], vocab=10_000, seed=1)
    questions = sentences([6, 9, 1, 4], vocab=10_000, seed=2)
    reference = model(pad(texts, "right"), pad(questions, "right"))
    for text_padding in PADDINGS:
        for question_padding in ("right", "left", "longer"):
            out = model(pad(texts, text_padding), pad(questions, question_padding))
            torch.testing.assert_close(out, reference, **TIGHT)


def test_gradients_do_not_depend_on_padding():
    model, meta = headline_model(), torch.randn(len(HEADLINES), 5)
    headlines = sentences(HEADLINES, vocab=10_000)
    grads = {}
    for padding in ("right", "left", "longer"):
        model.zero_grad()
        out = model(pad(headlines, padding), meta)
        (out["main_output"].sum() + 0.2 * out["aux_output"].sum()).backward()
        grads[padding] = {name: p.grad.clone() for name, p in model.named_parameters()}
    assert grads["right"]["blocks.lstm.layers.0.0.weight_ih_l0"].abs().sum() > 0
    for padding in ("left", "longer"):
        for name, grad in grads[padding].items():
            torch.testing.assert_close(grad, grads["right"][name], **TIGHT, msg=name)


def posts_model() -> Graph:
    """The book's posts model shrunk, its convolutions and pools masked."""
    torch.manual_seed(0)
    posts = Input("posts", shape=(None,), dtype="int32")
    x = Embedding(500, 16)(posts)
    x = MaxPool1D(3, mask_zero=True)(Conv1D(16, 3, activation="relu", padding="same", mask_zero=True)(x))
    x = Conv1D(16, 3, activation="relu", padding="same", mask_zero=True)(x)
    x = GlobalMaxPool1D(mask_zero=True)(x)
    return Graph(posts, {"age": Dense(1)(x), "income": Dense(10)(x)}).eval()


def test_masked_convolutions_and_pools_in_a_graph():
    model, posts = posts_model(), sentences([30, 7, 2, 16], vocab=500)
    reference = model(pad(posts, "right"))
    assert reference["income"].abs().sum() > 0
    for padding in PADDINGS:
        out = model(pad(posts, padding))
        for name in reference:
            torch.testing.assert_close(out[name], reference[name], **TIGHT)


class NotPadding(nn.Module):
    """Token ids to a mask, for blocks that take one: `(B, T) -> (B, T)` bool."""

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return ids != 0


def test_a_mask_given_as_a_node_input():
    torch.manual_seed(0)
    words = Input("words", shape=(None,), dtype=torch.long)
    mask = name_module(NotPadding(), "mask")(words)
    lstm = name_module(LSTMEncoder(8, return_sequences=True), "lstm")
    steps = lstm(Embedding(100, 4)(words), mask=mask)
    model = Graph(words, GlobalAveragePool1D()(steps, mask=mask)).eval()
    assert model.nodes[-1].connected_to == ["lstm", "mask"]
    batch = sentences([9, 3, 1], vocab=100)
    reference = model(pad(batch, "right"))
    for padding in PADDINGS:
        torch.testing.assert_close(model(pad(batch, padding)), reference, **TIGHT)


def test_a_masked_graph_compiles_whole_and_matches_eager():
    model = question_answering_model()
    text, question = pad(sentences([9, 3], vocab=10_000), "left"), pad(sentences([2, 5], vocab=10_000), "mixed")
    torch._dynamo.reset()
    with torch._dynamo.config.patch(allow_rnn=True):  # dynamo leaves RNN modules out by default
        explained = torch._dynamo.explain(model)(text, question)
        assert explained.graph_break_count == 0, explained.break_reasons
        compiled = torch.compile(model, backend="eager")
        torch.testing.assert_close(compiled(text, question), model(text, question))
