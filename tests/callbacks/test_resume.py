"""What resuming needs from a run: the random streams carried in a checkpoint, and the
checkpoint callback that keeps `last.ckpt` told from the one that keeps the best."""

from __future__ import annotations

import random

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from plait.callbacks import RandomState, last_checkpoint


def _draws() -> tuple[float, float, float]:
    return torch.rand(1).item(), float(np.random.rand()), random.random()


def test_random_state_restores_every_stream_at_train_start() -> None:
    saved = RandomState().state_dict()
    expected = _draws()
    resumed = RandomState()
    resumed.load_state_dict(saved)
    _draws()  # a fresh process would draw elsewhere before training starts
    resumed.on_train_start(None, None)
    assert _draws() == expected
    resumed.on_train_start(None, None)  # restored once: a second start leaves the streams alone
    assert _draws() != expected


def test_last_checkpoint_is_the_one_watching_no_metric(tmp_path) -> None:
    best = ModelCheckpoint(dirpath=tmp_path, monitor="val/loss")
    last = ModelCheckpoint(dirpath=tmp_path, filename="last", monitor=None)
    trainer = L.Trainer(callbacks=[best, last], logger=False, enable_progress_bar=False)
    assert last_checkpoint(trainer) is last
    assert last_checkpoint(L.Trainer(callbacks=[best], logger=False)) is None
