"""The tweet experiments (`headline`, `tweet_siamese`, `posts`) take real steps on a slice."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from tests.fast_step import CONF, FAST

from plait.train import check, train


def _compose(*overrides: str):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose("train", overrides=list(overrides))


@pytest.mark.parametrize("experiment", ["headline", "tweet_siamese", "posts"])
def test_one_fast_step_on_real_tweets(experiment: str, plait_cache: Path, tmp_path: Path):
    cfg = _compose(f"experiment={experiment}", *FAST, f"paths.output_dir={tmp_path}",
                   f"paths.data_dir={plait_cache}")
    value = train(cfg)
    assert value is not None
    metrics = pd.read_csv(tmp_path / "csv" / "metrics.csv")
    assert cfg.optimized_metric in metrics


def test_siamese_without_hidden_layer_is_the_guides_exact_model(tmp_path: Path):
    cfg = _compose("experiment=tweet_siamese", "mode=check", "model.blocks.joint.hidden=[]",
                   f"paths.output_dir={tmp_path}", f"paths.data_dir={tmp_path / 'data'}")
    graph = check(cfg).system.graph
    assert sum(p.numel() for p in graph.parameters()) == 673_280 + 129  # LSTM + Dense(1)
