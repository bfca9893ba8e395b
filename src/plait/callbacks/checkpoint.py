"""Lightning's ModelCheckpoint, without the step hooks it has nothing to do in."""

from __future__ import annotations

import lightning as L
from lightning.pytorch import callbacks

from plait.callbacks.between_steps import BetweenSteps


class ModelCheckpoint(BetweenSteps, callbacks.ModelCheckpoint):
    """Lightning's `ModelCheckpoint`, sitting out the step hooks it has nothing to do in (see
    `BetweenSteps`): all but `on_train_batch_end`, and that one too unless it saves within
    epochs (`every_n_train_steps`, `train_time_interval`). It keeps Lightning's class name,
    which keys its state in a checkpoint: checkpoints written with either resume with either.
    """

    on_train_batch_end = callbacks.ModelCheckpoint.on_train_batch_end  # where it saves mid-epoch

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        super().setup(trainer, pl_module, stage)
        if self._every_n_train_steps < 1 and self._train_time_interval is None:
            self.on_train_batch_end = None  # (no __init__ of its own: Hydra's errors read Lightning's)
