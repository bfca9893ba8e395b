"""One clean line per epoch, for logs that are not a terminal (CI, clusters, `| tee`)."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from typing import Any, TextIO

import lightning as L

from plait.callbacks.between_steps import BetweenSteps


class EpochLine(BetweenSteps):
    """Print `epoch 3/10  train/loss 0.412  val/loss 0.380  val/answer/acc 0.871  (4.1s)`.

    Used in place of the progress bar when stdout is not a terminal; only rank zero prints.

    Args:
        stream: where lines go; stdout if None.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__()
        self.stream = stream
        self._start = time.monotonic()

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._start = time.monotonic()

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # Every rank reads the metrics: reading them runs the cross-rank reductions.
        metrics = trainer.callback_metrics
        if trainer.is_global_zero and not trainer.sanity_checking:
            epoch = f"epoch {trainer.current_epoch + 1}"
            if trainer.max_epochs is not None and trainer.max_epochs > 0:  # -1: run by steps
                epoch += f"/{trainer.max_epochs}"
            self._print(epoch, metrics)

    def on_test_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._start = time.monotonic()

    def on_test_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        metrics = {k: v for k, v in trainer.callback_metrics.items() if k.startswith("test/")}
        if trainer.is_global_zero:
            self._print("test", metrics)

    def _print(self, head: str, metrics: Mapping[str, Any]) -> None:
        parts = [head, *(f"{name} {value:.4g}" for name, value in epoch_metrics(metrics).items()),
                 f"({time.monotonic() - self._start:.1f}s)"]
        print("  ".join(parts), file=self.stream or sys.stdout, flush=True)


def epoch_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    """Epoch values by name, sorted by stage then name; `_step` values left out, `_epoch` cut."""
    values: dict[str, float] = {}
    for name, value in metrics.items():
        if name.endswith("_step"):
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        values[name.removesuffix("_epoch")] = number
    order = {"train": 0, "val": 1, "test": 2}
    return dict(sorted(values.items(), key=lambda kv: (order.get(kv[0].split("/")[0], 3), kv[0])))
