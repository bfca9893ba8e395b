"""Helpers for the entry-point tests: compose the repo's configs, run its scripts for real.

Every test runs with no wandb account (no key, no netrc), as on a fresh machine: wandb
must go offline on its own and write under the run folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "conf"
WANDB_VARIABLES = ("WANDB_API_KEY", "WANDB_IDENTITY_TOKEN_FILE", "WANDB_MODE", "WANDB_BASE_URL")


@pytest.fixture(autouse=True)
def no_wandb_account(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No API key and no netrc entry. Each variable is restored after the test, WANDB_MODE
    included (Lightning's WandbLogger sets it when offline)."""
    for name in WANDB_VARIABLES:
        monkeypatch.setenv(name, "")  # records the value to restore
        monkeypatch.delenv(name)
    monkeypatch.setenv("NETRC", str(tmp_path_factory.getbasetemp() / "no-netrc"))


@pytest.fixture
def compose_cfg(tmp_path: Path) -> Callable[..., DictConfig]:
    """`compose_cfg(*overrides)`: the train config as `train.py` would see it, run folder in tmp."""

    def _compose(*overrides: str, config_name: str = "train") -> DictConfig:
        with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
            return compose(config_name, overrides=[*overrides, f"paths.output_dir={tmp_path}"])

    return _compose


def fresh_env(folder: Path) -> dict[str, str]:
    """This process's environment as on a fresh machine: no wandb key, no netrc entry, no
    PLAIT_ROOT (runs write under the working folder's logs/)."""
    unset = ("HYDRA_FULL_ERROR", "PLAIT_ROOT", *WANDB_VARIABLES)  # PLAIT_ROOT would move logs/
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env["NETRC"] = str(folder / "no-netrc")
    return env


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture
def clean_env(tmp_path: Path) -> dict[str, str]:
    return fresh_env(tmp_path)


def run_script(args: Sequence[str], run_dir: Path, *, script: str = "train.py",
               env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run a root script as a user would, its run folder at `run_dir`, stdout not a terminal."""
    full_env = fresh_env(run_dir)
    full_env.update(PYTHONUNBUFFERED="1", **(env or {}))
    return subprocess.run([sys.executable, script, *args, f"hydra.run.dir={run_dir}"], cwd=ROOT,
                          env=full_env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def run() -> Callable[..., subprocess.CompletedProcess]:
    return run_script
