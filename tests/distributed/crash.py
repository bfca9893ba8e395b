"""A callback for tests: the rank it names fails at the start of training."""

import lightning as L


class CrashOnRank(L.Callback):
    def __init__(self, rank: int) -> None:
        self.rank = rank

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.global_rank == self.rank:
            raise RuntimeError(f"rank {self.rank} fails on purpose")
