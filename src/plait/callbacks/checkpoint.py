"""Lightning's ModelCheckpoint, without the step hooks it has nothing to do in; checkpoints
that hold the weights they present beside a weight-averaging callback."""

from __future__ import annotations

from typing import Any

import lightning as L
from lightning.pytorch import callbacks
from lightning.pytorch.callbacks import WeightAveraging
from lightning.pytorch.trainer.states import TrainerFn

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


class CheckpointWeights(BetweenSteps):
    """A checkpoint holds the weights it presents, with a weight-averaging callback too.

    Lightning's `WeightAveraging` callbacks (`EMAWeightAveraging`) swap their average into
    the model for validation and save it as the checkpoint's `state_dict`, the trained
    weights beside it. Two paths would mix the two up:

    - Loaded to test, validate or predict, a checkpoint runs its `state_dict`, as
      `load_checkpoint`, `mode=test` and export do. Lightning restores each callback from the
      file after the model, and an averaging callback that still holds its average after
      fit puts back the trained weights: the test after fit would run other weights than
      the ones the best epoch was chosen by. Here the `state_dict` is loaded again, last.
    - Interrupted during validation (Ctrl-C, SIGTERM), the model still holds the average;
      `SaveOnInterrupt` would save the two swapped. Here the averaging callbacks end their
      validation (swapping back) first.

    Both need this callback's hooks to run after the config's callbacks: `build_callbacks`
    lists it after them, and Lightning moves only checkpoint callbacks behind it. With
    sharded strategies (FSDP, DeepSpeed) `load_model_state_dict` does nothing; weight
    averaging does not support them either.
    """

    def __init__(self) -> None:
        super().__init__()
        self._validating = False  # between on_validation_epoch_start and _end

    def on_load_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule,
                           checkpoint: dict[str, Any]) -> None:
        # resuming a fit restores everything, as saved; without averaging, Lightning's own
        # load of the weights stands, and they are not loaded twice
        if trainer.state.fn != TrainerFn.FITTING and _averaging(trainer):
            trainer.strategy.load_model_state_dict(checkpoint, strict=pl_module.strict_loading)

    def on_validation_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._validating = True

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._validating = False

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule,
                     exception: BaseException) -> None:
        if self._validating:  # before SaveOnInterrupt's on_exception, which comes after
            self._validating = False
            for callback in _averaging(trainer):
                callback.on_validation_epoch_end(trainer, pl_module)


def _averaging(trainer: L.Trainer) -> list[WeightAveraging]:
    """The run's weight-averaging callbacks."""
    return [c for c in trainer.callbacks if isinstance(c, WeightAveraging)]
