"""Every rank trains on one config: the digest ignores only where a rank writes its files."""

from __future__ import annotations

from plait.callbacks.same_config import SameConfigOnEveryRank, config_digest

CONFIG = {"seed": 1, "model": {"lr": 0.1}, "paths": {"output_dir": "/a"},
          "trainer": {"devices": 2, "default_root_dir": "/a"}}


def test_where_files_go_leaves_the_digest_alone() -> None:
    elsewhere = {**CONFIG, "paths": {"output_dir": "/b"}, "logger": {"csv": {}},
                 "trainer": {"devices": 2, "default_root_dir": "/b"}}
    assert config_digest(elsewhere) == config_digest(CONFIG)
    assert SameConfigOnEveryRank(elsewhere).digest == SameConfigOnEveryRank(CONFIG).digest


def test_a_training_setting_changes_the_digest() -> None:
    assert config_digest({**CONFIG, "model": {"lr": 0.2}}) != config_digest(CONFIG)
    assert config_digest({**CONFIG, "trainer": {"devices": 4}}) != config_digest(CONFIG)
