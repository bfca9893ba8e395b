"""`mode=train`: fit, test the best checkpoint, return the metric a sweep optimises."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint
from omegaconf import DictConfig, OmegaConf

from plait.callbacks.same_config import SameConfigOnEveryRank
from plait.train.build import build_callbacks, build_loggers, build_trainer, progress_bar
from plait.train.check import prepare
from plait.train.errors import ConfigError
from plait.train.loggers import log_run
from plait.train.ranks import adopt_submitit_tasks, node_ranks

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
    """
    L.seed_everything(cfg.seed, workers=True)
    checked = prepare(cfg)
    log.info("graph:\n%s", checked.summary)
    loggers = build_loggers(cfg)
    config = OmegaConf.to_container(cfg, resolve=True)
    adopt_submitit_tasks()
    trainer = build_trainer(cfg, [*build_callbacks(cfg), SameConfigOnEveryRank(config)], loggers)
    try:
        with node_ranks(trainer, cfg):
            return _fit_and_test(cfg, trainer, checked, config)
    finally:
        finish_wandb(loggers)


def _fit_and_test(cfg: DictConfig, trainer: L.Trainer, checked: Any, config: dict) -> float | None:
    """Fit (resuming from `ckpt_path`), test the best checkpoint, return the optimized metric."""
    log_run(trainer.loggers, config, checked.summary, checked.files)
    trainer.fit(checked.system, datamodule=checked.data, ckpt_path=cfg.get("ckpt_path"))
    metrics = dict(trainer.callback_metrics)
    if cfg.get("test"):
        best = _best_path(trainer)
        if best is None:
            log.warning("no best checkpoint: testing the last weights")
        trainer.test(checked.system, datamodule=checked.data, ckpt_path=best,
                     verbose=progress_bar(cfg))  # else EpochLine prints one line
        metrics.update(trainer.callback_metrics)
    return optimized_value(cfg, trainer, metrics)


def _best_path(trainer: L.Trainer) -> str | None:
    callback = trainer.checkpoint_callback
    if isinstance(callback, ModelCheckpoint) and callback.best_model_path:
        return callback.best_model_path
    return None


def optimized_value(cfg: DictConfig, trainer: L.Trainer, metrics: Mapping[str, Any]) -> float | None:
    """The best `optimized_metric` that checkpointing saw, else its last logged value."""
    name = cfg.get("optimized_metric")
    if name is None:
        return None
    callback = trainer.checkpoint_callback
    if (isinstance(callback, ModelCheckpoint) and callback.monitor == name
            and callback.best_model_score is not None):
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
