"""wandb never asks: offline without a key, online with one; CSV always; the epoch line."""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
import time

import pytest
import torch
from lightning.pytorch.loggers import WandbLogger

from plait.callbacks.epoch_line import EpochLine, epoch_metrics
from plait.train import has_wandb_key, wandb_logger
from plait.train.loggers import wandb_offline


def test_no_key_means_offline(tmp_path) -> None:
    assert not has_wandb_key()
    assert wandb_offline(None) and wandb_offline(False)  # never online without a key
    logger = wandb_logger(save_dir=str(tmp_path / "run"), project="p")
    assert isinstance(logger, WandbLogger) and logger._offline
    assert (tmp_path / "run").is_dir()


def test_env_key_means_online(monkeypatch) -> None:
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    assert has_wandb_key() and not wandb_offline(None)
    assert wandb_offline(True)
    monkeypatch.setenv("WANDB_MODE", "offline")
    assert wandb_offline(None)


def test_netrc_key_means_online(monkeypatch, tmp_path) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine api.wandb.ai\n  login user\n  password " + "k" * 40 + "\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    assert has_wandb_key()
    monkeypatch.setenv("WANDB_BASE_URL", "https://wandb.example.com")
    assert not has_wandb_key()  # the entry is for another host


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


def test_terminal_without_key_never_prompts(tmp_path, repo_root, clean_env) -> None:
    """On a terminal with no key, wandb's login prompt would wait forever: it must not appear."""
    env = {**clean_env, "TERM": "dumb"}
    leader, follower = pty.openpty()
    args = [sys.executable, "train.py", "experiment=digits", "trainer.max_epochs=1",
            "data.limit=64", "test=false", f"hydra.run.dir={tmp_path}"]
    proc = subprocess.Popen(args, cwd=repo_root, env=env, stdin=follower, stdout=follower,
                            stderr=follower, close_fds=True)
    os.close(follower)
    output = _drain(leader, proc, timeout=240)
    assert proc.returncode == 0, output[-3000:]
    assert "API key" not in output and "wandb login" not in output
    assert list((tmp_path / "wandb").glob("offline-run-*"))
    assert not any(line.startswith("epoch 1/1") for line in output.splitlines())  # a bar instead


def _drain(fd: int, proc: subprocess.Popen, timeout: float) -> str:
    chunks, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1.0)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    else:
        proc.kill()
        pytest.fail("train.py on a terminal did not finish: blocked on a prompt?")
    proc.wait(timeout=30)
    os.close(fd)
    return b"".join(chunks).decode(errors="replace")


def test_a_run_started_again_in_its_folder_continues_its_wandb_run(tmp_path) -> None:
    first = wandb_logger(save_dir=str(tmp_path / "run"), project="p")
    again = wandb_logger(save_dir=str(tmp_path / "run"), project="p")
    other = wandb_logger(save_dir=str(tmp_path / "other"), project="p")
    ids = [logger._wandb_init["id"] for logger in (first, again, other)]
    assert ids[0] == ids[1] != ids[2]
    assert (tmp_path / "run" / ".plait" / "wandb_run_id").read_text().strip() == ids[0]
    assert first._wandb_init["resume"] == "allow"
    chosen = wandb_logger(save_dir=str(tmp_path / "run"), project="p", id="mine")
    assert chosen._wandb_init["id"] == "mine"
