"""A Lightning callback added from the command line, as the README shows: an exponential
moving average of the weights (`EMAWeightAveraging`). Validation, the checkpoints (one saved
when SIGTERM stops a validation too) and every test use the averaged weights, and a resumed
run continues the average where it stopped.

Every run goes through `train.py` with the default loggers and callbacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig
from tests.digits_split import digits_split
from tests.train.conftest import CONF, ROOT, fresh_env

from plait import load_checkpoint
from plait.train.entry import run as run_mode

EMA = ["experiment=digits", "+callbacks.ema._target_=lightning.pytorch.callbacks.EMAWeightAveraging",
       "+callbacks.ema.decay=0.9",
       "model.blocks.features.dropout=0.5"]  # a resumed run must also restore the random state


def _assert_same_weights(a: dict, b: dict) -> None:
    """The same average (`state_dict`) and trained weights (`current_model_state`)."""
    for key in ("state_dict", "current_model_state"):
        assert a[key].keys() == b[key].keys()
        for name in a[key]:
            torch.testing.assert_close(a[key][name], b[key][name], rtol=0, atol=0, msg=f"{key}: {name}")


def _train(args: list[str], logs: Path, returncode: int = 0) -> Path:
    """The run folder of `python train.py *args`, which must exit with `returncode`."""
    env = {**fresh_env(logs), "OMP_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, "train.py", *args, f"paths.log_dir={logs}"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == returncode, run.stdout[-2000:] + run.stderr[-3000:]
    return sorted((logs / "digits" / "runs").iterdir())[-1]


def _load(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def _compose(*overrides: str) -> DictConfig:
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose("train", overrides=["experiment=digits", *overrides])


def test_an_ema_run_validates_and_tests_its_average(tmp_path) -> None:
    """Validation chose the best epoch by the average; the test after training, mode=test
    and load_checkpoint run that average, not the trained weights kept beside it."""
    run = _train([*EMA, "trainer.max_epochs=3"], tmp_path / "run")
    [best] = list((run / "checkpoints").glob("epoch_*.ckpt"))
    saved = _load(best)
    assert any(not torch.equal(saved["state_dict"][n], saved["current_model_state"][n])
               for n in saved["state_dict"])
    metrics = pd.read_csv(run / "csv" / "metrics.csv")
    val_loss = metrics.loc[metrics["epoch"] == saved["epoch"], "val/loss"].dropna().item()
    test_loss = metrics["test/loss"].dropna().item()
    system = load_checkpoint(best)
    assert system.evaluate(*digits_split("val"))["test/loss"] == pytest.approx(val_loss, rel=1e-5)
    assert system.evaluate(*digits_split("test"))["test/loss"] == pytest.approx(test_loss, rel=1e-5)
    tested = run_mode(_compose("mode=test", f"ckpt_path={best}", f"paths.output_dir={tmp_path / 'test'}"))
    assert tested["test/loss"] == pytest.approx(test_loss, rel=1e-5)
    system.load_state_dict(saved["current_model_state"])
    assert system.evaluate(*digits_split("test"))["test/loss"] != pytest.approx(test_loss, rel=1e-3)


@pytest.mark.slow  # about 20 s: three runs
def test_an_ema_run_resumed_from_last_ckpt_reaches_the_uninterrupted_average(tmp_path) -> None:
    whole = _train([*EMA, "trainer.max_epochs=3"], tmp_path / "whole")
    first = _train([*EMA, "trainer.max_epochs=2"], tmp_path / "parts")
    resumed = _train([*EMA, "trainer.max_epochs=3", f"ckpt_path={first / 'checkpoints' / 'last.ckpt'}"],
                     tmp_path / "parts")
    _assert_same_weights(_load(whole / "checkpoints" / "last.ckpt"), _load(resumed / "checkpoints" / "last.ckpt"))


@pytest.mark.slow  # about 15 s: two runs
def test_an_ema_run_stopped_during_validation_saves_its_average_as_its_model(tmp_path) -> None:
    """Validation runs the average in the model; SIGTERM there must not save the two swapped."""
    every_epoch = [*EMA, "trainer.max_epochs=3", "callbacks.model_checkpoint.save_top_k=-1"]
    whole = _train(every_epoch, tmp_path / "whole")
    stopped = _train([*every_epoch, "+callbacks.stop._target_=tests.train.interrupt.TermDuringValidation",
                      "+callbacks.stop.epoch=1"], tmp_path / "stopped", returncode=143)
    saved = _load(stopped / "checkpoints" / "last.ckpt")
    reference = _load(whole / "checkpoints" / "epoch_001.ckpt")  # saved as that validation ended
    assert saved["global_step"] == reference["global_step"] > 0
    _assert_same_weights(saved, reference)
