"""Helpers for the sweep tests: real `python train.py -m ...` runs, as on a fresh machine
(no wandb key, no netrc), every run below a temporary `paths.log_dir`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNSET = ("HYDRA_FULL_ERROR", "WANDB_API_KEY", "WANDB_IDENTITY_TOKEN_FILE", "WANDB_MODE",
         "WANDB_BASE_URL")
# The smallest real training: two epochs of two batches, one validation batch.
TINY = ["experiment=digits", "trainer.max_epochs=2", "trainer.limit_train_batches=2",
        "trainer.limit_val_batches=1", "trainer.log_every_n_steps=1"]


def run_train(args: Sequence[str], log_dir: Path, *, timeout: float = 600
              ) -> subprocess.CompletedProcess:
    """`python train.py <args> paths.log_dir=<log_dir>` from the repository root."""
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env.update(NETRC=str(log_dir / "no-netrc"), PYTHONUNBUFFERED="1")
    env.setdefault("OMP_NUM_THREADS", "1")  # two threads wait on each other on a busy 2-core CPU
    return subprocess.run([sys.executable, "train.py", *args, f"paths.log_dir={log_dir}"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def train_cli() -> Callable[..., subprocess.CompletedProcess]:
    return run_train


@pytest.fixture(scope="session")
def tiny() -> list[str]:
    return list(TINY)
