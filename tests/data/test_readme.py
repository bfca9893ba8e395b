"""The data README's "Adding a data set" runs as written: its source, DataModule and config."""

import re
import sys
import types
from pathlib import Path

import lightning as L
import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

import plait.data
from plait import Graph, Input
from plait.blocks import MLP, Dense
from plait.data import DataError
from plait.system import GraphSystem
from plait.train.check import check_data

SECTION = (Path(plait.data.__file__).parent / "README.md").read_text().split(
    "## Adding a data set")[1]


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", SECTION, flags=re.S)


@pytest.fixture
def config(monkeypatch: pytest.MonkeyPatch) -> str:
    """The example's config; its source and module importable under their documented names."""
    for name, code in zip(("plait.data.sources.spirals", "plait.data.spirals"), blocks("python")):
        module = types.ModuleType(name)
        exec(compile(code, f"README.md ({name})", "exec"), module.__dict__)
        monkeypatch.setitem(sys.modules, name, module)
    (text,) = blocks("yaml")
    return text


def test_the_config_builds_batches_and_one_training_step_runs(config: str, tmp_path: Path):
    cfg = OmegaConf.create({"seed": 3, "paths": {"data_dir": str(tmp_path)}})
    cfg.data = OmegaConf.create(config)
    data = instantiate(cfg.data)
    data.prepare_data()
    data.setup()
    assert {name: len(split) for name, split in data.splits.items()} == {
        "train": 1600, "val": 200, "test": 200}
    batch = next(iter(data.train_dataloader()))
    assert batch["point"].shape == (64, 2) and batch["point"].dtype == torch.float32
    assert batch["spiral"].dtype == torch.int64 and set(batch["spiral"].tolist()) <= {0, 1}

    point = Input("point", shape=(2,))
    graph = Graph(inputs=[point], outputs={"spiral": Dense(2)(MLP(hidden=[16])(point))})
    check_data(graph, data)
    trainer = L.Trainer(fast_dev_run=1, logger=False, enable_progress_bar=False,
                        enable_model_summary=False, default_root_dir=tmp_path)
    trainer.fit(GraphSystem(graph, loss="cross_entropy"), data)


def test_the_module_checks_its_config(config: str):
    module = sys.modules["plait.data.spirals"]
    with pytest.raises(DataError, match=r"SpiralsDataModule: the batch keys must differ"):
        module.SpiralsDataModule(point_key="spiral")
    with pytest.raises(DataError, match=r"data\.count must be at least 3 \(one per split\)"):
        module.SpiralsDataModule(count=2)


def test_the_module_is_exported_as_the_readme_says(config: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(plait.data._HOMES, "SpiralsDataModule", "spirals")
    try:
        assert plait.data.SpiralsDataModule is sys.modules["plait.data.spirals"].SpiralsDataModule
    finally:
        vars(plait.data).pop("SpiralsDataModule", None)  # the lookup caches it
