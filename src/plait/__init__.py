"""plait: Keras-functional-style multi-input, multi-output models on PyTorch."""

from plait.graph import Graph, Input, Node, SymbolicTensor, TensorSpec

__all__ = ["Graph", "Input", "Node", "SymbolicTensor", "TensorSpec"]
