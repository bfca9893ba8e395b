"""Automatic loss balancing chosen on the command line, `model.loss_balancing=...`, on a real
multi-output experiment; the defining property of each strategy is tested in tests/losses."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from plait.losses import BALANCERS
from plait.train import check

ROOT = Path(__file__).resolve().parents[2]
OUTPUTS = ("age", "sex", "income", "occupation")


def compose_adult(tmp_path: Path, *overrides: str):
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        return compose("train", overrides=["experiment=adult_multitask", "mode=check",
                                           f"paths.output_dir={tmp_path}", *overrides])


@pytest.mark.parametrize("strategy", sorted(BALANCERS))
def test_every_strategy_builds_from_the_command_line(strategy, tmp_path) -> None:
    system = check(compose_adult(tmp_path, f"model.loss_balancing={strategy}")).system
    assert isinstance(system.loss.balancer, BALANCERS[strategy])


def test_an_unknown_strategy_names_the_key(tmp_path) -> None:
    with pytest.raises(ValueError, match=r"model\.loss_balancing.*'nope'.*gradnorm"):
        check(compose_adult(tmp_path, "model.loss_balancing=nope"))


@pytest.mark.parametrize("weight", ["0", "-1"])
def test_a_zero_or_negative_weight_names_the_key(weight, tmp_path) -> None:
    with pytest.raises(ValueError, match=r"model\.outputs\.age\.weight.*positive"):
        check(compose_adult(tmp_path, f"model.outputs.age.weight={weight}"))


def test_each_strategy_trains_and_logs_its_weights(train_cli, tmp_path) -> None:
    """One multirun over the four strategies, three short epochs each on 512 rows."""
    result = train_cli(["-m", "experiment=adult_multitask", "data.limit=512", "logger=csv",
                        "trainer.max_epochs=3", "trainer.log_every_n_steps=1", "test=false",
                        "model.loss_balancing=fixed,uncertainty,gradnorm,dwa"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    sweep = next((tmp_path / "adult_multitask" / "multiruns").iterdir())
    for job, strategy in enumerate(("fixed", "uncertainty", "gradnorm", "dwa")):
        with open(sweep / str(job) / "csv" / "metrics.csv") as f:
            rows = list(csv.DictReader(f))
        weights = {o: [float(r[f"train/{o}/weight"]) for r in rows if r.get(f"train/{o}/weight")]
                   for o in OUTPUTS}
        assert all(len(w) >= 6 for w in weights.values()), (strategy, weights)
        moved = any(max(w) - min(w) > 1e-6 for w in weights.values())
        assert moved == (strategy != "fixed"), (strategy, weights)
