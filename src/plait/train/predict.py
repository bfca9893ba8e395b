"""`mode=predict`: a checkpoint's outputs, activations applied, over data with or without
targets: `predictions.npz`, and one table (`predictions.csv` or `.parquet`)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

import lightning as L
import numpy as np
import torch
from lightning.pytorch.utilities.model_helpers import is_overridden
from omegaconf import DictConfig

from plait.system import GraphSystem, load_checkpoint
from plait.train.build import build_data, output_dir
from plait.train.check import check_data
from plait.train.errors import ConfigError
from plait.train.mode_keys import check_mode_keys
from plait.train.predictions import check_table, prediction_table, write_table
from plait.train.progress import progress

log = logging.getLogger(__name__)

PREDICTIONS = "predictions.npz"
TARGETS = "targets.npz"
KEYS = {"table": "csv"}  # conf/predict.yaml's own keys, with their defaults


def predict(cfg: DictConfig) -> Path:
    """Load `ckpt_path` (no model config needed) and write its predictions to the run folder.

    Predictions are keyed by output name, each with its activation applied (softmax
    probabilities, sigmoid probabilities, or values), over the data's predict split (a
    `predict_path` file, predict-only arrays) or else its test split, `data.batch_size`
    rows at a time on `trainer.accelerator`'s device. Only the inputs are needed; targets
    the data holds for the outputs go to `targets.npz`, row for row. `table` (csv, parquet,
    null) also writes them as one table, with the rows' ids where the data has them.

    Returns:
        The path of `predictions.npz`.

    Raises:
        ConfigError: no `ckpt_path`, an unknown `table`, or data lacking the checkpoint's inputs.
        CheckpointError: `ckpt_path` is missing or not a plait checkpoint.
    """
    if not cfg.get("ckpt_path"):
        raise ConfigError("ckpt_path: mode=predict needs the checkpoint to predict with, "
                          "e.g. ckpt_path=logs/train/runs/<run>/checkpoints/last.ckpt")
    table = check_mode_keys(cfg, KEYS)["table"]
    check_table(table)
    system = load_checkpoint(cfg.ckpt_path, key="ckpt_path").to(_device(cfg))
    data = build_data(cfg)
    try:
        check_data(system, data, outputs=False, data_name=f"data ({cfg.data.get('_target_')})")
    except ConfigError as err:  # the model is the checkpoint's, whatever the experiment says
        raise ConfigError(f"{err} The model is the checkpoint's ({cfg.ckpt_path}): is it one of "
                          "this experiment?") from None
    outputs, targets = _collect(system, prediction_loader(data))
    out = output_dir(cfg)
    path = out / PREDICTIONS
    np.savez(path, **outputs)
    if targets:
        np.savez(out / TARGETS, **targets)
    rows = len(next(iter(outputs.values())))
    print(f"predictions of {sorted(outputs)} for {rows} examples written to {path}")
    if table is not None:
        _write_table(system, data, outputs, out / PREDICTIONS, table)
    return path


def _write_table(system: GraphSystem, data: L.LightningDataModule, outputs: dict[str, np.ndarray],
                 path: Path, table: str) -> None:
    """The predictions as one table beside the `.npz`, ids first where the data has them."""
    ids = getattr(data, "predict_ids", None)
    rows = len(next(iter(outputs.values())))
    if ids is not None and len(ids) != rows:
        log.warning("the data's %d ids do not match the %d predictions; the table has no ids",
                    len(ids), rows)
        ids = None
    frame, left_out = prediction_table(outputs, system.loss.activations, ids,
                                       getattr(data, "id_column", None) or "id")
    written = write_table(frame, path, table)
    print(f"table of {len(frame.columns)} columns written to {written}")
    if left_out:
        print(f"outputs {left_out} have more than one dimension per example: "
              f"in {path.name} only")


def prediction_loader(data: L.LightningDataModule) -> Iterable[Mapping[str, torch.Tensor]]:
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
    total = len(loader) if hasattr(loader, "__len__") else None
    for batch in progress(loader, total, "batch"):
        inputs = {n: batch[n] for n in graph.input_names}
        rows = len(next(iter(inputs.values())))
        for name, value in system.predict(inputs, batch_size=rows).items():
            outputs[name].append(value)
            if name in batch:
                targets[name].append(batch[name].cpu().numpy())
    if not outputs[graph.output_names[0]]:
        raise ConfigError("data: the split to predict on has no rows")
    return ({n: _cat(v) for n, v in outputs.items()},
            {n: _cat(v) for n, v in targets.items() if v})


def _cat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.empty((0,))


def _device(cfg: DictConfig) -> torch.device:
    accelerator = str(cfg.get("trainer", {}).get("accelerator", "auto"))
    if accelerator in ("gpu", "cuda", "auto") and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")
