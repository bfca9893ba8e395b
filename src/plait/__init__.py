"""plait: Keras-functional-style multi-input, multi-output models on PyTorch."""

from typing import Any

from plait.export import export
from plait.graph import Graph, Input, Node, SymbolicTensor, TensorSpec

# `plait.export` is the function (the package of the same name is `plait.export.*`'s home).
__all__ = ["Graph", "Input", "Node", "SymbolicTensor", "TensorSpec", "export", "load_checkpoint"]


def __getattr__(name: str) -> Any:
    # Lightning loads only when a checkpoint is: the graph core stays pure torch.
    if name == "load_checkpoint":
        from plait.system import load_checkpoint

        return load_checkpoint
    raise AttributeError(f"module 'plait' has no attribute {name!r}")
