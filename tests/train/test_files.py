"""Bring your own data: the README's FileDataModule command, on a generated CSV."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from plait.train import ConfigError, check, train


@pytest.fixture
def my_csv(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 4))
    species = (x[:, 0] + x[:, 1] > 0).astype(int) + (x[:, 2] > 1).astype(int)
    path = tmp_path / "my.csv"
    pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2], "x4": x[:, 3],
                  "species": species}).to_csv(path, index=False)
    return path


def readme_overrides(path) -> list[str]:
    """The README's command line, as overrides."""
    return ["data=files", "model=table_classifier", f"data.train_path={path}",
            "data.inputs={features: [x1, x2, x3, x4]}", "data.targets={label: species}",
            "model.inputs.features.shape=[4]", "model.blocks.head.units=3",
            "optimized_metric=val/label/acc", "optimized_mode=max"]


def test_files_data_checks(compose_cfg, my_csv) -> None:
    checked = check(compose_cfg(*readme_overrides(my_csv), "mode=check"))
    assert checked.system.graph.input_names == ["features"]


def test_files_data_trains(compose_cfg, my_csv, tmp_path) -> None:
    value = train(compose_cfg(*readme_overrides(my_csv), "trainer.max_epochs=2", "logger=csv"))
    assert 0.0 <= value <= 1.0
    metrics = pd.read_csv(tmp_path / "csv" / "metrics.csv")
    assert {"val/label/acc", "test/label/acc"} <= set(metrics.columns)


def test_files_model_needs_its_sizes(compose_cfg, my_csv) -> None:
    overrides = [o for o in readme_overrides(my_csv) if not o.startswith("model.inputs")]
    with pytest.raises(ConfigError, match="model.inputs.features.shape"):
        check(compose_cfg(*overrides, "mode=check"))
