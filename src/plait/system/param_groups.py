"""`param_groups`: a block's parameters with optimizer settings of their own.

PyTorch's parameter groups, named by block: `{"encoder": {"lr": 1e-5}, "wide": {"weight_decay":
0.1}}`. The parameters no group names come first, with the optimizer's own settings; the
named groups follow in the order of their parameters in the model, whatever the order they
were written in, so a resumed run finds each block's optimizer state where it left it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from plait.graph import GraphError
from plait.spec import SpecError


def flat_groups(groups: Mapping[str, Any] | None) -> dict[str, Any]:
    """`{outer: {inner: {lr: 0.1}}}` (what `+model.param_groups.outer.inner.lr=0.1` composes
    to) as `{"outer.inner": {lr: 0.1}}`: a key whose value holds only mappings names blocks
    of a nested graph, since no optimizer setting is a mapping."""
    flat: dict[str, Any] = {}
    for name, settings in (groups or {}).items():
        nested = isinstance(settings, Mapping) and settings and all(
            isinstance(v, Mapping) for v in settings.values())
        if nested:
            flat.update({f"{name}.{inner}": s for inner, s in flat_groups(settings).items()})
        else:
            flat[name] = settings
    return flat


def block_groups(system: nn.Module, groups: Mapping[str, Any]) -> tuple[list[Any], list[str]]:
    """The trainable parameters as optimizer parameter groups, and the names of the groups:
    `""` for the parameters no group names (first, when there are any), then each named
    block's, in the order of their parameters in `system`.

    Raises:
        SpecError: naming `model.param_groups.<block>`: no such block, settings that are not
            a mapping, no trainable parameters, or parameters already in another group.
    """
    trainable = [p for p in system.parameters() if p.requires_grad]
    if not groups:
        return trainable, [""]
    position = {id(p): i for i, p in enumerate(trainable)}
    owner: dict[int, str] = {}
    named = []
    for name, settings in groups.items():
        where = f"model.param_groups.{name}"
        try:
            block = system.graph.get_block(name)
        except GraphError as err:  # the message lists the graph's blocks
            raise SpecError(f"{where}: {err}") from None
        if not isinstance(settings, Mapping):
            raise SpecError(f"{where}: expected optimizer settings such as {{weight_decay: 0.1}}, "
                            f"received {settings!r}")
        params = [p for p in block.parameters() if p.requires_grad]
        if not params:
            raise SpecError(f"{where}: block '{name}' has no trainable parameters (a frozen "
                            f"block, `_freeze_: true`, trains none)")
        for p in params:
            if id(p) in owner:
                raise SpecError(f"{where}: block '{name}' holds parameters of "
                                f"model.param_groups.{owner[id(p)]} too; a parameter takes one group")
            owner[id(p)] = name
        named.append((position[id(params[0])], name, {"params": params, **settings}))
    named.sort(key=lambda item: item[0])
    rest = [p for p in trainable if id(p) not in owner]
    head = [({"params": rest}, "")] if rest else []
    pairs = head + [(group, name) for _, name, group in named]
    return [group for group, _ in pairs], [name for _, name in pairs]


def check_settings(optimizer: torch.optim.Optimizer, groups: Mapping[str, Mapping[str, Any]]) -> None:
    """Each group's settings are the optimizer's, of the type its defaults have: torch keeps
    a misspelt setting silently, and a setting given as text fails only at the first step.

    Raises:
        SpecError: naming `model.param_groups.<block>.<setting>`, with the optimizer's settings.
    """
    defaults = optimizer.defaults
    for name, settings in groups.items():
        for key, value in settings.items():
            where = f"model.param_groups.{name}.{key}"
            if key not in defaults:
                raise SpecError(f"{where}: {type(optimizer).__name__} has no setting {key!r}; its "
                                f"settings are {sorted(defaults)}")
            default = defaults[key]
            number = isinstance(default, (int, float)) and not isinstance(default, bool)
            if number and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise SpecError(f"{where}: expected a number, as {type(optimizer).__name__}'s "
                                f"default {default!r}; received {value!r}")
