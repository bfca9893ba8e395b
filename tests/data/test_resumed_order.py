"""A fit resumed in the middle of an epoch trains on the batches an uninterrupted fit
trained on after that point: none repeated, none left out, wherever the checkpoint was
written (a step's end by `every_n_train_steps`, or before a batch by an interrupt)."""

from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from plait.data import ArrayDataModule


class RowRecorder(L.LightningModule):
    """Records, per epoch, the row ids of every batch it trains on."""

    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Linear(1, 1)
        self.seen: dict[int, list[int]] = {}

    def training_step(self, batch, batch_idx):
        self.seen.setdefault(self.current_epoch, []).extend(batch["row"].long().tolist())
        return self.net(batch["row"].float().unsqueeze(1)).pow(2).mean()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.0)


class SaveBefore(L.Callback):
    """Writes the state before batch `batch` of epoch `epoch`, as an interrupt between steps does."""

    def __init__(self, path: Path, epoch: int, batch: int) -> None:
        self.path, self.at = path, (epoch, batch)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if (trainer.current_epoch, batch_idx) == self.at:
            trainer.save_checkpoint(self.path)


def _fit(root: Path, callbacks=(), ckpt_path: Path | None = None) -> RowRecorder:
    rows = np.arange(40, dtype=np.int64)
    data = ArrayDataModule({"row": rows}, {"y": rows}, batch_size=4, val_fraction=0.0)  # 10 batches an epoch
    model = RowRecorder()
    trainer = L.Trainer(max_epochs=3, accelerator="cpu", logger=False, enable_progress_bar=False,
                        enable_model_summary=False, enable_checkpointing=bool(callbacks),
                        default_root_dir=root, callbacks=list(callbacks))
    trainer.fit(model, datamodule=data, ckpt_path=ckpt_path)
    return model


@pytest.mark.parametrize("written", ["every_n_train_steps", "before_a_batch"])
def test_a_resumed_fit_trains_on_the_rest_of_the_epoch(tmp_path: Path, written: str):
    if written == "every_n_train_steps":  # at the end of step 13: batch 2 of epoch 1 done
        saver = ModelCheckpoint(dirpath=tmp_path / "ckpt", every_n_train_steps=13, save_top_k=-1)
        whole = _fit(tmp_path, [saver])
        ckpt, done = tmp_path / "ckpt" / "epoch=1-step=13.ckpt", 3
    else:
        ckpt, done = tmp_path / "before.ckpt", 3
        whole = _fit(tmp_path, [SaveBefore(ckpt, 1, 3)])
    resumed = _fit(tmp_path / "resumed", ckpt_path=ckpt)
    assert resumed.seen[1] == whole.seen[1][done * 4:]  # the epoch's remaining rows, in order
    assert resumed.seen[2] == whole.seen[2]
    assert sorted(whole.seen[1]) == list(range(40))
