"""`Graph.to_spec`: a graph as the plain-data spec that `plait.spec.build_graph` compiles.

Every module the graph calls becomes a named block, under the name the graph knows it by,
so the rebuilt graph's state dict has the same keys. A module met at several places (one
called by two nested graphs, one given to two constructors, a frozen one, a graph given
to `TimeDistributed`) is written once, as a named block where every place can see it:
the innermost spec that holds all its places, since a nested spec sees its enclosing
specs' blocks. Each place then names it, in a node line or as `{_block_: name}`.
"""

from __future__ import annotations

from collections import ChainMap, Counter
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from plait.graph.describe import Target, Undescribable, check_rebuild, target_of
from plait.graph.errors import GraphError
from plait.graph.naming import is_identifier, slot_names, spec_keys
from plait.graph.node import is_frozen, module_name
from plait.graph.node_lines import node_line
from plait.graph.tensor import dtype_name

if TYPE_CHECKING:
    from plait.graph.graph import Graph

_SCALARS = (bool, int, float, str, type(None))


@dataclass
class _Level:
    """One graph spec being written: its blocks, and the names visible inside it."""

    graph: Graph
    parent: _Level | None
    blocks: dict[str, Any]
    scope: ChainMap  # name -> module: this spec's blocks, then the enclosing specs'


class SpecWriter:
    """Writes the spec of `root`, its nested graphs and every module they hold."""

    def __init__(self, root: Graph) -> None:
        self.root = root
        self._counts: dict[int, Counter] = {}
        self._frozen: set[int] = set()  # modules written with `_freeze_: true`

    def write(self) -> dict[str, Any]:
        """The spec: `inputs`, `blocks`, `nodes`, `outputs`, as plain data.

        Raises:
            GraphError: a part that a spec cannot describe; the message names it and why.
        """
        spec = self._graph_spec(self.root, None)
        _check_recordable(self.root, self._frozen)
        return spec

    def _graph_spec(self, graph: Graph, parent: _Level | None) -> dict[str, Any]:
        level = _Level(graph, parent, {}, parent.scope.new_child() if parent else ChainMap())
        own = []
        for name, module in graph.blocks.items():
            if level.scope.get(name) is module:
                continue  # an enclosing spec's block, called by name
            home = self._home(module, level)
            if home is level:
                self._register(module, level)
                own.append(module)
            else:
                self._define(module, home)
                self._check_visible(module, level)
        for module in own:  # after registering all: a block's arguments may name another
            level.blocks[module_name(module)] = self._config(module, level)
        keys = spec_keys(graph)
        slots = slot_names(graph, keys)
        return {
            "inputs": {name: _input(name, spec) for name, spec in graph.input_specs.items()},
            "blocks": level.blocks,
            "nodes": {key: node_line(module_name(step.block), step.node, [slots[s] for s in step.reads],
                                     f"graph '{module_name(graph)}', node '{key}'")
                      for key, step in zip(keys, graph.plan.steps)},
            "outputs": {name: {"node": slots[s]} for name, s in zip(graph.output_names, graph.plan.output_slots)},
        }

    def _register(self, module: nn.Module, level: _Level) -> None:
        name = module_name(module)
        if not is_identifier(name):
            raise GraphError(f"block '{name}' ({type(module).__name__}): a node line cannot call it, "
                             "as its name is no Python identifier; rename it with plait.graph.name_module")
        held = level.scope.maps[0].get(name)
        if held is not None and held is not module:
            raise GraphError(f"two modules are named '{name}' ({type(held).__name__} and "
                             f"{type(module).__name__}) where a spec needs one name for each; "
                             "rename one with plait.graph.name_module")
        level.scope.maps[0][name] = module
        level.blocks.setdefault(name, None)  # its place in the listing; the config follows

    def _define(self, module: nn.Module, level: _Level) -> None:
        """Write `module` as a named block of `level`, once."""
        if level.scope.maps[0].get(module_name(module)) is module:
            return
        self._register(module, level)
        level.blocks[module_name(module)] = self._config(module, level)

    def _check_visible(self, module: nn.Module, level: _Level) -> None:
        name = module_name(module)
        if level.scope.get(name) is not module:
            raise GraphError(f"module '{name}' ({type(module).__name__}) is shared with an enclosing "
                             f"graph, but graph '{module_name(level.graph)}' holds another module "
                             "of that name, which hides it; rename one with plait.graph.name_module")

    def _config(self, module: nn.Module, level: _Level) -> dict[str, Any]:
        """The config of a named block: a nested graph spec or a `_target_` config."""
        from plait.graph.graph import Graph

        where = f"block '{module_name(module)}'"
        config = self._graph_spec(module, level) if isinstance(module, Graph) else \
            self._target_config(module, level, where)
        if is_frozen(module):
            config["_freeze_"] = True
            self._frozen.add(id(module))
        return config

    def _target_config(self, module: nn.Module, level: _Level, where: str) -> dict[str, Any]:
        cls = type(module)
        where = f"{where} ({cls.__module__}.{cls.__qualname__})"
        try:
            target = target_of(module)
            if target.from_attributes:
                check_rebuild(module, target, cls)
        except Undescribable as err:
            raise GraphError(f"{where}: {err}") from None
        return self._call(target, level, module, where)

    def _call(self, target: Target, level: _Level, owner: nn.Module, where: str) -> dict[str, Any]:
        config: dict[str, Any] = {"_target_": target.path}
        if target.args:
            config["_args_"] = [self._plain(v, level, owner, f"{where}, argument {i}")
                                for i, v in enumerate(target.args)]
        for key, value in target.kwargs.items():
            config[key] = self._plain(value, level, owner, f"{where}, argument '{key}'")
        return config

    def _plain(self, value: Any, level: _Level, owner: nn.Module, where: str) -> Any:
        """A constructor argument as plain data; a module as its config or `{_block_: name}`."""
        if type(value) in _SCALARS:
            return value
        if isinstance(value, nn.Module):
            return self._module_value(value, level, owner, where)
        if isinstance(value, Target):
            return self._call(value, level, owner, where)
        if isinstance(value, (list, tuple)):  # torch.Size too
            return [self._plain(v, level, owner, where) for v in value]
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            return {k: self._plain(v, level, owner, f"{where}[{k!r}]") for k, v in value.items()}
        kind = getattr(value, "__name__", None) if callable(value) else None
        shown = f"function {kind}" if kind else f"{type(value).__name__} {repr(value)[:60]}"
        raise GraphError(f"{where} holds a {shown}, which plain data cannot hold; give the "
                         "class a `get_config()` returning plain arguments (numbers, strings, "
                         "lists, dicts, modules)")

    def _module_value(self, module: nn.Module, level: _Level, owner: nn.Module, where: str) -> Any:
        from plait.graph.graph import Graph

        name = module_name(module)
        if level.scope.get(name) is module:
            return {"_block_": name}
        alone = self._confined(module, owner) and self._count(owner, module) <= 1
        if alone and not isinstance(module, Graph) and not is_frozen(module):
            return self._target_config(module, level, where)
        self._define(module, self._home(module, level))
        self._check_visible(module, level)
        return {"_block_": name}

    def _home(self, module: nn.Module, level: _Level) -> _Level:
        """The innermost spec, from `level` outwards, whose graph holds every place of `module`."""
        while level.parent is not None and not self._confined(module, level.graph):
            level = level.parent
        return level

    def _confined(self, module: nn.Module, container: nn.Module) -> bool:
        """Whether every path to `module` in the root passes through `container`."""
        root = self.root
        return self._count(root, module) == self._count(root, container) * self._count(container, module)

    def _count(self, container: nn.Module, module: nn.Module) -> int:
        """How many module paths inside `container` (itself included) lead to `module`."""
        if id(container) not in self._counts:
            self._counts[id(container)] = Counter(
                id(m) for _, m in container.named_modules(remove_duplicate=False))
        return self._counts[id(container)][id(module)]


def _input(name: str, spec: Any) -> dict[str, Any]:
    if not is_identifier(name):
        raise GraphError(f"input '{name}': a node line cannot name it, as it is no Python identifier")
    return {"shape": list(spec.shape), "dtype": dtype_name(spec.dtype)}


def _check_recordable(root: nn.Module, frozen: set[int]) -> None:
    """Refuse what a spec would silently lose: partly frozen blocks and non-default dtypes."""
    default = torch.get_default_dtype()
    stack, seen = [(root, "")], set()
    while stack:
        module, path = stack.pop()
        if id(module) in frozen or id(module) in seen:
            continue
        seen.add(id(module))
        if is_frozen(module):
            raise GraphError(f"'{path}' ({type(module).__name__}) is frozen, but a spec freezes whole "
                             "blocks only (`_freeze_`): freeze the block that holds it")
        for name, t in chain(module.named_parameters(recurse=False), module.named_buffers(recurse=False)):
            where = f"{path}.{name}" if path else name
            if t.is_floating_point() and t.dtype != default:
                raise GraphError(f"'{where}' is {t.dtype}, but a spec records no dtype: call to_spec() "
                                 f"on the graph in {default}, and cast the rebuilt graph after loading")
            if isinstance(t, nn.Parameter) and not t.requires_grad:
                raise GraphError(f"'{where}' takes no gradient, which a spec cannot record for one "
                                 "weight; freeze whole blocks with plait.graph.freeze(block)")
        stack.extend((child, f"{path}.{n}" if path else n) for n, child in module.named_children())
