"""The error type of the spec compiler."""

from plait.graph import GraphError


class SpecError(GraphError):
    """A graph spec that cannot be compiled: the message names the config key."""


class UnknownTarget(SpecError):
    """A `_target_` that does not import: a block class of one's own not on the path."""
