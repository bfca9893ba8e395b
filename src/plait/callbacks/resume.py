"""What a run needs so that a resumed run continues it exactly: random state, and a last
checkpoint written when the run is interrupted."""

from __future__ import annotations

import logging
import random
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.utilities.exceptions import SIGTERMException

from plait.callbacks.between_steps import BetweenSteps

log = logging.getLogger(__name__)


class RandomState(BetweenSteps):
    """Carries the random generators' states in every checkpoint and restores them before the
    first batch of a resumed fit, so dropout (and any other draw) continues the stream the
    interrupted run would have drawn: a resumed run reaches the uninterrupted run's weights.

    Restored at `on_train_start`, after the sanity check, which draws nothing that training
    would have drawn. All ranks draw alike (one seed), so rank 0's state serves every rank.
    """

    def __init__(self) -> None:
        super().__init__()
        self._pending: dict[str, Any] | None = None

    def state_dict(self) -> dict[str, Any]:
        return {"torch": torch.get_rng_state(), "numpy": _numpy_state(), "python": random.getstate(),
                "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._pending = state_dict

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        state, self._pending = self._pending, None
        if not state:
            return
        torch.set_rng_state(state["torch"])
        if state["cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda"])
        np.random.set_state(_numpy_tuple(state["numpy"]))
        random.setstate(_python_tuple(state["python"]))


def _numpy_state() -> dict[str, Any]:
    """numpy's global state as tensors and numbers: loadable with `weights_only=True`."""
    name, key, pos, has_gauss, gauss = np.random.get_state(legacy=True)
    return {"name": name, "key": torch.from_numpy(key.astype(np.int64)), "pos": int(pos),
            "has_gauss": int(has_gauss), "gauss": float(gauss)}


def _numpy_tuple(state: dict[str, Any]) -> tuple:
    key = state["key"].numpy().astype(np.uint32)
    return state["name"], key, state["pos"], state["has_gauss"], state["gauss"]


def _python_tuple(state: Any) -> tuple:
    version, internal, gauss = state  # lists after a round trip through the checkpoint
    return version, tuple(internal), gauss


class SaveOnInterrupt(BetweenSteps):
    """On Ctrl-C (SIGINT) or SIGTERM during fit, write `last.ckpt` with the state reached, so
    resuming loses nothing; other errors write nothing (a failed state is no state to resume).

    The file goes where the checkpoint callback that keeps `last.ckpt` writes it; without one
    (`callbacks=none`) nothing is written. Lightning writes checkpoints atomically.
    """

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule,
                     exception: BaseException) -> None:
        interrupted = isinstance(exception, (KeyboardInterrupt, SIGTERMException))
        keeper = last_checkpoint(trainer)
        if not interrupted or keeper is None or trainer.state.fn != "fit" or trainer.sanity_checking:
            return
        path = keeper.format_checkpoint_name({})
        keeper.best_model_path = path  # part of the state it saves
        trainer.save_checkpoint(path)
        log.warning("interrupted at epoch %d, step %d: saved %s; resume with ckpt_path=%s",
                    trainer.current_epoch, trainer.global_step, path, path)


def last_checkpoint(trainer: L.Trainer) -> ModelCheckpoint | None:
    """The checkpoint callback that keeps the latest state (`last.ckpt`): it watches no metric."""
    return next((c for c in trainer.checkpoint_callbacks
                 if isinstance(c, ModelCheckpoint) and c.monitor is None and c.dirpath), None)
