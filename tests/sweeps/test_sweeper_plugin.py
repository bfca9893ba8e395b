"""Hydra finds the `plait_optuna` sweeper, and `hparams_search=loss_weights` composes into a
resumable sweep: a stable folder per study, the pruning callback, the weight search."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.conf import HydraConf
from hydra.core.hydra_config import HydraConfig
from hydra.core.plugins import Plugins
from hydra.plugins.sweeper import Sweeper
from hydra.types import RunMode
from hydra.utils import instantiate
from omegaconf import OmegaConf

from plait.train import check
from plait.train.loggers import sweep_group

ROOT = Path(__file__).resolve().parents[2]


def compose_train(*overrides: str, tmp_path: Path, hydra: bool = True):
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        return compose("train", overrides=[*overrides, f"paths.log_dir={tmp_path}"],
                       return_hydra_config=hydra)


def test_hydra_discovers_the_sweeper() -> None:
    names = [f"{c.__module__}.{c.__name__}" for c in Plugins.instance().discover(Sweeper)]
    assert "hydra_plugins.plait_optuna.plait_optuna_sweeper.PlaitOptunaSweeper" in names


def test_loss_weights_composes_a_resumable_study(tmp_path) -> None:
    cfg = compose_train("experiment=digits", "hparams_search=loss_weights", tmp_path=tmp_path)
    sweeper = cfg.hydra.sweeper
    assert sweeper._target_.endswith("PlaitOptunaSweeper")
    assert sweeper.study_name == "loss_weights" and sweeper.storage is None  # SQLite in the folder
    assert sweeper.direction == "max"  # from optimized_mode
    assert sweeper.sampler.seed == cfg.seed
    assert OmegaConf.to_container(sweeper.weights) == {"low": 0.1, "high": 10.0}
    assert cfg.hydra.sweep.dir == f"{tmp_path}/digits/optuna/loss_weights"  # no timestamp
    assert cfg.callbacks.optuna_pruning.monitor == "val/digit/acc"
    assert "model_checkpoint" in cfg.callbacks  # added to the experiment's callbacks


def test_loss_weights_checks_as_a_single_run(tmp_path) -> None:
    cfg = compose_train("experiment=digits", "hparams_search=loss_weights", "mode=check",
                        f"paths.output_dir={tmp_path / 'run'}", tmp_path=tmp_path, hydra=False)
    check(cfg)  # builds the pruning callback too; outside a sweep it stays idle


def test_wandb_group_is_the_task_outside_a_sweep() -> None:
    assert sweep_group("digits", "logs") == "digits"


def test_wandb_group_comes_through_the_config(tmp_path) -> None:
    """`conf/logger/wandb.yaml` hands `sweep_group` the multirun's folder (`plait.multirun`):
    null in a plain compose, the sweep folder below `paths.log_dir` in a job of a multirun."""
    group = compose_train("experiment=digits", tmp_path=tmp_path, hydra=False).logger.wandb.group
    assert group.sweep_dir is None and instantiate(group) == "digits"
    sweep = tmp_path / "digits" / "multiruns" / "2026-01-31_12-00-00-000000"
    HydraConfig.instance().set_config(OmegaConf.create({"hydra": OmegaConf.merge(
        OmegaConf.structured(HydraConf), {"mode": RunMode.MULTIRUN, "sweep": {"dir": str(sweep)}})}))
    try:
        assert group.sweep_dir == str(sweep)
        assert instantiate(group) == "digits/multiruns/2026-01-31_12-00-00-000000"
    finally:
        HydraConfig.instance().cfg = None


def test_a_wheel_carries_the_plugin(tmp_path) -> None:
    """A normal (non-editable) install finds the plugin too: the wheel holds the namespace
    package `hydra_plugins` with no `__init__.py` of its own."""
    source = tmp_path / "source"  # a copy: building writes build/ beside the sources
    shutil.copytree(ROOT / "src", source / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                             "--no-build-isolation", "-w", str(tmp_path), str(source)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    names = zipfile.ZipFile(next(tmp_path.glob("plait-*.whl"))).namelist()
    assert "hydra_plugins/plait_optuna/plait_optuna_sweeper.py" in names
    assert "hydra_plugins/__init__.py" not in names
