"""A graph spec (plain data: inputs, blocks, nodes, outputs) compiled into a `Graph`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch.utils._pytree as pytree
from torch import nn

from plait.graph import (
    Graph,
    GraphError,
    Input,
    SymbolicTensor,
    freeze,
    name_module,
    topological_order,
)
from plait.spec.checkpoint import load_block_state
from plait.spec.errors import SpecError
from plait.spec.expressions import Arg, Call, Const, Ref, parse_call
from plait.spec.instantiate import PLAIT_KEYS, instantiate, references

# The keys every graph spec holds; `blocks` may be left out when the spec calls only
# its enclosing spec's blocks.
REQUIRED_SPEC_KEYS = ("inputs", "nodes", "outputs")


def is_graph_spec(config: Any) -> bool:
    """Whether a block config is itself a graph spec rather than a `_target_`."""
    return isinstance(config, Mapping) and "nodes" in config and "_target_" not in config


def build_graph(spec: Mapping, *, where: str = "model", name: str | None = None,
                load_checkpoints: bool = True, outer: Mapping[str, nn.Module] | None = None) -> Graph:
    """Compile a graph spec by calling the same API a Python user would.

    Args:
        spec: `inputs`, `blocks`, `nodes`, `outputs` (other keys are ignored).
        where: the spec's config key, prefixed to every error.
        name: the graph's name when it is a block of another graph.
        load_checkpoints: load `_checkpoint_` weights into blocks (off when restoring a
            checkpoint that holds every weight already).
        outer: for a nested spec, the enclosing spec's blocks, which it may call by name.
            A nested graph returns one tensor, or a list for several outputs; the
            outermost graph returns a dict keyed by output name.

    Raises:
        SpecError: the message names the config key, what was expected and what was received.
    """
    for key in REQUIRED_SPEC_KEYS:
        if not isinstance(spec.get(key), (Mapping, list) if key == "outputs" else Mapping):
            raise SpecError(f"{where}.{key}: expected a mapping, received {type(spec.get(key)).__name__}")
    own = _build_blocks(spec.get("blocks") or {}, where, dict(outer or {}), load_checkpoints)
    blocks = {**(outer or {}), **own}  # a nested spec may call the enclosing spec's blocks
    inputs = {n: _input(n, cfg, f"{where}.inputs.{n}") for n, cfg in spec["inputs"].items()}
    tensors = _run_nodes(spec["nodes"], inputs, blocks, where)
    outputs = {out: _output_tensor(out, cfg, tensors, where) for out, cfg in _outputs(spec["outputs"]).items()}
    if outer is not None:  # a nested graph gives one tensor, or a list in declared order
        _check_nested_outputs(_outputs(spec["outputs"]), where)
        outputs = next(iter(outputs.values())) if len(outputs) == 1 else list(outputs.values())
    try:
        graph = Graph(inputs, outputs, name=name)
    except GraphError as err:
        raise SpecError(f"{where}: {err}") from err
    for block_name, cfg in (spec.get("blocks") or {}).items():
        if isinstance(cfg, Mapping) and load_checkpoints and cfg.get("_checkpoint_"):
            load_block_state(blocks[block_name], cfg["_checkpoint_"], cfg.get("_checkpoint_block_", block_name),
                             f"{where}.blocks.{block_name}")
        if isinstance(cfg, Mapping) and cfg.get("_freeze_") is not None:
            if not isinstance(cfg["_freeze_"], bool):  # "false", quoted, is a true string
                raise SpecError(f"{where}.blocks.{block_name}._freeze_: expected true or false, received "
                                f"{cfg['_freeze_']!r} ({type(cfg['_freeze_']).__name__})")
            if cfg["_freeze_"]:
                freeze(blocks[block_name])
    return graph


def _build_blocks(configs: Mapping, where: str, outer: dict[str, nn.Module],
                  load_checkpoints: bool) -> dict[str, nn.Module]:
    """Each named block built once, after the blocks it refers to."""
    built: dict[str, nn.Module] = {}

    def resolve(ref: str, key: str) -> nn.Module:
        if ref in built:
            return built[ref]
        if ref in outer:
            return outer[ref]
        raise SpecError(f"{key}: block reference {{_block_: {ref}}} names no block; "
                        f"blocks are {sorted({*configs, *outer})}")

    def refs_of(name: str) -> list[str]:
        return _outer_refs(configs[name], f"{where}.blocks.{name}")

    for name in topological_order(list(configs), refs_of, what="block"):
        key, cfg = f"{where}.blocks.{name}", configs[name]
        if is_graph_spec(cfg):
            block = build_graph(cfg, where=key, name=name, load_checkpoints=load_checkpoints,
                                outer={**outer, **built})  # a nested spec sees the blocks built so far
        elif isinstance(cfg, Mapping) and "_target_" in cfg:
            block = instantiate(cfg, key, resolve)
        else:
            raise SpecError(f"{key}: expected a block config with `_target_` (or a graph spec with "
                            f"inputs, nodes, outputs), received {cfg!r}")
        if not isinstance(block, nn.Module):
            raise SpecError(f"{key}: _target_ built a {type(block).__name__}, expected a torch.nn.Module")
        built[name] = name_module(block, name)
    return built


def _outer_refs(cfg: Any, where: str) -> list[str]:
    """The enclosing spec's blocks a block config needs: its `_block_` references and, for a
    nested graph spec at any depth, the blocks it calls or refers to without defining them."""
    if not is_graph_spec(cfg):
        return references(cfg)
    own = cfg.get("blocks") or {}
    called = [parse_call(line, f"{where}.nodes.{node}").block for node, line in cfg["nodes"].items()]
    inner = [r for block, c in own.items() for r in _outer_refs(c, f"{where}.blocks.{block}")]
    return [r for r in [*inner, *called] if r not in own]


def _input(name: str, cfg: Any, where: str) -> SymbolicTensor:
    if not isinstance(cfg, Mapping) or "shape" not in cfg:
        raise SpecError(f"{where}: expected {{shape: [...], dtype: ...}}, received {cfg!r}")
    unknown = sorted(set(cfg) - {"shape", "dtype"})
    if unknown:
        raise SpecError(f"{where}: unknown keys {unknown}; an input takes shape and dtype")
    try:
        return Input(name, shape=cfg["shape"], dtype=cfg.get("dtype", "float32"))
    except GraphError as err:
        raise SpecError(f"{where}: {err}") from err


def _run_nodes(lines: Mapping, inputs: dict[str, SymbolicTensor], blocks: dict[str, nn.Module],
               where: str) -> dict[str, Any]:
    """Call the blocks node by node, in dependency order; returns every named tensor."""
    calls = {name: parse_call(line, f"{where}.nodes.{name}") for name, line in lines.items()}
    for name, call in calls.items():
        key = f"{where}.nodes.{name}"
        if name in inputs:
            raise SpecError(f"{key}: a node may not reuse the name of input '{name}'")
        if call.block not in blocks:
            raise SpecError(f"{key}: block '{call.block}' is not defined; blocks are {sorted(blocks)}")
        for ref in call.refs():
            if ref.name not in inputs and ref.name not in calls:
                raise SpecError(f"{key}: '{ref.name}' names no input or node; inputs are "
                                f"{sorted(inputs)}, nodes are {sorted(calls)}")
    order = topological_order(list(calls), lambda n: [r.name for r in calls[n].refs()], what="node")
    tensors: dict[str, Any] = dict(inputs)
    for name in order:
        tensors[name] = _call(name, calls[name], tensors, blocks, f"{where}.nodes.{name}")
    return tensors


def _call(name: str, call: Call, tensors: dict[str, Any], blocks: dict[str, nn.Module], where: str) -> Any:
    def value(arg: Arg) -> Any:
        if isinstance(arg, Ref):
            return _pick(arg, tensors, where)
        if isinstance(arg, Const):
            return arg.value
        if isinstance(arg, dict):
            return {k: value(v) for k, v in arg.items()}
        return type(arg)(value(a) for a in arg)  # a list or a tuple, as written

    args, kwargs = [value(a) for a in call.args], {k: value(v) for k, v in call.kwargs}
    if not any(isinstance(leaf, SymbolicTensor) for leaf in pytree.tree_leaves((args, kwargs))):
        raise SpecError(f"{where}: {call.block}(...) is given no tensor; a node calls its block on "
                        "inputs or other nodes, e.g. classify(features)")
    try:
        out = blocks[call.block](*args, **kwargs)
    except GraphError as err:
        raise SpecError(f"{where}: {err}") from err
    leaves = pytree.tree_leaves(out)
    if leaves and isinstance(leaves[0], SymbolicTensor):
        leaves[0].node.key = name  # the node is known by its key: summary, subgraph, to_spec
    if isinstance(out, SymbolicTensor):
        out.name = name
    return out


def _pick(ref: Ref, tensors: dict[str, Any], where: str) -> SymbolicTensor:
    """The tensor `ref` names; `name[i]` counts the node's outputs flattened, as summaries do."""
    value = tensors[ref.name]
    if ref.index is None:
        if not isinstance(value, SymbolicTensor):
            count = len(pytree.tree_leaves(value))
            raise SpecError(f"{where}: '{ref.name}' gives {count} tensors; pick one as `{ref.name}[i]`")
        return value
    leaves = [] if isinstance(value, SymbolicTensor) else pytree.tree_leaves(value)
    if not 0 <= ref.index < len(leaves):
        count = 1 if isinstance(value, SymbolicTensor) else len(leaves)
        raise SpecError(f"{where}: '{ref}' is out of range: '{ref.name}' gives {count} tensor(s)")
    return leaves[ref.index]


def _outputs(cfg: Mapping | list) -> dict[str, Any]:
    return {name: None for name in cfg} if isinstance(cfg, list) else dict(cfg)


def _check_nested_outputs(outputs: Mapping[str, Any], where: str) -> None:
    """A nested graph's outputs name nodes only: losses, weights and metrics belong to the
    outermost graph's outputs, which alone are trained on."""
    for name, cfg in outputs.items():
        extra = sorted(set(cfg) - {"node"}) if isinstance(cfg, Mapping) else []
        if extra:
            raise SpecError(f"{where}.outputs.{name}: a nested graph's output takes only `node`, received "
                            f"{extra}; a loss, weight or metrics go under the model's own outputs, which "
                            "are the ones trained")


def _output_tensor(name: str, cfg: Any, tensors: dict[str, Any], where: str) -> SymbolicTensor:
    node = cfg.get("node", name) if isinstance(cfg, Mapping) else name
    key = f"{where}.outputs.{name}"
    ref = parse_call(f"f({node})", key).args[0] if isinstance(node, str) else None
    if not isinstance(ref, Ref) or ref.name not in tensors:
        raise SpecError(f"{key}: output names no node ('{node}'); nodes are "
                        f"{sorted(n for n in tensors if not isinstance(tensors[n], SymbolicTensor) or not tensors[n].is_input)}")
    return _pick(ref, tensors, key)


__all__ = ["build_graph", "is_graph_spec", "PLAIT_KEYS"]
