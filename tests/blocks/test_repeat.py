"""RepeatVector: Keras' fixed count, and the steps of a padded sequence with its padding kept."""

import pytest
import torch
from tests.blocks.padded import PADDINGS, TIGHT, pad, sentences

from plait.blocks import Concat, Embedding, LSTMEncoder, RepeatVector
from plait.graph import Graph, GraphError, Input, TensorSpec
from plait.spec import build_graph

LENGTHS = [7, 4, 1, 9, 5]


def test_a_fixed_count_repeats_as_keras_does():
    v = torch.randn(3, 4)
    out = RepeatVector(5)(v)
    assert out.shape == (3, 5, 4)
    assert torch.equal(out, v[:, None].repeat(1, 5, 1))


def test_the_steps_of_a_sequence_with_zeros_at_its_padding():
    ids = torch.tensor([[3, 7, 0, 0], [0, 5, 2, 9]])
    v = torch.randn(2, 3)
    out = RepeatVector()(v, ids)
    assert out.shape == (2, 4, 3)
    real = ids != 0
    assert torch.equal(out[real], v[:, None].expand(-1, 4, -1)[real])
    assert (out[~real] == 0).all()
    floats = Embedding(10, 6)(ids)  # padding is an all-zero step
    assert torch.equal(RepeatVector()(v, floats), out)
    kept = RepeatVector(mask_zero=False)(v, ids)
    assert torch.equal(kept, v[:, None].expand(-1, 4, -1))


def test_a_question_at_every_word_reaches_an_lstm_that_skips_the_padding():
    """The text_qa graph: the LSTM reads (word, question) steps, however the story is padded."""
    story, question = Input("story", shape=(None,), dtype=torch.long), Input("question", shape=(8,))
    words = Embedding(50, 6)(story)
    steps = Concat()(words, RepeatVector()(question, story))
    assert steps.shape == (None, None, 14)
    lstm = LSTMEncoder(5, mask_zero=True)
    graph = Graph(inputs=[story, question], outputs={"read": lstm(steps)})
    torch.manual_seed(0)
    q = torch.randn(len(LENGTHS), 8)
    reference = graph(pad(sentences(LENGTHS), "right"), q)["read"]
    for padding in PADDINGS:
        got = graph(pad(sentences(LENGTHS), padding), q)["read"]
        torch.testing.assert_close(got, reference, **TIGHT)
    rebuilt = build_graph(graph.to_spec())  # saved as a spec, as a Python graph is
    rebuilt.load_state_dict(graph.state_dict())
    got = rebuilt(pad(sentences(LENGTHS), "mixed"), q)["read"]
    torch.testing.assert_close(got, reference, **TIGHT)
    # Without zeros at the padding, the same LSTM reads the padding as steps.
    unmasked = Graph(inputs=[story, question],
                     outputs=lstm(Concat()(words, RepeatVector(mask_zero=False)(question, story))))
    assert not torch.allclose(unmasked(pad(sentences(LENGTHS), "longer"), q), reference)


@pytest.mark.parametrize(("block", "args", "message"), [
    (RepeatVector(), (TensorSpec((4,)),), r"either n or a sequence .* received neither"),
    (RepeatVector(3), (TensorSpec((4,)), TensorSpec((None,))), r"received n=3 and steps_of"),
    (RepeatVector(3), (TensorSpec((2, 4)),), r"a vector per sample \(B, D\); received"),
    (RepeatVector(), (TensorSpec((4,)), TensorSpec(())), r"steps_of to be a sequence"),
])
def test_misuse_is_named(block, args, message):
    with pytest.raises(GraphError, match=message):
        block.build(*args)


def test_a_graph_names_the_node_of_a_misused_repeat():
    x = Input("x", shape=(2, 4))
    with pytest.raises(GraphError, match=r"node 'repeat_vector\w*' \(RepeatVector\).*\(B, D\)"):
        RepeatVector(3)(x)


def test_misuse_outside_a_graph_is_named_too():
    v, ids = torch.randn(2, 3), torch.tensor([[3, 7, 0, 0], [0, 5, 2, 9]])
    with pytest.raises(GraphError, match=r"received n=3 and steps_of"):
        RepeatVector(3)(v, ids)
    with pytest.raises(GraphError, match=r"received neither"):
        RepeatVector()(v)


@pytest.mark.parametrize("n", [0, 2.5, True])
def test_n_must_be_a_whole_number_of_steps(n):
    with pytest.raises(ValueError, match=rf"n, a whole number of steps >= 1.*received n={n!r}"):
        RepeatVector(n)


def test_a_given_mask_wins_over_the_padding_it_would_find():
    ids = torch.tensor([[3, 7, 0, 0], [0, 5, 2, 9]])
    mask = torch.tensor([[True, False, False, False], [True, True, True, True]])
    out = RepeatVector()(torch.ones(2, 3), ids, mask=mask)
    assert torch.equal(out.ne(0).all(-1), mask)
