"""One clean line per epoch: in the run's log file (`train.log`), and on stdout where it is
no terminal (CI, clusters, `| tee`)."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Mapping
from typing import Any, TextIO

import lightning as L

from plait.callbacks.between_steps import BetweenSteps

log = logging.getLogger(__name__)


class EpochLine(BetweenSteps):
    """Write `epoch 3/10  train/loss 0.412  val/loss 0.380  val/answer/acc 0.871  (4.1s)` to
    the log files of the root logger (Hydra's `train.log`), and print it where no progress
    bar shows the epoch. Only rank zero writes.

    Args:
        echo: print each line as well (when stdout is no terminal).
        stream: where printed lines go; stdout if None.
    """

    def __init__(self, echo: bool = True, stream: TextIO | None = None) -> None:
        super().__init__()
        self.echo, self.stream = echo, stream
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
        line = "  ".join(parts)
        if self.echo:
            print(line, file=self.stream or sys.stdout, flush=True)
        # To the log files alone: the console handler would print the line a second time.
        record = log.makeRecord(log.name, logging.INFO, __file__, 0, line, None, None)
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.FileHandler) and record.levelno >= handler.level:
                handler.handle(record)


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
