"""`model.param_groups` from the command line: a block's own optimizer settings, checked."""

from __future__ import annotations

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
    ("+model.param_groups.features.learning_rate=0.1", r"model\.param_groups\.features: Adam has no "
                                                        r"setting 'learning_rate'"),
])
def test_mode_check_names_a_misspelt_block_or_setting(compose_cfg, tmp_path, override, message) -> None:
    cfg = compose_cfg("experiment=digits", "mode=check", f"paths.data_dir={tmp_path / 'data'}", override)
    with pytest.raises(SpecError, match=message):
        check(cfg)
