"""A node is one call event: a module called on symbolic tensors.

A module call that finds a symbolic tensor among its arguments (see `plait.graph.hook`)
is recorded as a `Node` instead of being run. The module is built from the input specs
if it is a lazy plait block, and its output shapes are inferred by running it on fake
tensors, which carry shapes and no data.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import re
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.utils._pytree as pytree
from torch import nn
from torch._subclasses.fake_tensor import (
    DataDependentOutputException,
    DynamicOutputShapeException,
    FakeTensorMode,
)

from plait.graph.arguments import Arguments
from plait.graph.errors import GraphError
from plait.graph.tensor import SymbolicTensor, TensorSpec

# Sizes given to the batch and to variable (None) dimensions while inferring shapes. Two
# lengths far apart tell a dimension that follows the input's length from a fixed one.
# Short lengths first (recurrent layers cost per step, even on fake tensors); the longer
# pairs serve modules that need long inputs (deep conv/pool stacks).
PROBE_BATCH = 3
PROBE_LENGTHS = ((32, 67), (512, 1031), (8192, 16411))

_node_ids = itertools.count()
_name_counts: dict[str, int] = {}
_taken: set[str] | None = None  # inside `fresh_names`: names of the modules called so far
_call_counts: weakref.WeakKeyDictionary[nn.Module, int] = weakref.WeakKeyDictionary()
_first_calls: weakref.WeakKeyDictionary[nn.Module, str] = weakref.WeakKeyDictionary()  # its inputs, shown


@dataclass(eq=False)
class Node:
    """One call of a module inside a graph.

    Attributes:
        name: the module's name, with `:k` added for its k-th call (k >= 1).
        module: the module called; shared by every node that calls it.
        call_index: how many times the module had been called symbolically before (since
            the `fresh_names` scope it is called in began).
        input_specs: specs of the symbolic inputs, flattened in argument order.
        output_specs: specs of the outputs, flattened.
        connected_to: labels of the inbound tensors (input names or producing nodes).
        arguments: where the call's tensors stood among its constants.
        output_tree: how the call's outputs nest (a tensor, or tuples, lists, dicts of them).
        key: the name the call was given, such as its key under a graph spec's `nodes:`;
            None for a call made in Python, which is known by `name`.
    """

    name: str
    module: nn.Module
    call_index: int
    input_specs: list[TensorSpec]
    output_specs: list[TensorSpec]
    connected_to: list[str]
    arguments: Arguments = field(repr=False)
    output_tree: pytree.TreeSpec = field(repr=False)
    inbound: list[SymbolicTensor] | None = field(default=None, repr=False)
    id: int = field(default_factory=lambda: next(_node_ids), repr=False)
    key: str | None = None

    @property
    def input_shapes(self) -> list[tuple[int | None, ...]]:
        return [s.full_shape for s in self.input_specs]

    @property
    def output_shapes(self) -> list[tuple[int | None, ...]]:
        return [s.full_shape for s in self.output_specs]


def module_name(module: nn.Module) -> str:
    """The module's name in graphs: set by `name_module`, else `dense`, `dense_1`, ..."""
    name = module.__dict__.get("_plait_name")
    if name is None:
        base = re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", type(module).__name__).lower()
        while name is None or (_taken is not None and name in _taken):
            count = _name_counts.get(base, 0)
            _name_counts[base] = count + 1
            name = base if count == 0 else f"{base}_{count}"
        module.__dict__["_plait_name"] = name
    return name


@contextlib.contextmanager
def fresh_names() -> Iterator[None]:
    """Modules first named inside are named as in a fresh process: `dense`, `dense_1`, ...,
    whatever was named before (Keras's `clear_session`, for names alone). A block's name
    keys its weights in a checkpoint, so a graph built twice in one process (two jobs of a
    sweep) must be built inside this to load the other's weights. A module named before and
    called again inside (a block the builder reuses) keeps its name, which the new modules
    then skip, and its calls are counted afresh: a second build names its blocks and nodes
    as the first did."""
    global _name_counts, _taken, _call_counts
    saved = _name_counts, _taken, _call_counts
    _name_counts, _taken, _call_counts = {}, set(), weakref.WeakKeyDictionary()
    try:
        yield
    finally:
        _name_counts, _taken, _call_counts = saved


def name_module(module: nn.Module, name: str) -> nn.Module:
    """Give a module the name it shows in graphs, summaries and errors; returns it."""
    if not isinstance(name, str) or not name or "." in name:
        raise GraphError(f"module name must be a non-empty string without '.', received {name!r}")
    module.__dict__["_plait_name"] = name
    return module


def freeze(module: nn.Module) -> nn.Module:
    """Keep a module's weights fixed, like a Keras layer with `trainable=False`; returns it.

    Its parameters stop taking gradients, and it goes into eval mode, where a `Graph` that
    holds it (however deep) keeps it when trained: batch norm uses its stored statistics
    and leaves them alone, dropout is off.
    """
    module.requires_grad_(False)
    module.eval()
    module.__dict__["_plait_frozen"] = True
    return module


def is_frozen(module: nn.Module) -> bool:
    """Whether `freeze` was called on this module."""
    return module.__dict__.get("_plait_frozen", False)


def symbolic_call(module: nn.Module, args: tuple, kwargs: dict) -> Any:
    """Record `module(*args, **kwargs)` as a node and return symbolic outputs."""
    arguments, inbound = Arguments.split(args, kwargs, SymbolicTensor)
    specs = [x.spec for x in inbound]
    call_index = _call_counts.get(module, 0)
    if _taken is not None:
        _taken.add(module_name(module))
    name = module_name(module) + (f":{call_index}" if call_index else "")
    where = f"node '{name}' ({type(module).__name__})"
    lazy = getattr(module, "built", True) is False
    try:
        if lazy:
            arguments.call(module.build, specs)
        out_specs, output_tree = _infer(module, arguments, specs)
    except Exception as err:  # any failure while building or probing names the node
        if lazy:
            module.built = False  # a corrected call builds afresh, not on these sizes
        if isinstance(err, GraphError):
            raise GraphError(f"{where}: {err}") from err
        first = f" (its first call, which sized it, was on {_first_calls[module]})" if module in _first_calls else ""
        raise GraphError(f"{where} cannot be called on {_shown(inbound)}{first}: {type(err).__name__}: "
                         f"{err}") from err
    if not call_index:
        _first_calls[module] = _shown(inbound)
    _call_counts[module] = call_index + 1
    node = Node(name=name, module=module, call_index=call_index, input_specs=specs,
                output_specs=out_specs, connected_to=[label(x) for x in inbound],
                arguments=arguments, output_tree=output_tree, inbound=inbound)
    outputs = [SymbolicTensor(spec, node=node, index=i) for i, spec in enumerate(out_specs)]
    return pytree.tree_unflatten(outputs, output_tree)


def _shown(inbound: list[SymbolicTensor]) -> str:
    return ", ".join(f"{x.describe()} {x.spec} {x.dtype}" for x in inbound)


def label(tensor: SymbolicTensor) -> str:
    """How summaries show a tensor: its input's name, or its node's name (`name[i]` of several)."""
    if tensor.is_input:
        return tensor.name
    many = len(tensor.node.output_specs) > 1
    return f"{tensor.node.name}[{tensor.index}]" if many else tensor.node.name


def _infer(module: nn.Module, arguments: Arguments,
           specs: list[TensorSpec]) -> tuple[list[TensorSpec], pytree.TreeSpec]:
    """Output specs of one call, from runs on fake tensors (real ones if fakes cannot).

    Variable sizes are probed at two lengths: an output size that changes with them is
    variable too. The batch is found where the size equals the probe batch, and checked
    with a second batch size when it is not the first dimension.
    """
    variable = any(None in s.shape for s in specs)
    runs, length = _runs(module, arguments, specs, PROBE_LENGTHS if variable else ((PROBE_LENGTHS[0][0],),))
    flat, output_tree = runs[0]
    for i, value in enumerate(flat):
        if not isinstance(value, torch.Tensor):
            raise GraphError(f"output {i} is a {type(value).__name__}; a module in a graph must "
                             "return tensors, or tuples, lists or dicts of tensors")
    other_batch = None
    if any(t.dim() == 0 or t.shape[0] != PROBE_BATCH for t in flat):
        other_batch = _probe(module, arguments, specs, PROBE_BATCH + 2, length)[0]
    out_specs = []
    for i, first in enumerate(flat):
        axis = 0
        if other_batch is not None:
            moved = [k for k in range(first.dim()) if first.shape[k] != other_batch[i].shape[k]]
            if len(moved) != 1 or first.shape[moved[0]] != PROBE_BATCH:
                raise GraphError(f"output {i} has no batch dimension that follows the input's batch "
                                 f"(shape {tuple(first.shape)} for a batch of {PROBE_BATCH})")
            axis = moved[0]
        sizes = [[d for k, d in enumerate(run[0][i].shape) if k != axis] for run in runs]
        shape = tuple(d if all(s[k] == d for s in sizes) else None for k, d in enumerate(sizes[0]))
        out_specs.append(TensorSpec(shape, first.dtype, axis))
    return out_specs, output_tree


def _runs(module: nn.Module, arguments: Arguments, specs: list[TensorSpec],
          pairs: tuple[tuple[int, ...], ...]) -> tuple[list, int]:
    """Probe runs at each length of the first pair the module accepts (no error, no empty
    output dimension), and that pair's first length."""
    for i, pair in enumerate(pairs):
        last = i == len(pairs) - 1
        try:
            runs = [_probe(module, arguments, specs, PROBE_BATCH, n) for n in pair]
        except RuntimeError:
            if last:
                raise
            continue
        empty = any(isinstance(t, torch.Tensor) and 0 in t.shape for run in runs for t in run[0])
        if not empty or last:
            return runs, pair[0]
    raise AssertionError("unreachable: pairs is never empty")


def _probe(module: nn.Module, arguments: Arguments, specs: list[TensorSpec], batch: int,
           length: int) -> tuple[list, pytree.TreeSpec]:
    with torch.no_grad(), _eval_mode(module), _quiet_fake_tensors():
        try:
            with FakeTensorMode(allow_non_fake_inputs=True):
                fakes = [torch.empty(s.sizes(batch, length), dtype=s.dtype) for s in specs]
                flat, output_tree = pytree.tree_flatten(arguments.call(module, fakes))
                return [_shape_only(x) for x in flat], output_tree
        except (DynamicOutputShapeException, DataDependentOutputException):
            pass  # the module looks at values (e.g. packs by length): probe with real ones
        ones = [torch.ones(s.sizes(batch, length), dtype=s.dtype) for s in specs]
        return pytree.tree_flatten(arguments.call(module, ones))


def _shape_only(x: Any) -> Any:
    """A fake tensor's shape and dtype, outside the fake mode that made it."""
    if isinstance(x, torch.Tensor):
        return torch.empty(x.shape, dtype=x.dtype, device="meta")
    return x


@contextlib.contextmanager
def _quiet_fake_tensors() -> Iterator[None]:
    """torch logs a traceback of any op that fails on fake tensors before raising; the
    error is raised on to the caller, which names the node, so the log is only noise."""
    logger = logging.getLogger("torch._subclasses.fake_tensor")
    was = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = was


@contextlib.contextmanager
def _eval_mode(module: nn.Module) -> Iterator[None]:
    """Probe in eval mode (no running-stat updates, no dropout); restore each flag after."""
    flags = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        yield
    finally:
        for m, training in flags:
            m.training = training
