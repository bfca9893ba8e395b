"""Lightning's ModelCheckpoint, without the step hooks it has nothing to do in."""

from __future__ import annotations

from lightning.pytorch import callbacks


class ModelCheckpoint(callbacks.ModelCheckpoint):
    """Lightning's `ModelCheckpoint`, sitting out every step hook but `on_train_batch_end`
    (where `every_n_train_steps` saves); see `BetweenSteps`. It keeps Lightning's class name,
    which keys its state in a checkpoint: checkpoints written with either resume with either.
    """

    on_train_batch_start = None
    on_before_backward = None
    on_after_backward = None
    on_before_optimizer_step = None
    on_before_zero_grad = None
