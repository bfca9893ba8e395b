"""plait's callbacks and GraphSystem sit out Lightning's per-step hooks they have nothing to
do in: a real fit calls none of them, and still calls their other hooks."""

from __future__ import annotations

import lightning as L
import torch
from lightning.pytorch import callbacks as lightning_callbacks
from lightning.pytorch.profilers import Profiler
from torch.utils.data import DataLoader, TensorDataset

from plait.callbacks import (
    CheckpointWeights,
    EpochLine,
    ModelCheckpoint,
    RandomState,
    SaveOnInterrupt,
)
from plait.callbacks.between_steps import BetweenSteps
from plait.callbacks.same_config import SameConfigOnEveryRank

STEP_HOOKS = ("on_train_batch_start", "on_before_backward", "on_after_backward",
              "on_before_optimizer_step", "on_before_zero_grad", "on_train_batch_end")


class Actions(Profiler):
    """Records the name of every action Lightning profiles (each callback hook it calls)."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def start(self, action_name: str) -> None:
        self.names.add(action_name)

    def stop(self, action_name: str) -> None:
        pass

    def summary(self) -> str:
        return ""


class Tiny(L.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)

    def training_step(self, batch, batch_idx):
        return self.layer(batch[0]).pow(2).mean()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def test_a_fit_calls_no_step_hook_of_plaits_callbacks(tmp_path) -> None:
    callbacks = [CheckpointWeights(), EpochLine(), RandomState(), SaveOnInterrupt(),
                 SameConfigOnEveryRank({"a": 1})]
    assert all(isinstance(c, BetweenSteps) for c in callbacks)
    checkpoint = ModelCheckpoint(dirpath=tmp_path, every_n_train_steps=1, save_top_k=-1)
    profiler = Actions()
    trainer = L.Trainer(max_epochs=1, logger=False, callbacks=[*callbacks, checkpoint], enable_progress_bar=False,
                        enable_model_summary=False, profiler=profiler,
                        default_root_dir=tmp_path)
    trainer.fit(Tiny(), DataLoader(TensorDataset(torch.randn(8, 2)), batch_size=4))
    called = {name.removeprefix("[Callback]") for name in profiler.names if name.startswith("[Callback]")}
    for callback in callbacks:
        key = callback.state_key
        assert f"{key}.on_train_epoch_end" in called  # the other hooks still run
        assert not {f"{key}.{hook}" for hook in STEP_HOOKS} & called
    # the checkpoint keeps the one step hook it saves in, and saved there (2 steps)
    key = checkpoint.state_key
    assert {f"{key}.{hook}" for hook in STEP_HOOKS} & called == {f"{key}.on_train_batch_end"}
    assert sorted(p.name for p in tmp_path.glob("*.ckpt")) == ["epoch=0-step=1.ckpt", "epoch=0-step=2.ckpt"]


def test_a_checkpoint_that_saves_only_at_epoch_ends_sits_out_every_step_hook(tmp_path) -> None:
    at_epoch_end = ModelCheckpoint(dirpath=tmp_path / "a")
    every_step = ModelCheckpoint(dirpath=tmp_path / "b", every_n_train_steps=1)
    trainer = L.Trainer(max_epochs=1, logger=False, enable_progress_bar=False, enable_model_summary=False,
                        callbacks=[at_epoch_end, every_step], profiler=Actions(), default_root_dir=tmp_path)
    trainer.fit(Tiny(), DataLoader(TensorDataset(torch.randn(8, 2)), batch_size=4))
    called = trainer.profiler.names
    assert f"[Callback]{every_step.state_key}.on_train_batch_end" in called
    assert not {f"[Callback]{at_epoch_end.state_key}.{hook}" for hook in STEP_HOOKS} & called
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["epoch=0-step=2.ckpt"]  # saved at the epoch's end


def test_plaits_model_checkpoint_keys_its_state_as_lightnings_does(tmp_path) -> None:
    """So a checkpoint written with one resumes the other's callback state."""
    arguments = {"dirpath": tmp_path, "monitor": "val/loss", "mode": "max", "every_n_train_steps": 5}
    assert ModelCheckpoint(**arguments).state_key == lightning_callbacks.ModelCheckpoint(**arguments).state_key


def test_a_graph_system_fit_calls_none_of_its_idle_step_hooks(tmp_path) -> None:
    import numpy as np

    from plait.blocks import Dense
    from plait.data import ArrayDataModule
    from plait.graph import Graph, Input
    from plait.system import GraphSystem

    x = Input("x", shape=(3,))
    system = GraphSystem(Graph(x, {"y": Dense(2)(x)}), outputs={"y": {"loss": "cross_entropy", "metrics": ["acc"]}})
    rng = np.random.default_rng(0)
    data = ArrayDataModule({"x": rng.random((40, 3), dtype=np.float32)}, {"y": rng.integers(0, 2, 40)}, batch_size=8)
    profiler = Actions()
    trainer = L.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, profiler=profiler, default_root_dir=tmp_path)
    trainer.fit(system, data)
    called = {n.removeprefix("[LightningModule]GraphSystem.") for n in profiler.names
              if n.startswith("[LightningModule]GraphSystem.")}
    assert {"on_train_batch_end", "optimizer_step", "optimizer_zero_grad", "on_train_epoch_start"} <= called
    idle = {"on_train_batch_start", "on_before_backward", "on_after_backward", "on_before_zero_grad",
            "on_before_optimizer_step"}
    assert not idle & called
    assert trainer.callback_metrics["val/y/acc"] >= 0 and trainer.global_step == 10  # 36 training rows: 5 steps an epoch
