"""The hook on `nn.Module.__call__` that turns a call on symbolic tensors into a node.

It is installed when the first symbolic tensor is made and removed when the last one is
freed: while it is there, every module call in the process pays for the check.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from plait.graph.node import symbolic_call
from plait.graph.tensor import SymbolicTensor, _Liveness

_plain_call = nn.Module.__call__


def _has_symbolic(args: tuple, kwargs: dict) -> bool:
    """Whether a symbolic tensor is among the arguments, or one level inside them."""
    for value in (*args, *kwargs.values()):
        if isinstance(value, SymbolicTensor):
            return True
        if isinstance(value, (list, tuple)):
            if any(isinstance(v, SymbolicTensor) for v in value):
                return True
        elif isinstance(value, dict) and any(isinstance(v, SymbolicTensor) for v in value.values()):
            return True
    return False


def _call(self: nn.Module, *args: Any, **kwargs: Any) -> Any:
    if _has_symbolic(args, kwargs):
        return symbolic_call(self, args, kwargs)
    return _plain_call(self, *args, **kwargs)


def _install() -> None:
    nn.Module.__call__ = _call


def _uninstall() -> None:
    nn.Module.__call__ = _plain_call


def symbolic_calls_enabled() -> bool:
    """Whether `nn.Module.__call__` currently checks for symbolic tensors."""
    return nn.Module.__call__ is _call


_Liveness.on_first.append(_install)
_Liveness.on_last.append(_uninstall)
