"""Graph specs (plain data, e.g. from YAML) compiled into `Graph`s through the Python API."""

from plait.spec.compile import build_graph, is_graph_spec
from plait.spec.errors import SpecError
from plait.spec.instantiate import instantiate, locate

__all__ = ["SpecError", "build_graph", "instantiate", "is_graph_spec", "locate"]
