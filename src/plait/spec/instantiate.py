"""Blocks from `_target_` configs, with `{_block_: name}` references to other named blocks.

Hydra's `${...}` interpolation copies a config, so it cannot make two blocks share one
instance; a `_block_` reference hands over the very instance built for that name.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from torch import nn

from plait.spec.errors import SpecError, UnknownTarget

# Keys of a block config that plait reads and the block's constructor never sees.
PLAIT_KEYS = ("_checkpoint_", "_checkpoint_block_", "_freeze_")


def locate(target: str, where: str) -> Callable:
    """Import `package.module.Name`; the error names the config key and the target."""
    module_path, _, attr = target.rpartition(".")
    try:
        return getattr(importlib.import_module(module_path), attr)
    except (ImportError, AttributeError, ValueError) as err:
        raise UnknownTarget(f"{where}: _target_ '{target}' does not exist ({type(err).__name__}: {err})") from None


def references(config: Any) -> list[str]:
    """Names of the blocks a block config refers to, anywhere inside it."""
    if isinstance(config, Mapping):
        if set(config) == {"_block_"}:
            return [config["_block_"]]
        return [name for value in config.values() for name in references(value)]
    if isinstance(config, (list, tuple)):
        return [name for value in config for name in references(value)]
    return []


def instantiate(config: Any, where: str, resolve: Callable[[str, str], nn.Module]) -> Any:
    """Build `config`: nested `_target_`s become objects, `{_block_: name}` the named block.

    A `_target_` is called with the list under `_args_` positionally (as in Hydra), and
    every other key but plait's own (`PLAIT_KEYS`) by keyword.

    Args:
        config: plain data (dicts, lists, scalars).
        where: the config key of `config`, for errors.
        resolve: returns the block built for a name, or raises naming `where`.
    """
    if isinstance(config, Mapping):
        if set(config) == {"_block_"}:
            return resolve(config["_block_"], where)
        if "_target_" not in config:
            return {k: instantiate(v, f"{where}.{k}", resolve) for k, v in config.items()}
        target = locate(config["_target_"], where)
        args = instantiate(config.get("_args_", []), f"{where}._args_", resolve)
        kwargs = {k: instantiate(v, f"{where}.{k}", resolve)
                  for k, v in config.items() if k not in ("_target_", "_args_") and k not in PLAIT_KEYS}
        try:
            return target(*args, **kwargs)
        except Exception as err:
            shown = ", ".join([*(["*_args_"] if args else []), *kwargs])
            raise SpecError(f"{where}: {config['_target_']}({shown}) failed to build: "
                            f"{type(err).__name__}: {err}") from err
    if isinstance(config, (list, tuple)):
        return [instantiate(v, f"{where}[{i}]", resolve) for i, v in enumerate(config)]
    return config
