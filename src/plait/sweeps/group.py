"""Which wandb group a run joins: its sweep under a multirun, its task otherwise."""

from __future__ import annotations

from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode


def sweep_group(task_name: str, log_dir: str | None = None) -> str:
    """`<task>` for a single run; for a job of a multirun, its sweep folder below `log_dir`
    (`digits/multiruns/2026-01-31_12-00-00-000000`, `posts/optuna/loss_weights`), so the runs of one
    sweep (and of a resumed Optuna study) share one group.

    Used from `conf/logger/wandb.yaml` as `group: {_target_: plait.sweeps.sweep_group, ...}`.
    """
    if not HydraConfig.initialized():
        return task_name
    hydra = HydraConfig.get()
    if hydra.mode != RunMode.MULTIRUN:
        return task_name
    sweep_dir = Path(hydra.sweep.dir).resolve()
    if log_dir is not None and sweep_dir.is_relative_to(Path(log_dir).resolve()):
        return str(sweep_dir.relative_to(Path(log_dir).resolve()))
    return f"{task_name}/{sweep_dir.name}"
