"""Symbolic tensors: what `Input` returns and what calling a module on one returns."""

from __future__ import annotations

import itertools
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

import torch
import torch.utils._pytree as pytree

from plait.graph.errors import GraphError

if TYPE_CHECKING:
    from plait.graph.node import Node

_DTYPES = {
    "float": torch.float32, "float32": torch.float32, "float64": torch.float64,
    "double": torch.float64, "float16": torch.float16, "half": torch.float16,
    "bfloat16": torch.bfloat16, "long": torch.long, "int64": torch.long,
    "int": torch.int32, "int32": torch.int32, "bool": torch.bool,
}


def as_dtype(dtype: torch.dtype | str) -> torch.dtype:
    """Accept a torch dtype or its name (`"long"`, `"float32"`, ...)."""
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype in _DTYPES:
        return _DTYPES[dtype]
    raise GraphError(f"unknown dtype {dtype!r}: expected a torch.dtype or one of {sorted(_DTYPES)}")


def dtype_name(dtype: torch.dtype) -> str:
    """The name `as_dtype` reads back: `"float32"`, `"int64"`, ...

    Raises:
        GraphError: a dtype with no such name.
    """
    name = str(dtype).removeprefix("torch.")
    if name not in _DTYPES:
        raise GraphError(f"dtype {dtype} has no name a spec accepts; names are {sorted(_DTYPES)}")
    return name


def dtype_kind(dtype: torch.dtype) -> str:
    """'float', 'int' or 'bool': the families a graph input accepts interchangeably."""
    if dtype == torch.bool:
        return "bool"
    return "float" if dtype.is_floating_point or dtype.is_complex else "int"


@dataclass(frozen=True)
class TensorSpec:
    """Shape and dtype of one tensor, without the batch dimension.

    Args:
        shape: sizes per dimension after the batch; `None` marks a variable size.
        dtype: the element type.
    """

    shape: tuple[int | None, ...]
    dtype: torch.dtype = torch.float32
    batch_axis: int = 0

    def sizes(self, batch: int, length: int) -> tuple[int, ...]:
        """Concrete sizes with the batch inserted and `length` for every variable size."""
        sizes = [length if d is None else d for d in self.shape]
        sizes.insert(self.batch_axis, batch)
        return tuple(sizes)

    @property
    def full_shape(self) -> tuple[int | None, ...]:
        """The shape with `None` for the batch, as Keras shows it."""
        shape = list(self.shape)
        shape.insert(self.batch_axis, None)
        return tuple(shape)

    def __str__(self) -> str:
        return format_shape(self.shape, self.batch_axis)


def format_shape(shape: tuple[int | None, ...], batch_axis: int = 0) -> str:
    """`(B, 3, None)`-style text for a shape given without its batch dimension."""
    dims = ["None" if d is None else str(d) for d in shape]
    dims.insert(batch_axis, "B")
    return "(" + ", ".join(dims) + ")"


class _Liveness:
    """Counts living symbolic tensors; the call hook (`plait.graph.hook`) is there only meanwhile.

    Installing the hook on `nn.Module.__call__` costs every module call in the process a
    little, so it is there only while a symbolic tensor exists that could be passed to one.
    """

    count = 0
    on_first: list = []
    on_last: list = []

    @classmethod
    def born(cls, obj: object) -> None:
        cls.count += 1
        if cls.count == 1:
            for fn in cls.on_first:
                fn()
        weakref.finalize(obj, cls._died)

    @classmethod
    def _died(cls) -> None:
        cls.count -= 1
        if cls.count == 0:
            for fn in cls.on_last:
                fn()


_input_ids = itertools.count()


class SymbolicTensor:
    """A placeholder for a tensor during graph construction: a spec and its history.

    Args:
        spec: shape (without batch) and dtype.
        node: the call event that produced it; None for an `Input`.
        index: which of the node's outputs it is.
        name: the input's name, or a name given to an intermediate tensor.
    """

    def __init__(self, spec: TensorSpec, node: Node | None = None, index: int = 0,
                 name: str | None = None) -> None:
        self.spec = spec
        self.node = node
        self.index = index
        self.name = name
        _Liveness.born(self)

    @property
    def shape(self) -> tuple[int | None, ...]:
        """The full shape with the batch as `None`, as Keras shows it."""
        return self.spec.full_shape

    @property
    def dtype(self) -> torch.dtype:
        return self.spec.dtype

    @property
    def ndim(self) -> int:
        return len(self.spec.shape) + 1

    @property
    def is_input(self) -> bool:
        return self.node is None

    def describe(self) -> str:
        """Where this tensor comes from, for error messages."""
        if self.is_input:
            return f"input '{self.name}'"
        label = f"output {self.index} of node '{self.node.name}'"
        return f"tensor '{self.name}' ({label})" if self.name else label

    def __repr__(self) -> str:
        return f"<SymbolicTensor {self.describe()} shape={self.spec} dtype={self.dtype}>"

    def __bool__(self) -> bool:
        raise GraphError(
            f"{self.describe()} is symbolic: it has no value, so it cannot be used in a Python condition"
        )

    def _not_recorded(self, *_: Any) -> NoReturn:
        raise GraphError(f"{self.describe()} is symbolic: a graph records calls of modules, not Python "
                         f"operators or indexing on its tensors; {_USE_A_MODULE}")

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _not_recorded
    __matmul__ = __rmatmul__ = __pow__ = __neg__ = __getitem__ = _not_recorded
    __iter__ = None  # not iterable (else Python would iterate through __getitem__)

    @classmethod
    def __torch_function__(cls, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        """A torch function given a symbolic tensor (`torch.relu(x)`) is refused by name;
        `==` and `!=` against a tensor compare identities, as `in` and `list.index` need."""
        if func in _IDENTITY_COMPARISONS:
            return NotImplemented
        symbolic = next(a for a in pytree.tree_leaves((args, kwargs or {})) if isinstance(a, SymbolicTensor))
        name = getattr(func, "__name__", repr(func))
        raise GraphError(f"torch.{name} called on {symbolic.describe()}, which is symbolic: a graph records "
                         f"calls of modules, not torch functions; {_USE_A_MODULE}")


_IDENTITY_COMPARISONS = (torch.Tensor.eq, torch.Tensor.ne, torch.Tensor.__eq__, torch.Tensor.__ne__)
_USE_A_MODULE = ("use a block (plait.blocks.Add, Multiply, Concat, Dense(activation=...)) or a torch "
                 "module (nn.ReLU()), or a module of your own doing it in forward")


def Input(name: str | None = None, *, shape: tuple[int | None, ...] | list,
          dtype: torch.dtype | str = torch.float32) -> SymbolicTensor:
    """A graph input. The batch dimension is implicit; `None` marks a variable size.

    Args:
        name: the input's name, used to call the graph with a dict; `input_<n>` if omitted.
        shape: sizes after the batch dimension, e.g. `(3, 64, 64)` or `(None,)`.
        dtype: element type, a torch dtype or its name (`"long"` for token ids).

    Returns:
        A symbolic tensor to call modules on.
    """
    shape = tuple(shape)
    if not all(d is None or (isinstance(d, int) and d > 0) for d in shape):
        raise GraphError(f"Input '{name}': shape must hold positive ints or None, received {shape}")
    return SymbolicTensor(TensorSpec(shape, as_dtype(dtype)), name=name or f"input_{next(_input_ids)}")
