"""The error type of the spec compiler."""

from plait.graph import GraphError


class SpecError(GraphError):
    """A graph spec that cannot be compiled: the message names the config key."""
