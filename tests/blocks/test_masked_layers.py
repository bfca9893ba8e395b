"""Conv1D, pools, TimeDistributed and Conv1DEncoder with `mask_zero`: padding changes nothing."""

import pytest
import torch
from tests.blocks.padded import PADDINGS, TIGHT, pad, sentences

from plait.blocks import (
    Conv1D,
    Conv1DEncoder,
    Dense,
    Embedding,
    GlobalAveragePool1D,
    GlobalMaxPool1D,
    MaxPool1D,
    TimeDistributed,
)

LENGTHS = [7, 4, 1, 9, 5]


def embedded(padding: str, dim: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids and their embeddings: zero vectors at padding, random ones elsewhere."""
    torch.manual_seed(0)
    ids = pad(sentences(LENGTHS), padding)
    return ids, Embedding(50, dim)(ids).detach()


def real_outputs(out: torch.Tensor) -> list[torch.Tensor]:
    """Each sample's non-zero output steps, in order: what the next masked block reads."""
    return [row[row.ne(0).any(-1)] for row in out]


def assert_same_real_outputs(block, **kwargs) -> None:
    reference = real_outputs(block(embedded("right")[1], **kwargs))
    for padding in PADDINGS:
        got = real_outputs(block(embedded(padding)[1], **kwargs))
        for g, want in zip(got, reference):
            torch.testing.assert_close(g, want, **TIGHT)


@pytest.mark.parametrize(("padding", "stride", "kernel"), [("same", 1, 3), ("same", 1, 4),
                                                          ("valid", 1, 3), ("valid", 2, 3)])
def test_conv1d_convolves_the_real_steps_alone(padding, stride, kernel):
    torch.manual_seed(0)
    block = Conv1D(8, kernel, activation="tanh", padding=padding, stride=stride, mask_zero=True)
    block.build_like(embedded("right")[1])
    assert_same_real_outputs(block)
    ids, x = embedded("mixed")
    out = block(x)
    for i in range(len(ids)):
        real = ids[i] != 0
        if padding == "same":  # outputs stay at their input steps
            torch.testing.assert_close(out[i, real], block.convolve(x[i:i + 1, real])[0], **TIGHT)
            assert (out[i, ~real] == 0).all()
        elif real.sum() >= kernel:  # real outputs first, as for the sentence alone
            alone = block.convolve(x[i:i + 1, real])[0]
            torch.testing.assert_close(out[i, :len(alone)], alone, **TIGHT)
            assert (out[i, len(alone):] == 0).all()
        else:  # no window fits in the sentence
            assert (out[i] == 0).all()


def test_max_pool_keeps_a_last_partial_window_when_masked():
    x = torch.arange(1.0, 8.0).view(1, 7, 1)  # steps 1..7, no padding
    assert MaxPool1D(3)(x).flatten().tolist() == [3, 6]  # unmasked: the tail is dropped
    assert MaxPool1D(3, mask_zero=True)(x).flatten().tolist() == [3, 6, 7]
    padded_left = torch.cat([torch.zeros(1, 4, 1), x], dim=1)
    assert MaxPool1D(3, mask_zero=True)(padded_left).flatten().tolist() == [3, 6, 7, 0]


@pytest.mark.parametrize(("pool_size", "stride"), [(2, None), (3, None), (3, 2), (2, 3)])
def test_max_pool_pools_the_real_steps_alone(pool_size, stride):
    block = MaxPool1D(pool_size, stride=stride, mask_zero=True)
    assert_same_real_outputs(block)
    ids, x = embedded("left")
    out = block(x)
    for i in range(len(ids)):
        seq = x[i, ids[i] != 0]  # (L, C)
        starts = range(0, len(seq), block.stride)  # every window that starts at a real step
        want = torch.stack([seq[j:j + pool_size].amax(0) for j in starts])
        torch.testing.assert_close(out[i, :len(want)], want)
        assert (out[i, len(want):] == 0).all()


@pytest.mark.parametrize(("cls", "reduce"), [(GlobalMaxPool1D, lambda s: s.amax(0)),
                                             (GlobalAveragePool1D, lambda s: s.mean(0))])
def test_global_pools_read_the_real_steps_alone(cls, reduce):
    block = cls(mask_zero=True)
    for padding in PADDINGS:
        ids, x = embedded(padding)
        want = torch.stack([reduce(x[i, ids[i] != 0]) for i in range(len(ids))])
        torch.testing.assert_close(block(x), want, **TIGHT)
        torch.testing.assert_close(cls()(x, mask=ids != 0), want, **TIGHT)
    empty = torch.zeros(2, 3, 4)
    empty[0, 1] = -1.0
    assert block(empty).tolist() == [[-1.0] * 4, [0.0] * 4]  # no real step: zeros, not -inf


def test_global_pools_unmasked_read_padding():
    _, x = embedded("right")
    assert torch.equal(GlobalAveragePool1D()(x), x.mean(1))
    assert torch.equal(GlobalMaxPool1D()(x), x.amax(1))


def test_time_distributed_keeps_padding_zero_after_a_bias():
    torch.manual_seed(0)
    dense = Dense(4)
    block = TimeDistributed(dense, mask_zero=True).build_like(embedded("right")[1])
    ids, x = embedded("mixed")
    out = block(x)
    assert (out[ids == 0] == 0).all()
    torch.testing.assert_close(out[ids != 0], dense(x[ids != 0]))
    assert (TimeDistributed(dense)(x)[ids == 0] == dense.bias).all()  # unmasked: the bias


@pytest.mark.parametrize(("padding", "channels", "pool_after"), [("same", (8, 8, 8), (0, 1)),
                                                                  ("valid", (8, 8), (0,))])
def test_conv1d_encoder_ids_are_padding_invariant_with_mask_zero(padding, channels, pool_after):
    torch.manual_seed(0)
    block = Conv1DEncoder(channels, vocab_size=50, embedding_dim=6, kernel_size=3,
                          pool_after=pool_after, pool_size=2, padding=padding, mask_zero=True)
    block.build_like(pad(sentences(LENGTHS), "right")).eval()
    reference = block(pad(sentences(LENGTHS), "right"))
    for name in PADDINGS:
        torch.testing.assert_close(block(pad(sentences(LENGTHS), name)), reference, **TIGHT)
    if padding == "same":  # "valid" needs min_length steps, padding included
        alone = torch.cat([block(s[None]) for s in sentences(LENGTHS)])
        torch.testing.assert_close(alone, reference, **TIGHT)
    block.mask_zero = False  # the default reads padding, as Keras' Conv1D does
    assert not torch.allclose(block(pad(sentences(LENGTHS), "left")), reference)


def test_conv1d_encoder_on_embedded_floats_and_its_gradients():
    torch.manual_seed(0)
    block = Conv1DEncoder((8, 8), kernel_size=3, pool_after=(0,), pool_size=2, padding="same",
                          mask_zero=True).build_like(embedded("right")[1])
    grads = {}
    for name in ("right", "left", "longer"):
        x = embedded(name)[1].requires_grad_()
        block.zero_grad()
        block(x).square().sum().backward()
        grads[name] = [p.grad.clone() for p in block.parameters()]
        assert torch.isfinite(x.grad).all()
    for name in ("left", "longer"):
        for got, want in zip(grads[name], grads["right"]):
            torch.testing.assert_close(got, want, **TIGHT)
