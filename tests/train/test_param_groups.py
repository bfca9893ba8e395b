"""`model.param_groups` from the command line: a block's own optimizer settings, checked."""

from __future__ import annotations

import pandas as pd
import pytest

from plait.spec import SpecError
from plait.train import check


@pytest.mark.parametrize("overrides", [  # the README's two ways
    ["model.param_groups={features: {lr: 0.0001, weight_decay: 0.01}}"],
    ["+model.param_groups.features.lr=0.0001", "+model.param_groups.features.weight_decay=0.01"],
])
def test_a_blocks_settings_reach_its_optimizer_group(compose_cfg, tmp_path, overrides) -> None:
    cfg = compose_cfg("experiment=digits", "mode=check", f"paths.data_dir={tmp_path / 'data'}",
                      *overrides)
    system = check(cfg).system
    rest, features = system.configure_optimizers().param_groups
    assert (features["lr"], features["weight_decay"]) == (0.0001, 0.01)
    assert (rest["lr"], rest["weight_decay"]) == (0.003, 0)  # conf/model/digits.yaml's Adam
    assert {id(p) for p in features["params"]} == {id(p) for p in system.graph.get_block("features").parameters()}


@pytest.mark.parametrize(("override", "message"), [
    ("+model.param_groups.featurs.lr=0.1", r"model\.param_groups\.featurs: graph '\w+' has no block "
                                            r"'featurs'; blocks are \['features', 'classify'\]"),
    ("+model.param_groups.features.learning_rate=0.1", r"model\.param_groups\.features\.learning_rate: Adam has no "
                                                        r"setting 'learning_rate'"),
])
def test_mode_check_names_a_misspelt_block_or_setting(compose_cfg, tmp_path, override, message) -> None:
    cfg = compose_cfg("experiment=digits", "mode=check", f"paths.data_dir={tmp_path / 'data'}", override)
    with pytest.raises(SpecError, match=message):
        check(cfg)


def test_each_groups_learning_rate_is_logged_and_a_resume_needs_the_same_groups(tmp_path) -> None:
    """`train/lr` (the optimizer's own) and `train/lr/features` each epoch, under a cosine
    schedule; resuming with other groups would hand one block's optimizer state to another."""
    from hydra import compose, initialize_config_dir
    from tests.train.conftest import CONF

    from plait.system import CheckpointError
    from plait.train import train

    def config(out, *overrides):
        with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
            return compose("train", overrides=[
                "experiment=digits", "logger=csv", "data.limit=300", "trainer.max_epochs=2",
                "scheduler=cosine", "test=false", f"paths.output_dir={out}", *overrides])

    grouped = "model.param_groups={features: {lr: 0.0001}}"
    train(config(tmp_path / "grouped", grouped))
    logged = pd.read_csv(tmp_path / "grouped" / "csv" / "metrics.csv")
    assert logged["train/lr"].dropna().tolist() == pytest.approx([0.003, 0.0015])
    assert logged["train/lr/features"].dropna().tolist() == pytest.approx([0.0001, 0.00005])
    last = tmp_path / "grouped" / "checkpoints" / "last.ckpt"
    with pytest.raises(CheckpointError, match=r"ckpt_path: '.*last\.ckpt' was trained with "
                                              r"model\.param_groups for \['features'\], this run "
                                              r"has them for \[\]"):
        train(config(tmp_path / "plain", f"ckpt_path={last}", "trainer.max_epochs=3"))
