"""The one error type of the graph core."""


class GraphError(ValueError):
    """A graph that cannot be built or called: the message names the node or input."""
