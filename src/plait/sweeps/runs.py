"""Read a sweep folder: its runs, their configs, logged metrics and (Optuna) trial states.

A sweep folder is what a Hydra multirun writes: `multirun.yaml` and one folder per run
(`.hydra/config.yaml`, `.hydra/overrides.yaml`, `csv/metrics.csv`; `.plait/finished` once
fit and test are done). plait's Optuna sweeper adds `optuna.db`, which holds each trial's
state (complete, pruned, failed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from plait.sweeps.grid import Grid, load_grid
from plait.train.resume import failed, finished

DB_NAME = "optuna.db"


class SweepError(ValueError):
    """A folder that is not a sweep, or a sweep that cannot be read; names the folder."""


@dataclass
class SweepRun:
    """One run of a sweep.

    Attributes:
        name: its folder's name (the job number; in an Optuna sweep, the trial number).
        folder: its folder.
        state: COMPLETE, PRUNED, FAIL or RUNNING (from Optuna); else COMPLETE when the run
            finished (fit and test), FAIL when an error stopped it (`.plait/failed`) or it
            logged no objective, UNFINISHED when it logged the objective but stopped (or
            still runs).
        overrides: the overrides it ran with.
        config: its composed config (read a key with `setting`).
        metrics: its CSV log, one row per epoch (last value of each column), or None.
        seconds: from its config's writing to its last log write.
    """

    name: str
    folder: Path
    state: str
    overrides: list[str]
    config: DictConfig
    metrics: pd.DataFrame | None
    seconds: float | None


@dataclass
class Sweep:
    """A sweep folder read: its runs, what they optimised, and what was launched.

    Attributes:
        grid: the axes, fixed overrides and jobs of `multirun.yaml`; None when it records none.
        not_run: the grid's jobs that have no folder (the sweep stopped before them), by job
            number: their overrides.
    """

    folder: Path
    kind: str  # grid | optuna
    runs: list[SweepRun]
    objective: str
    mode: str
    outputs: list[str]
    grid: Grid | None = None
    not_run: dict[str, list[str]] | None = None


def load_sweep(folder: str | Path) -> Sweep:
    """Read every run of a sweep folder.

    Raises:
        SweepError: the folder is missing, is not a sweep, or holds no runs.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise SweepError(f"sweep folder {folder}: no such folder")
    db = folder / DB_NAME
    if not (folder / "multirun.yaml").is_file() and not db.is_file():
        raise SweepError(
            f"sweep folder {folder}: not a sweep; a sweep folder holds multirun.yaml (written "
            "by `python train.py -m ...`) or optuna.db, e.g. logs/<task>/multiruns/<time>/ or "
            "logs/<task>/optuna/<study>/")
    run_dirs = sorted((p for p in folder.iterdir() if (p / ".hydra" / "config.yaml").is_file()),
                      key=lambda p: run_order(p.name))
    if not run_dirs:
        raise SweepError(f"sweep folder {folder}: holds no runs yet (no <run>/.hydra/config.yaml)")
    states = _trial_states(folder) if db.is_file() else {}
    configs = [OmegaConf.load(p / ".hydra" / "config.yaml") for p in run_dirs]
    objective = setting(configs[0], "optimized_metric")
    mode = setting(configs[0], "optimized_mode") or "min"
    runs = [_run(p, c, states, objective) for p, c in zip(run_dirs, configs)]
    outputs = list(setting(configs[0], "model.outputs") or {})
    grid = load_grid(folder)
    launched = {tuple(run.overrides) for run in runs}
    not_run = {str(n): job for n, job in enumerate(grid.jobs or []) if tuple(job) not in launched} \
        if grid else {}
    return Sweep(folder, "optuna" if states else "grid", runs, str(objective), str(mode), outputs,
                 grid, not_run)


def setting(config: DictConfig, key: str) -> Any:
    """A key of a run's config, resolved, as plain data; None when missing or unresolvable
    (`${hydra:...}` cannot resolve outside the run)."""
    try:
        value = OmegaConf.select(config, key, default=None)
        return OmegaConf.to_container(value, resolve=True) if OmegaConf.is_config(value) else value
    except Exception:  # noqa: BLE001 - any resolution error: the report shows a blank
        return None


def _run(folder: Path, config: DictConfig, states: dict[str, str], objective: str) -> SweepRun:
    overrides_file = folder / ".hydra" / "overrides.yaml"
    overrides = [str(o) for o in OmegaConf.load(overrides_file)] if overrides_file.is_file() else []
    csv = folder / "csv" / "metrics.csv"
    metrics = per_epoch(pd.read_csv(csv)) if csv.is_file() and csv.stat().st_size else None
    logged = metrics is not None and objective in metrics and metrics[objective].notna().any()
    state = states.get(folder.name) or (
        "COMPLETE" if finished(folder) else "UNFINISHED" if logged and not failed(folder) else "FAIL")
    start = (folder / ".hydra" / "config.yaml").stat().st_mtime
    end = max((p.stat().st_mtime for p in folder.rglob("*") if p.is_file()), default=start)
    return SweepRun(folder.name, folder, state, overrides, config, metrics, end - start)


def per_epoch(frame: pd.DataFrame) -> pd.DataFrame:
    """Lightning's CSV log (one row per logging step) as one row per epoch: each column's
    last value in that epoch."""
    if "epoch" not in frame:
        return frame
    return frame.dropna(subset=["epoch"]).groupby("epoch", sort=True).last().reset_index()


def best_epoch(metrics: pd.DataFrame | None, objective: str, mode: str) -> pd.Series | None:
    """The row of the epoch with the best objective (what checkpointing kept), or None."""
    if metrics is None or objective not in metrics or metrics[objective].isna().all():
        return None
    values = metrics[objective]
    return metrics.loc[values.idxmax() if mode == "max" else values.idxmin()]


def last_epoch(metrics: pd.DataFrame | None, objective: str) -> pd.Series | None:
    """The row of the last epoch that logged the objective (the weights a run ends with), or None."""
    if metrics is None or objective not in metrics or metrics[objective].isna().all():
        return None
    return metrics.loc[metrics[objective].last_valid_index()]


def last_value(metrics: pd.DataFrame | None, column: str) -> float:
    """The last logged value of a column (a test metric), NaN when none."""
    if metrics is None or column not in metrics or metrics[column].isna().all():
        return math.nan
    return float(metrics[column].dropna().iloc[-1])


def _trial_states(folder: Path) -> dict[str, str]:
    import optuna

    storage = f"sqlite:///{(folder / DB_NAME).resolve()}"
    names = optuna.study.get_all_study_names(storage)
    wanted = OmegaConf.select(_load(folder / "multirun.yaml"), "hydra.sweeper.study_name")
    name = wanted if wanted in names else (names[0] if len(names) == 1 else None)
    if name is None:
        raise SweepError(f"sweep folder {folder}: {DB_NAME} holds studies {names}; "
                         "expected the one its multirun.yaml names")
    study = optuna.load_study(study_name=name, storage=storage)
    return {str(t.number): t.state.name for t in study.get_trials(deepcopy=False)}


def _load(path: Path) -> Any:
    return OmegaConf.load(path) if path.is_file() else OmegaConf.create()


def run_order(name: str) -> tuple[int, str]:
    """Sorts run names as job numbers: 2 before 10; other names after them."""
    return (int(name), "") if name.isdigit() else (1 << 30, name)
