"""The functional DAG: symbolic inputs, module calls recorded as nodes, `Graph`. Pure torch."""

from plait.graph.errors import GraphError
from plait.graph.graph import Graph
from plait.graph.hook import symbolic_calls_enabled
from plait.graph.node import Node, freeze, fresh_names, is_frozen, module_name, name_module
from plait.graph.plan import Plan, Step
from plait.graph.tensor import Input, SymbolicTensor, TensorSpec
from plait.graph.toposort import topological_order

__all__ = [
    "Graph", "GraphError", "Input", "Node", "Plan", "Step", "SymbolicTensor", "TensorSpec",
    "freeze", "fresh_names", "is_frozen", "module_name", "name_module", "symbolic_calls_enabled", "topological_order",
]
