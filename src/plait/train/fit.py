"""`mode=train`: fit, test the best checkpoint, return the metric a sweep optimises."""

from __future__ import annotations

import logging
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.utilities.exceptions import SIGTERMException
from omegaconf import DictConfig, OmegaConf

from plait.callbacks import last_checkpoint
from plait.callbacks.same_config import SameConfigOnEveryRank
from plait.losses import NonFiniteLoss
from plait.train.build import build_callbacks, build_loggers, build_trainer, progress_bar
from plait.train.check import prepare
from plait.train.csv_logger import CSVLogger
from plait.train.errors import ConfigError
from plait.train.loggers import log_run
from plait.train.ranks import adopt_submitit_tasks, node_ranks
from plait.train.resume import Start, mark_finished, starting_checkpoint

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
            every error `prepare` raises, before any data is fetched.
        CheckpointError: `ckpt_path` is missing, unreadable or of another model.
        NonFiniteLoss: a loss became NaN or infinite; the message names the last checkpoint.
        SystemExit: with code 143 when SIGTERM stopped the run (`last.ckpt` saved).
    """
    L.seed_everything(cfg.seed, workers=True)
    checked = prepare(cfg)
    start = starting_checkpoint(cfg, checked.system)
    log.info("graph:\n%s", checked.summary)
    loggers = build_loggers(cfg)
    if start is not None:
        for logger in loggers:
            if isinstance(logger, CSVLogger):
                logger.resume_at(start.step)
    config = OmegaConf.to_container(cfg, resolve=True)
    adopt_submitit_tasks()
    trainer = build_trainer(cfg, [*build_callbacks(cfg), SameConfigOnEveryRank(config)], loggers)
    try:
        with node_ranks(trainer, cfg):
            value = _fit_and_test(cfg, trainer, checked, config, start)
    finally:
        finish_wandb(loggers)
    if trainer.is_global_zero:
        mark_finished(Path(cfg.paths.output_dir))
    return value


def _fit_and_test(cfg: DictConfig, trainer: L.Trainer, checked: Any, config: dict,
                  start: Start | None) -> float | None:
    """Fit (resuming from `start`), test the best checkpoint, return the optimized metric."""
    log_run(trainer.loggers, config, checked.summary, checked.files)
    _fit(trainer, checked, start.path if start else None)
    metrics = dict(trainer.callback_metrics)
    if cfg.get("test"):
        best = _best_path(trainer, cfg.get("optimized_metric"))
        if best is None:
            log.warning("no best checkpoint: testing the last weights")
        trainer.test(checked.system, datamodule=checked.data, ckpt_path=best,
                     verbose=progress_bar(cfg))  # else EpochLine prints one line
        metrics.update(trainer.callback_metrics)
    return optimized_value(cfg, trainer, metrics)


def _fit(trainer: L.Trainer, checked: Any, ckpt_path: str | None) -> None:
    """`trainer.fit`, where a stop by SIGTERM or a non-finite loss fails the run.

    Lightning ends a fit stopped by SIGTERM with a `SystemExit` of code 0; a stopped run has
    not succeeded, and a scheduler must see that.
    """
    try:
        trainer.fit(checked.system, datamodule=checked.data, ckpt_path=ckpt_path)
    except SIGTERMException:
        raise SystemExit(128 + signal.SIGTERM) from None
    except NonFiniteLoss as err:
        keeper = last_checkpoint(trainer)
        last = keeper.best_model_path if keeper is not None else ""
        raise NonFiniteLoss(f"{err}. The last good checkpoint is "
                            f"{last or 'none: no epoch had finished'}") from None


def best_checkpoint(trainer: L.Trainer, metric: str | None) -> ModelCheckpoint | None:
    """The checkpoint callback that keeps the best `metric` (not the one keeping `last.ckpt`)."""
    return next((c for c in trainer.checkpoint_callbacks
                 if isinstance(c, ModelCheckpoint) and metric and c.monitor == metric), None)


def _best_path(trainer: L.Trainer, metric: str | None) -> str | None:
    callback = best_checkpoint(trainer, metric)
    return callback.best_model_path if callback is not None and callback.best_model_path else None


def optimized_value(cfg: DictConfig, trainer: L.Trainer, metrics: Mapping[str, Any]) -> float | None:
    """The best `optimized_metric` that checkpointing saw, else its last logged value."""
    name = cfg.get("optimized_metric")
    if name is None:
        return None
    callback = best_checkpoint(trainer, name)
    if callback is not None and callback.best_model_score is not None:
        return float(callback.best_model_score)
    if name not in metrics:
        raise ConfigError(f"optimized_metric: '{name}' was not logged; logged metrics are "
                          f"{sorted(metrics)}")
    return float(metrics[name])


def finish_wandb(loggers: list[Any]) -> None:
    """Close the wandb run, so the next run of a multirun starts its own."""
    from lightning.pytorch.loggers import WandbLogger

    if any(isinstance(logger, WandbLogger) for logger in loggers):
        import wandb

        if wandb.run is not None:
            wandb.finish()
