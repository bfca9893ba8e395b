"""The one error type of the losses: a loss that cannot be configured or applied."""


class LossError(ValueError):
    """A loss, weight or target that does not fit: the message names the output or key."""


class NonFiniteLoss(LossError):
    """A loss that became NaN or infinite: the message names the output, stage, epoch and step."""
