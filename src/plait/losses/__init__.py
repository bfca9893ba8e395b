"""Per-output losses on logits and how they are weighted into one total. Pure torch."""

from plait.losses.balancer import FixedWeights, LossBalancer
from plait.losses.dwa import DynamicWeightAverage
from plait.losses.errors import LossError, NonFiniteLoss
from plait.losses.gradnorm import GradNorm
from plait.losses.multi_output import BALANCERS, MultiOutputLoss, make_balancer
from plait.losses.named import (
    LOSS_NAMES,
    PREDICTION_ACTIVATIONS,
    LossSpec,
    activation_fn,
    activation_for,
    match_shapes,
    named_loss,
    resolve_loss,
)
from plait.losses.per_output import check_weight, check_weights, per_output
from plait.losses.uncertainty import UncertaintyWeighting

__all__ = [
    "BALANCERS", "LOSS_NAMES", "PREDICTION_ACTIVATIONS", "DynamicWeightAverage", "FixedWeights",
    "GradNorm", "LossBalancer", "LossError", "LossSpec", "MultiOutputLoss", "NonFiniteLoss",
    "UncertaintyWeighting",
    "activation_fn", "activation_for", "check_weight", "check_weights", "make_balancer",
    "match_shapes", "named_loss", "per_output", "resolve_loss",
]
