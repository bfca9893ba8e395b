"""`mode=test` (or `evaluate`): a checkpoint's loss and metrics on the data's test split."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from hydra.utils import instantiate
from omegaconf import DictConfig

from plait.system import CheckpointError, GraphSystem, check_weights_match, read_checkpoint
from plait.train.build import build_data, build_system, output_dir, progress_bar
from plait.train.check import check_data
from plait.train.errors import ConfigError, sigterm_fails
from plait.train.keys import check_keys

log = logging.getLogger(__name__)

METRICS = "metrics.json"


def evaluate(cfg: DictConfig) -> dict[str, float]:
    """Test `ckpt_path` on the data's test split; print the metrics, write `metrics.json`.

    The model is the config's (the experiment's), with the checkpoint's weights, so the
    metrics are the ones the config names; the data is the config's, e.g. a file given
    with `data=files data.test_path=...`. One process, `trainer.accelerator`'s device.

    Returns:
        `{"test/loss": ..., "test/<output>/loss": ..., "test/<output>/<metric>": ...}`, as
        `system.evaluate` returns them for the same rows.

    Raises:
        ConfigError: no `ckpt_path`, or data without a test split or lacking an input or target.
        CheckpointError: `ckpt_path` missing, unreadable, or of another model (the blocks
            that differ named).
    """
    if not cfg.get("ckpt_path"):
        raise ConfigError("ckpt_path: mode=test needs the checkpoint to test, e.g. "
                          "ckpt_path=logs/train/runs/<run>/checkpoints/last.ckpt")
    check_keys(cfg)
    system = _trained_system(cfg)
    data = build_data(cfg)
    check_data(system, data, data_name=f"data ({cfg.data.get('_target_')})")
    # One process: a test has nothing to synchronise, and DDP would relaunch the command.
    trainer = instantiate(cfg.trainer, devices=1, num_nodes=1, strategy="auto", logger=False,
                          callbacks=[], enable_checkpointing=False,
                          enable_progress_bar=progress_bar(cfg))
    with sigterm_fails():
        results = trainer.test(system, datamodule=data, verbose=False)  # printed below, once
    if not results or not results[0]:
        raise ConfigError(f"data ({cfg.data.get('_target_')}): has no test split to test on "
                          "(e.g. data.test_fraction=0 without data.test_path)")
    metrics = {name: float(value) for name, value in sorted(results[0].items())}
    path = output_dir(cfg) / METRICS
    path.write_text(json.dumps(metrics, indent=2) + "\n")
    width = max(len(name) for name in metrics)
    print("\n".join(f"{name:<{width}}  {value:.6g}" for name, value in metrics.items()))
    print(f"metrics written to {path}")
    return metrics


def _trained_system(cfg: DictConfig) -> GraphSystem:
    """The config's model with the checkpoint's weights.

    Raises:
        CheckpointError: the checkpoint is unreadable or holds another model's weights.
    """
    system = build_system(cfg)
    checkpoint = read_checkpoint(Path(cfg.ckpt_path), key="ckpt_path")
    try:
        check_weights_match(system, checkpoint, cfg.ckpt_path)
    except CheckpointError as err:
        raise CheckpointError(f"{err} (test it with the experiment it was trained with, "
                              "e.g. experiment=<name>)") from None
    system.load_state_dict(checkpoint["state_dict"])
    return system.eval()
