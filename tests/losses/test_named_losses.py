"""Named losses match torch's reference values, handle shapes, and explain what does not fit."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from plait.losses import (
    LOSS_NAMES,
    LossError,
    LossSpec,
    activation_fn,
    activation_for,
    named_loss,
    resolve_loss,
)

B = 6


def _regression_pair():
    return torch.randn(B, 3), torch.randn(B, 3)


@pytest.mark.parametrize(("name", "reference"), [
    ("mse", F.mse_loss), ("mean_squared_error", F.mse_loss), ("mae", F.l1_loss),
    ("l1", F.l1_loss), ("mean_absolute_error", F.l1_loss), ("huber", F.huber_loss),
])
def test_regression_losses_match_torch(name: str, reference) -> None:
    logits, target = _regression_pair()
    got = named_loss(name).fn(logits, target)
    torch.testing.assert_close(got, reference(logits, target))


@pytest.mark.parametrize("name", ["binary_cross_entropy", "binary_crossentropy", "multilabel"])
def test_binary_losses_match_torch(name: str) -> None:
    logits, target = torch.randn(B, 4), torch.randint(0, 2, (B, 4)).float()
    torch.testing.assert_close(named_loss(name).fn(logits, target),
                               F.binary_cross_entropy_with_logits(logits, target))


@pytest.mark.parametrize("name", ["cross_entropy", "categorical_crossentropy",
                                  "sparse_categorical_crossentropy"])
def test_cross_entropy_matches_torch(name: str) -> None:
    logits, target = torch.randn(B, 5), torch.randint(0, 5, (B,))
    torch.testing.assert_close(named_loss(name).fn(logits, target), F.cross_entropy(logits, target))


def test_class_indices_and_one_hot_give_the_same_cross_entropy() -> None:
    logits, target = torch.randn(B, 5), torch.randint(0, 5, (B,))
    fn = named_loss("cross_entropy").fn
    one_hot = F.one_hot(target, 5)
    torch.testing.assert_close(fn(logits, target), fn(logits, one_hot.float()))
    torch.testing.assert_close(fn(logits, target), fn(logits, one_hot))  # int one-hot too
    torch.testing.assert_close(fn(logits, target), fn(logits, target[:, None]))  # (B, 1) indices


def test_cross_entropy_takes_soft_targets() -> None:
    logits, probs = torch.randn(B, 5), torch.softmax(torch.randn(B, 5), -1)
    torch.testing.assert_close(named_loss("cross_entropy").fn(logits, probs),
                               F.cross_entropy(logits, probs))


def test_cross_entropy_reads_classes_from_the_last_dimension() -> None:
    logits, target = torch.randn(B, 7, 5), torch.randint(0, 5, (B, 7))  # TimeDistributed head
    torch.testing.assert_close(named_loss("cross_entropy").fn(logits, target),
                               F.cross_entropy(logits.permute(0, 2, 1), target))


def test_a_trailing_size_one_dim_is_dropped_on_either_side() -> None:
    logits, target = torch.randn(B, 1), torch.randint(0, 2, (B,))
    expected = F.binary_cross_entropy_with_logits(logits[:, 0], target.float())
    fn = named_loss("binary_cross_entropy").fn
    torch.testing.assert_close(fn(logits, target), expected)
    torch.testing.assert_close(fn(logits[:, 0], target[:, None]), expected)
    torch.testing.assert_close(named_loss("mse").fn(logits, target.float()),
                               F.mse_loss(logits[:, 0], target.float()))


def test_named_loss_binds_arguments_of_its_torch_function() -> None:
    logits, target = _regression_pair()
    torch.testing.assert_close(named_loss("huber", delta=0.3).fn(logits, target),
                               F.huber_loss(logits, target, delta=0.3))
    logits, classes = torch.randn(B, 5), torch.randint(0, 5, (B,))
    torch.testing.assert_close(named_loss("cross_entropy", label_smoothing=0.1).fn(logits, classes),
                               F.cross_entropy(logits, classes, label_smoothing=0.1))


@pytest.mark.parametrize(("loss", "activation"), [
    ("cross_entropy", "softmax"), ("binary_cross_entropy", "sigmoid"), ("multilabel", "sigmoid"),
    ("mse", "identity"), ("mae", "identity"), ("l1", "identity"), ("huber", "identity"),
    (nn.MSELoss(), "identity"), (LossSpec("focal", F.l1_loss, "sigmoid"), "sigmoid"),
])
def test_every_loss_declares_its_prediction_activation(loss, activation: str) -> None:
    assert activation_for(loss) == activation


def test_activations_turn_logits_into_predictions() -> None:
    logits = torch.randn(B, 4)
    torch.testing.assert_close(activation_fn("softmax")(logits).sum(-1), torch.ones(B))
    torch.testing.assert_close(activation_fn("sigmoid")(logits), torch.sigmoid(logits))
    assert activation_fn("identity")(logits) is logits


def test_a_callable_loss_keeps_its_class_name() -> None:
    spec = resolve_loss(nn.SmoothL1Loss())
    assert (spec.name, spec.activation) == ("SmoothL1Loss", "identity")


def test_shape_mismatch_names_expected_and_received() -> None:
    with pytest.raises(LossError, match=r"^loss mse expects target shape \(B,\) or \(B, 1\) "
                                        r"matching logits \(B, 1\), received \(B, 3\)$"):
        named_loss("mse").fn(torch.randn(B, 1), torch.randn(B, 3))
    with pytest.raises(LossError, match=r"^loss multilabel expects target shape \(B, 3\) matching "
                                        r"logits \(B, 3\), received \(B, 2\)$"):
        named_loss("multilabel").fn(torch.randn(B, 3), torch.ones(B, 2))


def test_batch_size_mismatch_says_both_sizes() -> None:
    with pytest.raises(LossError, match=r"^loss huber expects a target with the batch size of the "
                                        r"logits \(6\), received 4 rows$"):
        named_loss("huber").fn(torch.randn(B, 1), torch.randn(4))


def test_cross_entropy_on_float_class_indices_says_what_it_takes() -> None:
    with pytest.raises(LossError, match=r"^loss cross_entropy expects class indices \(int64\) of "
                                        r"shape \(B,\) or one-hot/probabilities \(float\) of shape "
                                        r"\(B, 5\), received torch.float32 \(B,\)$"):
        named_loss("cross_entropy").fn(torch.randn(B, 5), torch.zeros(B))


def test_cross_entropy_on_one_logit_points_to_binary_cross_entropy() -> None:
    with pytest.raises(LossError, match=r"expects logits \(B, C\) with classes on the last "
                                        r"dimension, received \(B,\); for one logit per sample "
                                        "use binary_cross_entropy"):
        named_loss("cross_entropy").fn(torch.randn(B), torch.zeros(B, dtype=torch.long))


def test_unknown_loss_lists_the_known_ones() -> None:
    with pytest.raises(LossError, match=r"^unknown loss 'mse2': expected one of \[") as info:
        named_loss("mse2")
    assert all(repr(name) in str(info.value) for name in LOSS_NAMES)


def test_unknown_argument_lists_the_allowed_ones() -> None:
    with pytest.raises(LossError, match=r"^loss huber takes no argument 'beta': expected any of "
                                        r"\['delta', 'weight'\]$"):
        named_loss("huber", beta=1.0)
    with pytest.raises(LossError, match="^loss mse takes no argument 'reduction': every output's "
                                        "loss is the mean"):
        named_loss("mse", reduction="none")


def test_a_loss_class_asks_for_an_instance() -> None:
    with pytest.raises(LossError, match=r"^loss MSELoss is a class: expected an instance, e.g. "
                                        r"MSELoss\(\) \(in YAML, \{_target_: "):
        resolve_loss(nn.MSELoss)


def test_something_not_a_loss_says_what_was_received() -> None:
    with pytest.raises(LossError, match=r"expected a loss name, a LossSpec or a callable "
                                        r"loss\(logits, target\), received 3 \(int\)"):
        resolve_loss(3)


def test_unknown_activation_lists_the_known_ones() -> None:
    with pytest.raises(LossError, match=r"^unknown activation 'tanh': expected one of "
                                        r"\['identity', 'sigmoid', 'softmax'\]$"):
        LossSpec("custom", F.mse_loss, "tanh")
