"""One line per epoch when stdout is no terminal: epoch values only, in stage order."""

from __future__ import annotations

import io
import logging

import torch

from plait.callbacks.epoch_line import EpochLine, epoch_metrics


def test_epoch_metrics_keep_epoch_values_in_stage_order() -> None:
    metrics = {"val/loss": torch.tensor(0.5), "train/loss_step": torch.tensor(9.0),
               "train/loss_epoch": torch.tensor(0.7), "lr-Adam": 0.001, "val/a/acc": 0.9}
    assert list(epoch_metrics(metrics)) == ["train/loss", "val/a/acc", "val/loss", "lr-Adam"]


def test_epoch_line_prints_one_line() -> None:
    stream = io.StringIO()
    line = EpochLine(stream=stream)
    line._print("epoch 1/3", {"val/loss": torch.tensor(0.25)})
    assert stream.getvalue().startswith("epoch 1/3  val/loss 0.25  (")
    assert stream.getvalue().count("\n") == 1


def test_the_line_goes_to_the_log_files_printed_or_not(tmp_path) -> None:
    """A run's `train.log` is a FileHandler of the root logger (Hydra's job logging)."""
    handler = logging.FileHandler(tmp_path / "train.log")
    logging.getLogger().addHandler(handler)
    try:
        for echo in (True, False):
            stream = io.StringIO()
            EpochLine(echo=echo, stream=stream)._print(f"epoch {int(echo) + 1}/2", {"val/loss": 0.5})
            assert bool(stream.getvalue()) == echo
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    lines = (tmp_path / "train.log").read_text().splitlines()
    assert [line.split("  ")[0] for line in lines] == ["epoch 2/2", "epoch 1/2"]
    assert all("val/loss 0.5  (" in line for line in lines)
