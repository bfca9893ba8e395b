"""Stop unpromising Optuna trials early: a Lightning callback that reports to the trial.

A trial finds its Optuna trial in one of two ways. In the sweeper's own process (Hydra's
basic launcher) the sweeper registers the live trial in `LIVE_TRIALS` under its number.
In another process (a joblib, submitit or SLURM launcher) the callback loads the study
from the sweep's RDB storage (SQLite by default) named in the job's Hydra config, and
reports through it; the trial's number is its `hydra.job.num`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import optuna
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from hydra.utils import instantiate

log = logging.getLogger(__name__)

# Trials of the sweep running in this process, by trial number (= the job's `hydra.job.num`).
LIVE_TRIALS: dict[int, optuna.trial.Trial] = {}
SWEEPER = "PlaitOptunaSweeper"
DB_NAME = "optuna.db"


def default_storage(sweep_dir: str | Path) -> str:
    """The study's storage when `hydra.sweeper.storage` is null: SQLite in the sweep folder."""
    return f"sqlite:///{Path(sweep_dir).resolve() / DB_NAME}"


class OptunaPruning(L.Callback):
    """Report `monitor` to this run's Optuna trial after every validation epoch, and stop
    the run with `optuna.TrialPruned` when the study's pruner says so.

    Outside an Optuna sweep (a single run, or another sweeper) it does nothing. Under
    multi-process training rank zero reports and decides; every rank stops together.

    Args:
        monitor: the metric to report, normally `${optimized_metric}`.
        storage: the study's storage URL; from the sweep's Hydra config if None.
        study_name: the study's name; from the sweep's Hydra config if None.
        trial_number: the trial; `hydra.job.num` if None.
    """

    def __init__(self, monitor: str, *, storage: str | None = None, study_name: str | None = None,
                 trial_number: int | None = None) -> None:
        super().__init__()
        self.monitor = monitor
        self._where = {"storage": storage, "study_name": study_name, "trial_number": trial_number}
        self._trial: optuna.trial.Trial | None = None
        self._warned = False

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if stage == "fit" and trainer.is_global_zero:
            self._trial = find_trial(**self._where, job=sweep_job())

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        prune, value = False, None
        if self._trial is not None and trainer.is_global_zero:
            value = trainer.callback_metrics.get(self.monitor)
            if value is None:
                self._warn_missing(trainer)
            else:
                self._trial.report(float(value), step=trainer.current_epoch)
                prune = self._trial.should_prune()
        if trainer.world_size > 1:
            prune = trainer.strategy.broadcast(prune, src=0)
        if prune:
            shown = "" if value is None else f": {self.monitor} = {float(value):.4g}"
            raise optuna.TrialPruned(f"pruned at epoch {trainer.current_epoch}{shown}")

    def _warn_missing(self, trainer: L.Trainer) -> None:
        if not self._warned:
            log.warning("OptunaPruning: %s was not logged; logged: %s", self.monitor,
                        sorted(trainer.callback_metrics))
            self._warned = True


@dataclass(frozen=True)
class SweepJob:
    """This process's job of a plait Optuna sweep: its number (= the trial's), its sweep
    folder, and the `hydra.sweeper` node."""

    number: int
    sweep_dir: str
    sweeper: Any


def sweep_job() -> SweepJob | None:
    """The job of a plait Optuna sweep this process runs, read from Hydra's config; None
    outside one (a single run, another sweeper, no Hydra)."""
    if not HydraConfig.initialized():
        return None
    hydra = HydraConfig.get()
    sweeper = hydra.get("sweeper")
    if hydra.mode != RunMode.MULTIRUN or sweeper is None:
        return None
    if not str(sweeper.get("_target_", "")).endswith(SWEEPER):
        return None
    return SweepJob(int(hydra.job.num), str(hydra.sweep.dir), sweeper)


def find_trial(storage: str | None = None, study_name: str | None = None,
               trial_number: int | None = None, job: SweepJob | None = None
               ) -> optuna.trial.Trial | None:
    """This run's Optuna trial, or None when the run is no trial of a plait Optuna sweep.

    Args:
        storage, study_name, trial_number: where the trial is; each from `job` if None.
        job: this process's sweep job (`sweep_job()`), None outside a sweep.
    """
    sweeper = job.sweeper if job is not None else None
    if trial_number is None:
        if job is None:
            return None
        trial_number = job.number
    if trial_number in LIVE_TRIALS:
        return LIVE_TRIALS[trial_number]
    storage = storage or (sweeper.get("storage") if sweeper else None)
    if storage is None and job is not None:
        storage = default_storage(job.sweep_dir)
    study_name = study_name or (sweeper.get("study_name") if sweeper else None)
    if storage is None or study_name is None:
        return None
    pruner = sweeper.get("pruner") if sweeper else None
    study = optuna.load_study(study_name=study_name, storage=storage,
                              pruner=instantiate(pruner) if pruner else None)
    # Optuna's own integrations build a Trial from its id the same way.
    trial_id = study._storage.get_trial_id_from_study_id_trial_number(study._study_id, trial_number)
    return optuna.trial.Trial(study, trial_id)
