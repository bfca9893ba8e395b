"""What a module was built from: its class's import path and its constructor arguments.

Arguments come, in this order of trust, from:

1. `module.get_config()`, Keras's convention: the constructor's keyword arguments (plus
   `_args_` for positional ones). Every plait block has one: `Block` records the
   arguments it is constructed with. A user's class may define one to be described exactly.
2. torch's containers (`Sequential`, `ModuleList`, `ModuleDict`) and recurrent layers,
   whose constructors do not show their arguments, from their contents and attributes.
3. Attributes named like the constructor's parameters, which torch's layers keep
   (`in_features`, `kernel_size`, `hidden_size`, ...); `bias` held as a Parameter or None
   reads as the bool it was built from. What this recovers is checked by building the
   class again on the meta device (no memory) and comparing it with the module.
"""

from __future__ import annotations

import copy
import inspect
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

_RECURRENT = ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional")
_RECURRENT_ARGS = {nn.RNN: (*_RECURRENT, "nonlinearity"), nn.LSTM: (*_RECURRENT, "proj_size"),
                   nn.GRU: _RECURRENT}

# Arguments a torch layer keeps under another name.
_KEPT_ELSEWHERE = {
    (nn.MultiheadAttention, "bias"): lambda m: m.in_proj_bias is not None,
    (nn.MultiheadAttention, "add_bias_kv"): lambda m: m.bias_k is not None,
}

# Where a module's weights live is not part of what it is: the state dict carries them.
_SKIPPED = ("device", "dtype")

_GET_CONFIG = "give the class a `get_config()` returning its constructor arguments"


class Undescribable(ValueError):
    """Why a module cannot be written as a `_target_` config; the caller names the block."""


@dataclass
class Target:
    """A call a config makes: `_target_` with positional (`_args_`) and keyword arguments."""

    path: str
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    from_attributes: bool = False  # recovered from attributes, so worth checking


def import_path(cls: type) -> str:
    """The shortest dotted path that imports `cls` (`torch.nn.Linear`, `plait.blocks.Dense`).

    Raises:
        Undescribable: the class is defined in `__main__`, inside a function or another
            class, or cannot be found where it says it lives.
    """
    module, name = cls.__module__, cls.__qualname__
    if "<locals>" in name:
        raise Undescribable(f"class {name} is defined inside a function, so no import path "
                            "reaches it; define it at the top level of a module")
    if module == "__main__":
        raise Undescribable(f"class {name} is defined in __main__ (the script being run), which "
                            "another process cannot import; move it into a module")
    if "." in name:
        raise Undescribable(f"class {name} is defined inside another class; a `_target_` "
                            "imports module-level names only")
    parts = module.split(".")
    for i in range(1, len(parts) + 1):
        package = sys.modules.get(".".join(parts[:i]))
        if package is not None and getattr(package, name, None) is cls:
            return f"{'.'.join(parts[:i])}.{name}"
    raise Undescribable(f"class {name} is not found at {module}.{name}, where it says it lives")


def target_of(module: nn.Module) -> Target:
    """The class and constructor arguments that build `module` again (untrained).

    Argument values are kept as they are: plain data, modules, or nested `Target`s.

    Raises:
        Undescribable: an argument cannot be recovered; the message says which and why.
    """
    cls = type(module)
    path = import_path(cls)
    if callable(getattr(module, "get_config", None)):
        return _from_get_config(module, path)
    # The containers by their contents; a subclass may take other arguments, so not it.
    if cls is nn.Sequential:
        names = list(module._modules)
        if names == [str(i) for i in range(len(names))]:
            return Target(path, list(module))
        return Target(path, [Target("collections.OrderedDict", kwargs=dict(module._modules))])
    if cls is nn.ModuleList:
        return Target(path, kwargs={"modules": list(module)})
    if cls is nn.ModuleDict:
        return Target(path, kwargs={"modules": dict(module._modules)})
    if cls in _RECURRENT_ARGS:
        return Target(path, kwargs={a: getattr(module, a) for a in _RECURRENT_ARGS[cls]}, from_attributes=True)
    return Target(path, kwargs=_from_attributes(module), from_attributes=True)


def _from_get_config(module: nn.Module, path: str) -> Target:
    try:
        config = module.get_config()
    except Exception as err:  # a user's get_config may fail any way; say where
        raise Undescribable(f"get_config() failed: {type(err).__name__}: {err}") from err
    if not isinstance(config, Mapping) or not all(isinstance(k, str) for k in config):
        raise Undescribable(f"get_config() returned {type(config).__name__}; expected a dict "
                            "of constructor arguments keyed by name")
    config = dict(config)
    return Target(path, list(config.pop("_args_", [])), config)


def _from_attributes(module: nn.Module) -> dict[str, Any]:
    """Constructor arguments read from the module's attributes of the same names."""
    cls = type(module)
    if cls.__init__ is nn.Module.__init__:
        return {}  # no constructor of its own: nothing to recover
    from_torch = cls.__module__.startswith("torch.")
    try:
        parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    except (TypeError, ValueError) as err:
        raise Undescribable(f"its constructor's signature cannot be read ({err}); {_GET_CONFIG}") from None
    kwargs: dict[str, Any] = {}
    for p in parameters:
        if p.name in _SKIPPED:
            continue
        if (cls, p.name) in _KEPT_ELSEWHERE:
            kwargs[p.name] = _KEPT_ELSEWHERE[cls, p.name](module)
            continue
        variadic = p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        found, value = (False, None) if variadic else _attribute(module, p.name)
        if not found:
            if from_torch and (variadic or p.default is not p.empty):
                continue  # an initial value torch does not keep (PReLU's init): the weights restore it
            what = f"*{p.name}" if p.kind == p.VAR_POSITIONAL else f"**{p.name}" if variadic else f"'{p.name}'"
            reason = "arguments it does not keep" if variadic else "no attribute of that name"
            raise Undescribable(f"cannot recover constructor argument {what} ({reason}); {_GET_CONFIG}")
        if isinstance(p.default, bool) and (value is None or isinstance(value, torch.Tensor)):
            value = value is not None  # `bias=True` is kept as the bias Parameter, False as None
        kwargs[p.name] = value
    return kwargs


def _attribute(module: nn.Module, name: str) -> tuple[bool, Any]:
    """The instance's own attribute `name` (not a method or a class attribute), if any."""
    for table in (module.__dict__, module._parameters, module._buffers, module._modules):
        if name in table:
            return True, table[name]
    return False, None


def check_rebuild(module: nn.Module, target: Target, cls: type) -> None:
    """Build `cls` from `target` on the meta device; it must equal `module` in repr and
    weights, and keep the recovered arguments under their names.

    A module among the arguments is given as a copy on the meta device: a constructor may
    change the weights of a module it is given, and those are the user's.

    Raises:
        Undescribable: building fails, or builds something else.
    """
    if any(isinstance(v, Target) for v in _leaves([*target.args, *target.kwargs.values()])):
        return
    try:
        args, kwargs = _meta_copies((target.args, target.kwargs))
    except Exception:  # a module that does not copy: the arguments cannot be tried safely
        return
    try:
        with torch.device("meta"):
            rebuilt = cls(*args, **kwargs)
    except Exception as err:  # any constructor failure means the arguments are wrong ...
        if _on_meta(err):  # ... unless it reads values, which the meta device has none of
            return
        raise Undescribable(f"the arguments recovered from its attributes ({_listing(target)}) do "
                            f"not build it again ({type(err).__name__}: {err}); {_GET_CONFIG}") from err
    shapes = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    rebuilt_shapes = {k: tuple(v.shape) for k, v in rebuilt.state_dict().items()}
    if repr(rebuilt) != repr(module) or rebuilt_shapes != shapes:
        raise Undescribable(f"the arguments recovered from its attributes ({_listing(target)}) build "
                            f"{_one_line(rebuilt)} with weights {rebuilt_shapes}, not "
                            f"{_one_line(module)} with {shapes}; {_GET_CONFIG}")
    again = target_of(rebuilt).kwargs  # a value derived from an argument, kept under its name
    for name, value in target.kwargs.items():
        kept = again.get(name, value)
        if _is_plain(value) and _is_plain(kept) and kept != value and not _both_nan(kept, value):
            raise Undescribable(f"its attribute {name!r} holds {value!r}, but built with {name}={value!r} "
                                f"it holds {kept!r}: the attribute is not the argument it was built "
                                f"with; {_GET_CONFIG}")


def _meta_copies(value: Any) -> Any:
    """`value` with every module in it copied onto the meta device (its weights not copied)."""
    if isinstance(value, nn.Module):
        memo: dict[int, Any] = {}
        for tensor in [*value.parameters(), *value.buffers()]:
            empty = torch.empty_like(tensor, device="meta")
            memo[id(tensor)] = nn.Parameter(empty, tensor.requires_grad) if isinstance(
                tensor, nn.Parameter) else empty
        return copy.deepcopy(value, memo)
    if isinstance(value, (list, tuple)):
        return type(value)(_meta_copies(v) for v in value)
    if isinstance(value, dict):
        return {k: _meta_copies(v) for k, v in value.items()}
    return value


def _on_meta(err: Exception) -> bool:
    """Whether a constructor failed for running on the meta device (reading a value)."""
    return isinstance(err, NotImplementedError) or "meta" in str(err)


def _both_nan(a: Any, b: Any) -> bool:
    return isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)


def _is_plain(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    return value is None or isinstance(value, (bool, int, float, str))


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return [leaf for v in value for leaf in _leaves(v)]
    if isinstance(value, Mapping):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    return [value]


def _one_line(module: nn.Module) -> str:
    return " ".join(repr(module).split())


def _listing(target: Target) -> str:
    return ", ".join([*map(repr, target.args), *(f"{k}={v!r}" for k, v in target.kwargs.items())])
