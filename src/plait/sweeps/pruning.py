"""Stop unpromising Optuna trials early: a Lightning callback that reports to the trial.

A trial finds its Optuna trial in one of two ways. In the sweeper's own process (Hydra's
basic launcher) the sweeper registers the live trial in `LIVE_TRIALS` under its number.
In another process (a joblib, submitit or SLURM launcher) the callback loads the study
from the sweep's RDB storage (SQLite by default), which the sweeper names in every job's
Hydra config, and reports through it. The trial's number is its job's `hydra.job.num`;
`conf/hparams_search/loss_weights.yaml` passes it, with the study, through
`${plait.multirun:...}`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import lightning as L
import optuna
from hydra.utils import instantiate

log = logging.getLogger(__name__)

# Trials of the sweep running in this process, by trial number (= the job's `hydra.job.num`).
LIVE_TRIALS: dict[int, optuna.trial.Trial] = {}


class OptunaPruning(L.Callback):
    """Report `monitor` to this run's Optuna trial after every validation epoch, and stop
    the run with `optuna.TrialPruned` when the study's pruner says so.

    Outside an Optuna sweep (a single run, where `trial_number` is None) it does nothing.
    Under multi-process training rank zero reports and decides; every rank stops together.

    Args:
        monitor: the metric to report, normally `${optimized_metric}`.
        trial_number: the trial, the job's `hydra.job.num`; None outside a sweep.
        study_name: the study's name (`hydra.sweeper.study_name`).
        storage: the study's storage URL (`hydra.sweeper.storage`).
        pruner: the study's pruner config (`hydra.sweeper.pruner`), built when the study
            is loaded from `storage`.
    """

    def __init__(self, monitor: str, *, trial_number: int | None = None,
                 study_name: str | None = None, storage: str | None = None,
                 pruner: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        self.monitor = monitor
        self.trial_number, self.study_name, self.storage = trial_number, study_name, storage
        self.pruner = pruner
        self._trial: optuna.trial.Trial | None = None
        self._warned = False

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if stage == "fit" and trainer.is_global_zero:
            self._trial = find_trial(self.trial_number, self.study_name, self.storage, self.pruner)

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


def find_trial(trial_number: int | None = None, study_name: str | None = None,
               storage: str | None = None, pruner: Mapping[str, Any] | None = None
               ) -> optuna.trial.Trial | None:
    """This run's Optuna trial: the live one of the sweeper's process, else the one loaded
    from `storage`; None when the run is no trial of a plait Optuna sweep.

    Args:
        trial_number: the trial; None outside a sweep.
        study_name, storage: where the trial is stored.
        pruner: the study's pruner config (`_target_`), or None for Optuna's default.
    """
    if trial_number is None:
        return None
    if trial_number in LIVE_TRIALS:
        return LIVE_TRIALS[trial_number]
    if storage is None or study_name is None:
        return None
    study = optuna.load_study(study_name=study_name, storage=storage,
                              pruner=instantiate(pruner) if pruner else None)
    # Optuna's own integrations build a Trial from its id the same way.
    trial_id = study._storage.get_trial_id_from_study_id_trial_number(study._study_id, trial_number)
    return optuna.trial.Trial(study, trial_id)
