"""The known keys that `check_keys` compares a config with are the config tree's own."""

from __future__ import annotations

from omegaconf import OmegaConf
from tests.train.conftest import CONF

from plait.train.keys import PATHS, TOP_LEVEL


def test_top_level_keys_are_those_of_train_yaml_and_its_groups() -> None:
    train = OmegaConf.load(CONF / "train.yaml")
    groups = {next(iter(entry)) for entry in train.defaults if isinstance(entry, dict) or OmegaConf.is_dict(entry)}
    global_groups = {"experiment", "hparams_search"}  # `# @package _global_`: they set keys, add none
    model_groups = {"scheduler"}  # `# @package model`: sets model.scheduler
    own = set(train) - {"defaults"}
    assert set(TOP_LEVEL) == own | (groups - global_groups - model_groups)


def test_paths_keys_are_those_of_the_paths_config() -> None:
    assert set(PATHS) == set(OmegaConf.load(CONF / "paths" / "default.yaml"))
