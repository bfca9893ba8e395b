"""`mode=predict`: a checkpoint's outputs, activations applied, over the data's test split."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import lightning as L
import numpy as np
import torch
from lightning.pytorch.utilities.model_helpers import is_overridden
from omegaconf import DictConfig

from plait.system import GraphSystem, load_checkpoint
from plait.train.build import build_data, check_data, output_dir
from plait.train.errors import ConfigError
from plait.train.keys import check_keys

PREDICTIONS = "predictions.npz"
TARGETS = "targets.npz"


def predict(cfg: DictConfig) -> Path:
    """Load `ckpt_path` (no model config needed) and write `predictions.npz` to the run folder.

    Predictions are keyed by output name, each with its activation applied (softmax
    probabilities, sigmoid probabilities, or values). The targets the data holds for the
    outputs, if any, go to `targets.npz` beside it, row for row.

    Returns:
        The path of `predictions.npz`.

    Raises:
        ConfigError: no `ckpt_path`, or data lacking the checkpoint's inputs.
    """
    if not cfg.get("ckpt_path"):
        raise ConfigError("ckpt_path: mode=predict needs the checkpoint to predict with, "
                          "e.g. ckpt_path=logs/train/runs/<run>/checkpoints/last.ckpt")
    check_keys(cfg)
    system = load_checkpoint(cfg.ckpt_path, key="ckpt_path").to(_device(cfg))
    data = build_data(cfg)
    check_data(system, data, outputs=False, data_name=f"data ({cfg.data.get('_target_')})")
    outputs, targets = _collect(system, _loader(data))
    out = output_dir(cfg)
    path = out / PREDICTIONS
    np.savez(path, **outputs)
    if targets:
        np.savez(out / TARGETS, **targets)
    rows = len(next(iter(outputs.values())))
    print(f"predictions of {sorted(outputs)} for {rows} examples written to {path}")
    return path


def _loader(data: L.LightningDataModule) -> Iterable[Mapping[str, torch.Tensor]]:
    """The data's predict split if it has one, else its test split; fetches the data."""
    data.prepare_data()
    data.setup("predict")
    if is_overridden("predict_dataloader", data, L.LightningDataModule):
        return data.predict_dataloader()
    return data.test_dataloader()


def _collect(system: GraphSystem, loader: Iterable[Mapping[str, torch.Tensor]]
             ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Activated outputs over every batch, and the targets the batches hold, row for row."""
    graph = system.graph
    outputs: dict[str, list[np.ndarray]] = {n: [] for n in graph.output_names}
    targets: dict[str, list[np.ndarray]] = {n: [] for n in graph.output_names}
    for batch in loader:
        inputs = {n: batch[n] for n in graph.input_names}
        rows = len(next(iter(inputs.values())))
        for name, value in system.predict(inputs, batch_size=rows).items():
            outputs[name].append(value)
            if name in batch:
                targets[name].append(batch[name].cpu().numpy())
    return ({n: _cat(v) for n, v in outputs.items()},
            {n: _cat(v) for n, v in targets.items() if v})


def _cat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.empty((0,))


def _device(cfg: DictConfig) -> torch.device:
    accelerator = str(cfg.get("trainer", {}).get("accelerator", "auto"))
    if accelerator in ("gpu", "cuda", "auto") and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")
