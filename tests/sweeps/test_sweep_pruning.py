"""Pruning through a Lightning callback: in the sweeper's process (the live trial) and in
another process (through the study's SQLite storage named in the job's Hydra config). The
callback is built as `hparams_search=loss_weights` builds it: the trial, study and storage
reach it from the job's Hydra config through `${plait.multirun:...}`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import lightning as L
import optuna
import pytest
import torch
from hydra.conf import HydraConf
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from hydra.utils import instantiate
from omegaconf import OmegaConf
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from plait.sweeps.pruning import LIVE_TRIALS, OptunaPruning, find_trial
from plait.train import multirun  # registers `plait.multirun`

SWEEPER = "hydra_plugins.plait_optuna.plait_optuna_sweeper.PlaitOptunaSweeper"
LOSS_WEIGHTS = Path(__file__).resolve().parents[2] / "conf" / "hparams_search" / "loss_weights.yaml"


class Rising(L.LightningModule):
    """Logs `val/score` = 0.5, 0.6, 0.7, ... one value per epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.layer = nn.Linear(2, 1)

    def training_step(self, batch, batch_idx):
        return self.layer(batch[0]).pow(2).mean()

    def validation_step(self, batch, batch_idx) -> None:
        self.log("val/score", 0.5 + 0.1 * self.current_epoch)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)

    def train_dataloader(self):
        return DataLoader(TensorDataset(torch.randn(8, 2)), batch_size=4)

    def val_dataloader(self):
        return DataLoader(TensorDataset(torch.randn(4, 2)), batch_size=4)


def pruning_callback() -> OptunaPruning:
    """`callbacks.optuna_pruning` of conf/hparams_search/loss_weights.yaml, on `val/score`."""
    node = OmegaConf.load(LOSS_WEIGHTS).callbacks.optuna_pruning
    node.monitor = "val/score"
    return instantiate(node)


def fit(callback: OptunaPruning, tmp_path, epochs: int = 4) -> L.Trainer:
    trainer = L.Trainer(max_epochs=epochs, callbacks=[callback], logger=False,
                        enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, default_root_dir=tmp_path)
    trainer.fit(Rising())
    return trainer


@pytest.fixture
def study(tmp_path) -> optuna.Study:
    """A study whose pruner stops any trial below 0.65 after one warm-up epoch."""
    return optuna.create_study(study_name="s", storage=f"sqlite:///{tmp_path / 'optuna.db'}",
                               direction="maximize")


@pytest.fixture
def job_of_sweep(tmp_path) -> Iterator[None]:
    """This process as job 0 of a plait Optuna multirun (what Hydra sets in a launched job;
    the sweeper names the study's storage in every job)."""
    hydra = OmegaConf.merge(OmegaConf.structured(HydraConf), {
        "mode": RunMode.MULTIRUN, "job": {"num": 0}, "sweep": {"dir": str(tmp_path)},
        "sweeper": {"_target_": SWEEPER, "study_name": "s",
                    "storage": f"sqlite:///{tmp_path / 'optuna.db'}",
                    "pruner": {"_target_": "optuna.pruners.ThresholdPruner", "lower": 0.65,
                               "n_warmup_steps": 1}}})
    HydraConfig.instance().set_config(OmegaConf.create({"hydra": hydra}))
    yield
    HydraConfig.instance().cfg = None


def test_another_process_prunes_through_the_storage(study, job_of_sweep, tmp_path) -> None:
    trial = study.ask()
    assert trial.number == 0
    with pytest.raises(optuna.TrialPruned, match="epoch 1: val/score = 0.6"):
        fit(pruning_callback(), tmp_path)
    stored = study.get_trials()[0]
    assert stored.intermediate_values == pytest.approx({0: 0.5, 1: 0.6})


def test_the_sweeper_process_reports_to_the_live_trial(study, job_of_sweep, tmp_path) -> None:
    live = optuna.create_study(pruner=optuna.pruners.ThresholdPruner(lower=0.75),
                               direction="maximize")
    LIVE_TRIALS[0] = live.ask()
    try:
        with pytest.raises(optuna.TrialPruned, match="epoch 0"):
            fit(pruning_callback(), tmp_path)
    finally:
        LIVE_TRIALS.clear()
    assert live.trials[0].intermediate_values == pytest.approx({0: 0.5})
    assert study.get_trials() == []  # the live trial, not the stored study


def test_a_promising_trial_runs_to_the_end(study, job_of_sweep, tmp_path) -> None:
    study.ask()
    trainer = fit(pruning_callback(), tmp_path, epochs=1)  # warm-up only
    assert trainer.current_epoch == 1
    assert study.get_trials()[0].intermediate_values == pytest.approx({0: 0.5})


def test_outside_a_sweep_the_callback_does_nothing(tmp_path) -> None:
    assert find_trial() is None
    trainer = fit(OptunaPruning("val/score"), tmp_path, epochs=2)
    assert trainer.current_epoch == 2


def test_the_job_hands_the_callback_its_trial_through_the_config(job_of_sweep, tmp_path) -> None:
    callback = pruning_callback()
    assert callback.trial_number == 0 and callback.study_name == "s"
    assert callback.storage == f"sqlite:///{tmp_path / 'optuna.db'}"
    assert callback.pruner == {"_target_": "optuna.pruners.ThresholdPruner", "lower": 0.65,
                               "n_warmup_steps": 1}


def test_outside_a_multirun_the_config_gives_the_callback_no_trial(tmp_path) -> None:
    callback = pruning_callback()  # no Hydra app running, as in `hydra.compose`
    assert (callback.trial_number, callback.study_name, callback.storage, callback.pruner) == (
        None, None, None, None)
    assert multirun("job.num") is None
    HydraConfig.instance().set_config(OmegaConf.create({"hydra": OmegaConf.merge(
        OmegaConf.structured(HydraConf), {"mode": RunMode.RUN, "job": {"num": 0}})}))
    try:  # a single run of a running Hydra app
        assert pruning_callback().trial_number is None
    finally:
        HydraConfig.instance().cfg = None
