"""Padding masks: the helpers, and LSTM/GRU encoders that skip padding wherever it is."""

import pytest
import torch
from tests.blocks import padded
from tests.blocks.padded import PADDINGS, TIGHT, pad
from torch import nn

from plait.blocks import Embedding, GRUEncoder, LSTMEncoder
from plait.blocks.masking import align_left, restore_steps, step_mask

LENGTHS = [7, 4, 1, 9]
CONFIGS = [(1, False), (1, True), (2, False), (2, True)]  # (num_layers, bidirectional)


def sentences() -> list[torch.Tensor]:
    return padded.sentences(LENGTHS)


def masked_encoder(cls, num_layers=1, bidirectional=False, return_sequences=False):
    """An Embedding (id 0 -> zero vector) and an encoder that reads zero steps as padding."""
    torch.manual_seed(0)
    embedding = Embedding(50, 5)
    block = cls(6, num_layers=num_layers, bidirectional=bidirectional,
                return_sequences=return_sequences, mask_zero=True, dropout=0.3)
    block.build_like(embedding(pad(sentences(), "right")))
    return embedding, block.eval()


def real_steps(out: torch.Tensor, ids: torch.Tensor) -> list[torch.Tensor]:
    """Each sample's outputs at its real steps, in order."""
    return [out[i, ids[i] != 0] for i in range(len(ids))]


def test_step_mask_sources():
    ids = torch.tensor([[0, 3, 4], [5, 0, 0]])
    assert step_mask(ids, None, True, nn.Identity()).tolist() == [[False, True, True], [True, False, False]]
    x = torch.ones(2, 3, 4, 2)
    x[0, 1] = 0
    assert step_mask(x, None, True, nn.Identity()).tolist() == [[True, False, True], [True] * 3]
    assert step_mask(x, None, False, nn.Identity()) is None
    given = torch.tensor([[1, 1, 0], [1, 0, 0]])
    assert step_mask(x, given, False, nn.Identity()).dtype == torch.bool  # a given mask wins
    with pytest.raises(ValueError, match=r"LSTMEncoder expects a mask \(B, T\) = \(2, 3\) for its "
                                         r"input \(2, 3, 4, 2\); received \(2, 4\)"):
        step_mask(x, torch.ones(2, 4), True, LSTMEncoder())


def test_align_left_keeps_order_and_restore_undoes_it():
    mask = torch.tensor([[False, True, False, True, True], [True, True, False, False, False]])
    x = torch.arange(10.0).view(2, 5, 1)
    aligned = align_left(x, mask)
    assert aligned.x[..., 0].tolist() == [[1, 3, 4, 0, 2], [5, 6, 7, 8, 9]]
    assert aligned.lengths.tolist() == [3, 2]
    assert torch.equal(restore_steps(aligned.x, aligned.order), x)


@pytest.mark.parametrize("cls", [LSTMEncoder, GRUEncoder])
@pytest.mark.parametrize(("num_layers", "bidirectional"), CONFIGS)
def test_final_state_is_the_same_however_the_sentences_are_padded(cls, num_layers, bidirectional):
    embedding, block = masked_encoder(cls, num_layers, bidirectional)
    reference = block(embedding(pad(sentences(), "right")))
    assert reference.shape == (len(LENGTHS), 6 * block.directions)
    for padding in PADDINGS:
        torch.testing.assert_close(block(embedding(pad(sentences(), padding))), reference, **TIGHT)
    alone = torch.cat([block(embedding(s[None])) for s in sentences()])  # unpadded, one by one
    torch.testing.assert_close(alone, reference, **TIGHT)


@pytest.mark.parametrize("cls", [LSTMEncoder, GRUEncoder])
@pytest.mark.parametrize(("num_layers", "bidirectional"), CONFIGS)
def test_sequences_stay_at_their_steps_and_padding_outputs_zero(cls, num_layers, bidirectional):
    embedding, block = masked_encoder(cls, num_layers, bidirectional, return_sequences=True)
    right = pad(sentences(), "right")
    reference = real_steps(block(embedding(right)), right)
    for padding in PADDINGS:
        ids = pad(sentences(), padding)
        out = block(embedding(ids))
        assert (out[ids == 0] == 0).all()
        for got, want in zip(real_steps(out, ids), reference):
            torch.testing.assert_close(got, want, **TIGHT)


@pytest.mark.parametrize("cls", [LSTMEncoder, GRUEncoder])
def test_token_ids_are_left_padding_invariant_too(cls):
    block = cls(6, vocab_size=50, embedding_dim=5, bidirectional=True).build_like(pad(sentences(), "right"))
    reference = block(pad(sentences(), "right"))
    for padding in PADDINGS:
        torch.testing.assert_close(block(pad(sentences(), padding)), reference, **TIGHT)


def test_padding_between_steps_is_skipped():
    embedding, block = masked_encoder(LSTMEncoder, bidirectional=True)
    gapped = torch.tensor([[0, 4, 0, 0, 9, 3, 0]])
    torch.testing.assert_close(block(embedding(gapped)), block(embedding(torch.tensor([[4, 9, 3]]))), **TIGHT)


def test_a_given_mask_equals_zero_steps_and_ignores_what_padding_holds():
    embedding, block = masked_encoder(LSTMEncoder, 2, True)
    ids = pad(sentences(), "mixed")
    x = embedding(ids)
    noisy = torch.where((ids == 0).unsqueeze(-1), torch.randn_like(x), x)  # padding not zero
    block.mask_zero = False
    torch.testing.assert_close(block(noisy, mask=ids != 0), block(x, ids != 0), **TIGHT)
    block.mask_zero = True
    torch.testing.assert_close(block(x), block(noisy, ids != 0), **TIGHT)


def test_without_mask_zero_float_steps_are_all_read():
    embedding, block = masked_encoder(LSTMEncoder)
    block.mask_zero = False  # the default: zero steps are data, as in nn.LSTM
    right, left = embedding(pad(sentences(), "right")), embedding(pad(sentences(), "left"))
    assert not torch.allclose(block(right), block(left))


@pytest.mark.parametrize("cls", [LSTMEncoder, GRUEncoder])
def test_gradients_are_the_same_however_the_sentences_are_padded(cls):
    embedding, block = masked_encoder(cls, 2, True)  # eval: no dropout draws to differ
    grads = []
    for padding in PADDINGS:
        block.zero_grad()
        embedding.zero_grad()
        block(embedding(pad(sentences(), padding))).square().sum().backward()
        grads.append([p.grad.clone() for p in [*block.parameters(), *embedding.parameters()]])
    assert (grads[0][-1][0] == 0).all()  # the padding vector takes no gradient
    for other in grads[1:]:
        for got, want in zip(other, grads[0]):
            torch.testing.assert_close(got, want, **TIGHT)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_an_all_padding_sample_encodes_to_zeros_with_finite_gradients(bidirectional):
    embedding, block = masked_encoder(LSTMEncoder, 2, bidirectional)
    ids = torch.tensor([[3, 4, 0], [0, 0, 0]])
    x = embedding(ids).detach().requires_grad_()
    out = block(x)
    assert (out[1] == 0).all()
    out.sum().backward()
    assert torch.isfinite(x.grad).all() and (x.grad[1] == 0).all()
