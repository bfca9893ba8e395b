"""`mode=train`, on one page: check the config, build data, system and trainer, fit, test,
and return the metric a sweep optimises."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint
from omegaconf import DictConfig, OmegaConf

from plait.callbacks import last_checkpoint
from plait.callbacks.same_config import SameConfigOnEveryRank
from plait.losses import NonFiniteLoss
from plait.system import GraphSystem
from plait.train.build import (
    build_callbacks,
    build_data,
    build_loggers,
    build_system,
    build_trainer,
    output_dir,
    progress_bar,
)
from plait.train.check import check_config, check_system, describe
from plait.train.errors import ConfigError, sigterm_fails
from plait.train.loggers import log_run, wandb_run_closed
from plait.train.rank_launcher import adopt_submitit_tasks, node_ranks
from plait.train.resume import mark_finished, starting_checkpoint

log = logging.getLogger(__name__)


def train(cfg: DictConfig) -> float | None:
    """Seed, check, fit (resuming from `ckpt_path`), test, and return `optimized_metric`.

    Args:
        cfg: the composed config (`conf/train.yaml`).

    Returns:
        The best value of `cfg.optimized_metric` seen by checkpointing, else its last value;
        None when `optimized_metric` is null.

    Raises:
        ConfigError: the metric was never logged (the message lists those that were); and
            every error the checks raise, before any data is fetched.
        CheckpointError: `ckpt_path` is missing, unreadable or of another model.
        NonFiniteLoss: a loss became NaN or infinite; the message names the last checkpoint.
        SystemExit: with code 143 when SIGTERM stopped the fit (`last.ckpt` saved) or the test.
    """
    L.seed_everything(cfg.seed, workers=True)
    check_config(cfg)
    data, system = build_data(cfg), build_system(cfg)  # constructed only: no data fetched yet
    check_system(cfg, system, data)
    summary, files = describe(system, output_dir(cfg))
    start = starting_checkpoint(cfg, system)
    log.info("graph:\n%s", summary)

    loggers = build_loggers(cfg, resume_step=start.step if start else None)
    config = OmegaConf.to_container(cfg, resolve=True)
    adopt_submitit_tasks()  # before the trainer: it reads the ranks from the environment
    trainer = build_trainer(cfg, [*build_callbacks(cfg), SameConfigOnEveryRank(config)], loggers)
    metric = cfg.get("optimized_metric")
    with wandb_run_closed(loggers), node_ranks(trainer, cfg), sigterm_fails():  # fit and test
        log_run(trainer.loggers, config, summary, files)
        fit(trainer, system, data, start.path if start else None)
        metrics = dict(trainer.callback_metrics)
        last = cfg.get("test") == "last"  # test and report the weights training ended with
        if cfg.get("test"):
            metrics.update(test(trainer, system, data, metric, verbose=progress_bar(cfg), last=last))
        value = optimized_value(metric, trainer, metrics, last=last)
    if trainer.is_global_zero:
        mark_finished(Path(cfg.paths.output_dir))
    return value


def fit(trainer: L.Trainer, system: GraphSystem, data: L.LightningDataModule,
        ckpt_path: str | None) -> None:
    """`trainer.fit`, where a non-finite loss names the last good checkpoint."""
    try:
        trainer.fit(system, datamodule=data, ckpt_path=ckpt_path)
    except NonFiniteLoss as err:
        keeper = last_checkpoint(trainer)
        last = keeper.best_model_path if keeper is not None else ""
        raise NonFiniteLoss(f"{err}. The last good checkpoint is "
                            f"{last or 'none: no epoch had finished'}") from None


def test(trainer: L.Trainer, system: GraphSystem, data: L.LightningDataModule,
         metric: str | None, *, verbose: bool, last: bool = False) -> Mapping[str, Any]:
    """Test the checkpoint that keeps the best `metric` (the last weights without one, or
    with `last`); the test metrics. `verbose` prints Lightning's table (else `EpochLine`
    prints one line).

    The last weights are tested from a file written for the test and removed after it:
    given no checkpoint, Lightning would test the preemption checkpoint of a SLURM job that
    was requeued (`hpc_ckpt_<n>.ckpt`) instead of the weights training ended with.
    """
    callback = None if last else best_checkpoint(trainer, metric)
    best = callback.best_model_path if callback is not None else ""
    if best:
        trainer.test(system, datamodule=data, ckpt_path=best, verbose=verbose)
        return trainer.callback_metrics
    if not last:
        log.warning("no best checkpoint: testing the last weights")
    path = Path(trainer.default_root_dir) / ".plait" / "last_weights.ckpt"
    trainer.save_checkpoint(path, weights_only=True)  # rank 0 writes it; every rank waits
    try:
        trainer.test(system, datamodule=data, ckpt_path=str(path), verbose=verbose)
    finally:
        if trainer.is_global_zero:
            path.unlink(missing_ok=True)
    return trainer.callback_metrics


def best_checkpoint(trainer: L.Trainer, metric: str | None) -> ModelCheckpoint | None:
    """The checkpoint callback that keeps the best `metric` (not the one keeping `last.ckpt`)."""
    return next((c for c in trainer.checkpoint_callbacks
                 if isinstance(c, ModelCheckpoint) and metric and c.monitor == metric), None)


def optimized_value(name: str | None, trainer: L.Trainer, metrics: Mapping[str, Any], *,
                    last: bool = False) -> float | None:
    """The best value of metric `name` that checkpointing saw, else (or with `last`: the run
    kept its last weights, `test=last`) its last logged value."""
    if name is None:
        return None
    callback = None if last else best_checkpoint(trainer, name)
    if callback is not None and callback.best_model_score is not None:
        return float(callback.best_model_score)
    if name not in metrics:
        raise ConfigError(f"optimized_metric: '{name}' was not logged; logged metrics are "
                          f"{sorted(metrics)}")
    return float(metrics[name])
