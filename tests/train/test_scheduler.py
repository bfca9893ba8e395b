"""The `scheduler` group: `python train.py experiment=<name> scheduler=cosine|step|plateau|none`
sets `model.scheduler`, replacing whatever schedule the model's own config has."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from torch.optim import lr_scheduler

from plait.train import check, train

SCHEDULERS = sorted(p.stem for p in (Path(__file__).resolve().parents[2] / "conf" / "scheduler").glob("*.yaml"))
CLASSES = {"none": None, "cosine": lr_scheduler.CosineAnnealingLR, "step": lr_scheduler.StepLR,
           "plateau": lr_scheduler.ReduceLROnPlateau}


def scheduler_of(cfg) -> tuple[object | None, str | None]:
    """The scheduler the checked system builds, and the metric it watches."""
    configured = check(cfg).system.configure_optimizers()
    if not isinstance(configured, dict):
        return None, None
    return configured["lr_scheduler"]["scheduler"], configured["lr_scheduler"]["monitor"]


def test_every_scheduler_config_is_tested() -> None:
    assert sorted(CLASSES) == SCHEDULERS


@pytest.mark.parametrize("experiment", ["digits", "siamese_digits"])  # no schedule; its own cosine
@pytest.mark.parametrize("name", SCHEDULERS)
def test_scheduler_group_sets_the_models_schedule(compose_cfg, tmp_path, experiment, name) -> None:
    cfg = compose_cfg(f"experiment={experiment}", f"scheduler={name}", "mode=check",
                      f"paths.data_dir={tmp_path / 'data'}")
    scheduler, monitor = scheduler_of(cfg)
    expected = CLASSES[name]
    assert (scheduler is None) if expected is None else type(scheduler) is expected
    if name == "plateau":
        assert monitor == "val/loss" and scheduler.mode == "min"


def test_without_the_group_a_model_keeps_its_own_schedule(compose_cfg, tmp_path) -> None:
    data = f"paths.data_dir={tmp_path / 'data'}"
    assert scheduler_of(compose_cfg("experiment=digits", "mode=check", data))[0] is None
    cfg = compose_cfg("experiment=siamese_digits", "mode=check", data)
    siamese, _ = scheduler_of(cfg)
    assert isinstance(siamese, lr_scheduler.CosineAnnealingLR)
    assert siamese.T_max == cfg.trainer.max_epochs == 20  # its own cosine over its 20 epochs


@pytest.mark.parametrize(("overrides", "expected"), [
    (["scheduler=cosine"], [0.003, 0.0015]),  # T_max = trainer.max_epochs = 2: half-way at epoch 1
    (["scheduler=step", "model.scheduler.step_size=1"], [0.003, 0.0003]),  # times gamma 0.1
    (["scheduler=none"], [0.003, 0.003]),
    # val/loss never beats its first value by 10: cut by factor 0.1 once epoch 1 fails to
    (["scheduler=plateau", "model.scheduler.patience=0", "model.scheduler.threshold_mode=abs",
      "model.scheduler.threshold=10"], [0.003, 0.003, 0.0003]),
])
def test_the_learning_rate_follows_the_schedule_in_a_real_fit(compose_cfg, tmp_path, overrides,
                                                              expected) -> None:
    cfg = compose_cfg("experiment=digits", *overrides, f"trainer.max_epochs={len(expected)}", "data.limit=64",
                      "trainer.limit_train_batches=2", "trainer.limit_val_batches=1", "test=false",
                      "logger=csv")
    train(cfg)
    with open(tmp_path / "csv" / "metrics.csv") as f:
        logged = [float(r["train/lr"]) for r in csv.DictReader(f) if r.get("train/lr")]
    assert logged == pytest.approx(expected)  # the lr each epoch trained with


def test_a_run_without_loggers_trains_with_the_default_callbacks(compose_cfg, tmp_path) -> None:
    """`~logger`: nothing in the default callbacks needs a logger (the learning rate is the
    model's own epoch value, not a monitor callback's)."""
    cfg = compose_cfg("experiment=digits", "~logger", "trainer.max_epochs=1", "data.limit=64",
                      "trainer.limit_train_batches=2", "trainer.limit_val_batches=1")
    train(cfg)
    assert (tmp_path / "checkpoints" / "last.ckpt").is_file()
    assert not list(tmp_path.rglob("metrics.csv"))
