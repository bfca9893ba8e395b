"""A callback for tests: what each optimizer step of a real run saw, written to a JSON file."""

import json

import lightning as L
import torch


def _norm(module: L.LightningModule) -> float:
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    return float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads])))


class OptimizerSteps(L.Callback):
    """Per optimizer step, the gradients' norm before clipping (`on_before_optimizer_step`,
    which Lightning calls before it clips) and after it (at the end of the batch that
    stepped: the gradients stay until the next step's first batch clears them), and the
    training batches of an epoch; written to `path` when training ends."""

    def __init__(self, path: str) -> None:
        self.path, self.before, self.after, self.step = path, [], [], 0

    def on_before_optimizer_step(self, trainer: L.Trainer, module: L.LightningModule, *args) -> None:
        self.before.append(_norm(module))

    def on_train_batch_end(self, trainer: L.Trainer, module: L.LightningModule, *args) -> None:
        if trainer.global_step > self.step:
            self.step = trainer.global_step
            self.after.append(_norm(module))

    def on_train_end(self, trainer: L.Trainer, *args) -> None:
        with open(self.path, "w") as f:
            json.dump({"before": self.before, "after": self.after, "global_step": trainer.global_step,
                       "epochs": trainer.current_epoch, "batches": trainer.num_training_batches}, f)
