"""What a multirun was asked to run, read back from its `multirun.yaml`: the keys it swept,
the overrides it held fixed and, for Hydra's basic sweeper, every job of the grid.

Hydra saves the sweep's config as `multirun.yaml` before the first job starts: the command
line's overrides in `hydra.overrides.task`, the sweeper's own `hydra.sweeper.params`. The
basic sweeper runs the product of the swept values in order, so the jobs a stopped grid
never ran can be named.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# The basic sweeper's own enumeration (hydra-core is pinned), so job numbers match its.
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import OmegaConf

BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"


@dataclass
class Grid:
    """A multirun as launched.

    Attributes:
        axes: the keys given several values (`model.optimizer.lr`, `encoder@model.blocks.vision`),
            in command-line order, without `+`/`++`.
        fixed: the overrides held fixed, as typed (`trainer.max_epochs=30`); `hydra.*` left out.
        jobs: each job's overrides as Hydra hands them to it, in job-number order; None when
            the sweeper samples (Optuna) rather than enumerates.
    """

    axes: list[str]
    fixed: list[str]
    jobs: list[list[str]] | None


def load_grid(folder: Path) -> Grid | None:
    """The grid of a sweep folder's `multirun.yaml`; None when it records no overrides (or
    holds ones this Hydra cannot parse back)."""
    path = folder / "multirun.yaml"
    saved = OmegaConf.load(path) if path.is_file() else OmegaConf.create()
    task = OmegaConf.select(saved, "hydra.overrides.task")
    if task is None:
        return None
    params = OmegaConf.select(saved, "hydra.sweeper.params") or {}
    arguments = [f"{key}={value}" for key, value in params.items()] + [str(o) for o in task]
    try:
        overrides = OverridesParser.create().parse_overrides(arguments)
    except HydraException:  # a glob or another sweep that needs the config to expand
        return None
    overrides = [o for o in overrides if not o.get_key_element().lstrip("+~").startswith("hydra.")]
    axes = [o.get_key_element().lstrip("+~") for o in overrides if o.is_sweep_override()]
    fixed = [o.input_line for o in overrides if not o.is_sweep_override()]
    jobs = None
    enumerable = all(o.is_discrete_sweep() for o in overrides if o.is_sweep_override())
    if OmegaConf.select(saved, "hydra.sweeper._target_") == BASIC_SWEEPER and enumerable:
        jobs = BasicSweeper.split_arguments(overrides, None)[0]
    return Grid(list(dict.fromkeys(axes)), fixed, jobs)
