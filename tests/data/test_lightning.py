"""The DataModules inside a real Lightning Trainer: dict batches, worker processes, skipped splits."""

import lightning as L
import pytest
import torch
from torch import nn

from plait.data import DigitsDataModule


class TinyClassifier(L.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Linear(64, 10)
        self.seen: set[str] = set()

    def _step(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        self.seen |= set(batch)
        return nn.functional.cross_entropy(self.net(batch["pixels"]), batch["digit"])

    def training_step(self, batch, batch_idx):
        return self._step(batch)

    def validation_step(self, batch, batch_idx):
        self.log("val/loss", self._step(batch))

    def test_step(self, batch, batch_idx):
        self.log("test/loss", self._step(batch))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


@pytest.mark.parametrize(("num_workers", "val_fraction"), [(0, 0.0), (2, 0.1)])
def test_trainer_fits_and_tests(tmp_path, num_workers, val_fraction):
    data = DigitsDataModule(image_key=None, pixels_key="pixels", batch_size=64, limit=256,
                            num_workers=num_workers, val_fraction=val_fraction)
    model = TinyClassifier()
    trainer = L.Trainer(max_epochs=1, accelerator="cpu", logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False,
                        default_root_dir=tmp_path)
    trainer.fit(model, datamodule=data)
    (result,) = trainer.test(model, datamodule=data, verbose=False)
    assert model.seen == {"pixels", "digit"} and "test/loss" in result
