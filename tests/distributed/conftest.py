"""Runs of train.py as a user starts them, with one torch thread per process (2 cores here)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]


def train(*overrides: str, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """`python train.py <overrides>` from the repository root; output captured."""
    return subprocess.run([sys.executable, "train.py", *overrides], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "OMP_NUM_THREADS": "1", "WANDB_MODE": "offline",
                                                **(env or {})})


def last_weights(run: Path) -> dict[str, torch.Tensor]:
    newest = max((run / "checkpoints").glob("last*.ckpt"), key=lambda p: p.stat().st_mtime)
    return torch.load(newest, weights_only=True)["state_dict"]


def leftover_ranks() -> list[str]:
    found = subprocess.run(["pgrep", "-af", "plait.train.rank_launcher"], capture_output=True, text=True).stdout
    return [line for line in found.splitlines() if "pgrep" not in line]


@pytest.fixture
def quick() -> list[str]:
    return ["experiment=digits", "logger=csv", "trainer.max_epochs=2"]
