"""Callbacks for tests: SIGTERM to this process in the middle of a validation or a test."""

import os
import signal

import lightning as L


class TermDuringValidation(L.Callback):
    """After the first validation batch of epoch `epoch` (0-based), as a scheduler would stop
    a job: Lightning stops before the next batch."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_validation_batch_end(self, trainer: L.Trainer, *args) -> None:
        if trainer.current_epoch == self.epoch and not trainer.sanity_checking:
            os.kill(os.getpid(), signal.SIGTERM)


class TermDuringTest(L.Callback):
    """After the first test batch, as a scheduler would stop a job while it tests."""

    def on_test_batch_end(self, trainer: L.Trainer, *args) -> None:
        os.kill(os.getpid(), signal.SIGTERM)


class TermInJob(L.Callback):
    """After the first validation batch of Hydra job `job` of a multirun (an Optuna trial's
    number), as a scheduler would stop the sweep then."""

    def __init__(self, job: int) -> None:
        self.job = job

    def on_validation_batch_end(self, trainer: L.Trainer, *args) -> None:
        from hydra.core.hydra_config import HydraConfig

        if HydraConfig.get().job.num == self.job and not trainer.sanity_checking:
            os.kill(os.getpid(), signal.SIGTERM)
