"""Every config in `conf/` is tested the day it is added.

Each `conf/experiment/*.yaml` is composed and checked (`mode=check`: data module
constructed, graph built with shape inference, losses, metrics and optimizer built; no
data fetched). Each block preset in `conf/encoder|fusion|head` is built and called on a
suitable input. A preset whose block type has no example input here fails until one is
added to `EXAMPLE_INPUTS`.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import get_class, instantiate
from omegaconf import OmegaConf

from plait.graph import Graph, Input
from plait.train import check

CONF = Path(__file__).resolve().parents[1] / "conf"
EXPERIMENTS = sorted(p.stem for p in (CONF / "experiment").glob("*.yaml"))
PRESETS = sorted(f"{p.parent.name}/{p.stem}" for group in ("encoder", "fusion", "head")
                 for p in (CONF / group).glob("*.yaml"))
MODELS = sorted(p.stem for p in (CONF / "model").glob("*.yaml"))
SCHEDULERS = sorted(f"scheduler/{p.stem}" for p in (CONF / "scheduler").glob("*.yaml") if p.stem != "none")

# Arguments with a default that a preset leaves out on purpose. A preset lists every other
# one, so `model.blocks.<block>.<argument>=...` needs no `+` and a grid over it launches.
NOT_IN_PRESETS = {
    # how torch computes an optimizer step, not what it computes: not something to tune
    "torch.optim.Adam": {"foreach", "maximize", "capturable", "differentiable", "fused"},
    # where a schedule starts; a resumed run gets it from its checkpoint
    "torch.optim.lr_scheduler.CosineAnnealingLR": {"last_epoch"},
    "torch.optim.lr_scheduler.StepLR": {"last_epoch"},
}

# Values a preset leaves to the model (`???`), for building it alone.
REQUIRED = {"units": 3}


def _sequence(config: dict) -> list:
    """Token ids when the preset embeds (vocab_size set), else float feature sequences."""
    if config.get("vocab_size"):
        return [Input("tokens", shape=(None,), dtype=torch.long)]
    return [Input("steps", shape=(None, 8))]


EXAMPLE_INPUTS = {
    "CNNTower": lambda config: [Input("image", shape=(3, 32, 32))],
    "LSTMEncoder": _sequence,
    "GRUEncoder": _sequence,
    "Conv1DEncoder": lambda config: [Input("steps", shape=(40, 8))] if not config.get("vocab_size")
    else [Input("tokens", shape=(40,), dtype=torch.long)],
    "MLP": lambda config: [Input("features", shape=(12,))],
    "Dense": lambda config: [Input("features", shape=(12,))],
    "Concat": lambda config: [Input("a", shape=(5,)), Input("b", shape=(7,))],
    "Add": lambda config: [Input("a", shape=(6,)), Input("b", shape=(6,))],
    "Multiply": lambda config: [Input("a", shape=(6,)), Input("b", shape=(6,))],
    "Average": lambda config: [Input("a", shape=(6,)), Input("b", shape=(6,))],
    "RelationNetwork": lambda config: [Input("objects", shape=(8, 4, 4)),
                                       Input("question", shape=(11,))],
}


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_experiment_checks(experiment: str, tmp_path: Path) -> None:
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("train", overrides=[f"experiment={experiment}", "mode=check",
                                          f"paths.output_dir={tmp_path}",
                                          f"paths.data_dir={tmp_path / 'data'}"])
    checked = check(cfg)
    assert checked.system.graph.output_names
    assert (tmp_path / "graph.txt").exists()
    assert not (tmp_path / "data").exists()  # checked without fetching data


def _example(spec) -> torch.Tensor:
    shape = [2, *(5 if d is None else d for d in spec.shape)]
    if spec.dtype == torch.long:
        return torch.randint(1, 10, shape)
    return torch.randn(shape)


@pytest.mark.parametrize("preset", PRESETS)
def test_block_preset_builds_and_runs(preset: str) -> None:
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(preset)[preset.split("/")[0]]  # a group's config composes under its name
    cfg = OmegaConf.create(OmegaConf.to_container(cfg))
    for key in OmegaConf.missing_keys(cfg):
        assert key in REQUIRED, f"{preset}: add an example value for ??? key '{key}' to REQUIRED"
        OmegaConf.update(cfg, key, REQUIRED[key])
    config = OmegaConf.to_container(cfg, resolve=True)
    kind = config["_target_"].rsplit(".", 1)[-1]
    assert kind in EXAMPLE_INPUTS, f"{preset}: add an example input for {kind} to EXAMPLE_INPUTS"
    inputs = EXAMPLE_INPUTS[kind](config)
    block = instantiate(config)
    graph = Graph(inputs, block(*inputs))
    result = graph(*[_example(i.spec) for i in inputs])
    assert result.shape[0] == 2
    assert torch.isfinite(result).all()


@pytest.mark.slow
@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_experiment_trains_one_fast_step_on_its_real_data(experiment: str, tmp_path: Path) -> None:
    """Two real training batches of every experiment on a 64-example slice of its data."""
    from tests.fast_step import fast_step

    metrics = fast_step(experiment, None, tmp_path)
    assert metrics.filter(like="train/").notna().any().any()


def test_a_training_step_logs_at_lightnings_default_interval() -> None:
    """The README: step values every `trainer.log_every_n_steps` steps, 50 as in Lightning."""
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("train")
    assert cfg.trainer.log_every_n_steps == 50


def _missing_arguments(config) -> list[str]:
    """The arguments with a default of the config's `_target_` that the config leaves out."""
    target = config["_target_"]
    parameters = inspect.signature(get_class(target).__init__).parameters.values()
    return [p.name for p in parameters if p.default is not inspect.Parameter.empty
            and p.name not in config and p.name not in NOT_IN_PRESETS.get(target, ())]


@pytest.mark.parametrize("preset", [*PRESETS, "optimizer/adam", *SCHEDULERS, "callbacks/early_stopping"])
def test_preset_lists_every_argument_of_its_target(preset: str) -> None:
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(preset)
    group, name = preset.split("/")
    cfg = (cfg.model.scheduler if preset in SCHEDULERS else cfg.callbacks[name] if group == "callbacks"
           else cfg[group])  # @package model; the callbacks group lists several
    assert _missing_arguments(cfg) == [], f"conf/{preset}.yaml: add these with their defaults"


@pytest.mark.parametrize("model", MODELS)
def test_model_optimizer_lists_every_argument(model: str) -> None:
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("train", overrides=[f"model={model}"])
    assert _missing_arguments(cfg.model.optimizer) == [], f"conf/model/{model}.yaml: optimizer"


@pytest.mark.parametrize(("experiment", "block"), [("digits", "features"), ("vqa", "vision")])
def test_a_preset_argument_and_weight_decay_take_a_plain_override(experiment: str, block: str,
                                                                  tmp_path: Path) -> None:
    """No `+` or `++` (the README): a cnn_small tower takes dropout, Adam weight_decay."""
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("train", overrides=[f"experiment={experiment}", f"model.blocks.{block}.dropout=0.3",
                                          "model.optimizer.weight_decay=0.01",
                                          f"paths.output_dir={tmp_path}",
                                          f"paths.data_dir={tmp_path / 'data'}"])
    system = check(cfg).system  # builds the graph without fetching data
    assert system.graph.get_block(block).dropout.p == 0.3
    optimizer = system.configure_optimizers()
    assert optimizer.param_groups[0]["weight_decay"] == 0.01
    assert optimizer.param_groups[0]["betas"] == (0.9, 0.999)


def test_a_data_module_built_by_hand_splits_as_the_experiments_do() -> None:
    """Every data config passes the run's `seed`; a module built in Python without one gets
    the same default, so its splits are those of `python train.py experiment=...`."""
    from plait.data import ArrayDataModule, DictDataModule, FileDataModule
    from plait.data.base import DEFAULT_SEED

    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("train", overrides=["experiment=digits"])
    assert cfg.seed == cfg.data.seed == DEFAULT_SEED
    for module in (DictDataModule, ArrayDataModule, FileDataModule):
        assert inspect.signature(module).parameters["seed"].default == DEFAULT_SEED, module.__name__
    for path in sorted((CONF / "data").glob("*.yaml")):
        assert OmegaConf.to_container(OmegaConf.load(path))["seed"] == "${seed}", path.name


def test_a_model_config_of_ones_own_outside_the_repository(tmp_path) -> None:
    """The README: `hydra.searchpath` adds a folder of one's own configs; a model config may
    stop after `outputs:` (the keys after it take their defaults), and `+model.<key>=...`
    sets one of those it left out."""
    (tmp_path / "conf" / "model").mkdir(parents=True)
    written = (CONF / "model" / "digits.yaml").read_text().split("\noptimizer: {lr")[0]
    assert written.rstrip().endswith("metrics: [acc]}")
    (tmp_path / "conf" / "model" / "mine.yaml").write_text(written)
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("train", overrides=[f"hydra.searchpath=[file://{tmp_path / 'conf'}]", "model=mine",
                                          "+model.loss_balancing=dwa", "mode=check",
                                          f"paths.output_dir={tmp_path / 'run'}"])
    system = check(cfg).system
    assert "compile" not in cfg.model and type(system.loss.balancer).__name__ == "DynamicWeightAverage"
