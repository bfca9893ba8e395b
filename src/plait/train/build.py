"""From config to objects: the data module, the system, callbacks, loggers and trainer.

Components take numbers and modules; the config only reaches `instantiate` here. What is
checked before anything is built lives in `plait.train.check`.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import lightning as L
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from plait.callbacks import CheckpointWeights, EpochLine, RandomState, SaveOnInterrupt
from plait.graph import Graph, fresh_names, module_name
from plait.system import GraphSystem
from plait.train.csv_logger import CSVLogger
from plait.train.errors import ConfigError

GRAPH_KEYS = ("inputs", "blocks", "nodes", "outputs")
FACTORIES = ("optimizer", "scheduler")  # model keys built into callables; the rest stay data
PYTHON_ONLY = ("loss", "loss_weights", "metrics")  # Keras-style; a config gives `outputs:`


def output_dir(cfg: DictConfig) -> Path:
    """This run's folder (`paths.output_dir`), created if missing."""
    path = Path(_require(cfg, "paths.output_dir"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _require(cfg: DictConfig, key: str) -> Any:
    value = OmegaConf.select(cfg, key, throw_on_missing=True)
    if value is None:
        raise ConfigError(f"{key}: required, received null")
    return value


def graph_spec(cfg: DictConfig) -> dict[str, Any]:
    """The model's graph spec (inputs, blocks, nodes, outputs) as plain, resolved data."""
    model = _require(cfg, "model")
    return {key: _plain(model.get(key)) for key in GRAPH_KEYS}


def _plain(node: Any) -> Any:
    """Resolved plain data; interpolations resolve against the whole config."""
    if OmegaConf.is_config(node):
        return OmegaConf.to_container(node, resolve=True, throw_on_missing=True)
    return node


def build_system(cfg: DictConfig) -> GraphSystem:
    """The LightningModule: builds the graph (shape inference), losses and metrics. The
    graph is the model's spec, or `model.graph`: a Python function that returns a `Graph`,
    with the outputs' losses in `model.outputs` beside it."""
    model = _require(cfg, "model")
    if model.get("graph") is None:
        return GraphSystem.from_spec(graph_spec(cfg), **system_kwargs(cfg))
    written = [key for key in ("inputs", "blocks", "nodes") if model.get(key)]
    if written:
        raise ConfigError(f"model.graph: a graph built in Python takes no model.{written[0]}; "
                          "give either model.graph or the spec's inputs, blocks and nodes")
    return GraphSystem(python_graph(model.graph), outputs=_plain(model.get("outputs")),
                       **system_kwargs(cfg))


def python_graph(builder: Mapping[str, Any]) -> Graph:
    """The graph a `{_target_: package.module.function, <argument>: ...}` builder returns,
    its blocks named as in a fresh process, so that every job of a sweep run in one process
    names them alike and a checkpoint of one loads into the graph another process builds.

    Raises:
        ConfigError: the builder is not a `_target_` config, or returns no `Graph`.
    """
    if not isinstance(builder, Mapping) or "_target_" not in builder:
        raise ConfigError(f"model.graph: expected {{_target_: <function returning a plait Graph>, "
                          f"<argument>: ...}}, received {_plain(builder)!r}")
    with fresh_names():
        graph = instantiate(builder)
        if isinstance(graph, Graph):
            module_name(graph)  # the graph's own name too: `graph`, not `graph_1`
    if not isinstance(graph, Graph):
        raise ConfigError(f"model.graph: {builder['_target_']} returned a {type(graph).__name__}, "
                          "expected a plait Graph (Graph(inputs, outputs))")
    return graph


def system_kwargs(cfg: DictConfig) -> dict[str, Any]:
    """The model's keys besides the graph, as `GraphSystem` arguments: the optimizer and
    scheduler partials instantiated, the rest (`loss_balancing`, ...) plain data.

    Raises:
        ConfigError: a key `GraphSystem` does not take.
    """
    model = _require(cfg, "model")
    allowed = [p for p in inspect.signature(GraphSystem.__init__).parameters
               if p not in ("self", "graph", "outputs", *PYTHON_ONLY)]
    kwargs = {}
    for key, value in model.items():
        if key in (*GRAPH_KEYS, "graph"):
            continue
        if key not in allowed:
            raise ConfigError(f"model.{key}: unknown key; a model has {[*GRAPH_KEYS, 'graph']} and "
                              f"the arguments of GraphSystem {allowed}")
        is_factory = key in FACTORIES and isinstance(value, Mapping) and "_target_" in value
        kwargs[key] = instantiate(value) if is_factory else _plain(value)
    return kwargs


def build_data(cfg: DictConfig) -> L.LightningDataModule:
    """The data module, constructed only: no data is fetched until Lightning asks."""
    data = instantiate(_require(cfg, "data"))
    if not isinstance(data, L.LightningDataModule):
        raise ConfigError(f"data._target_: {cfg.data.get('_target_')} built a "
                          f"{type(data).__name__}, expected a LightningDataModule")
    return data


def build_callbacks(cfg: DictConfig) -> list[L.Callback]:
    """Every `_target_` under `callbacks`; after them, checkpoints' weights kept apart from
    a weight-averaging callback's, and what resuming needs (random state, `last.ckpt` on an
    interrupt); one line per epoch in `train.log`, printed too when no progress bar shows."""
    return [*_instantiate_all(cfg.get("callbacks"), "callbacks"), CheckpointWeights(),
            RandomState(), SaveOnInterrupt(), EpochLine(echo=not progress_bar(cfg))]


def build_loggers(cfg: DictConfig, resume_step: int | None = None) -> list[Any]:
    """Every `_target_` under `logger`; a CSV log resumed at `resume_step` keeps the rows
    logged before it."""
    loggers = list(_instantiate_all(cfg.get("logger"), "logger"))
    if resume_step is not None:
        for logger in loggers:
            if isinstance(logger, CSVLogger):
                logger.resume_at(resume_step)
    return loggers


def _instantiate_all(group: Mapping | None, key: str) -> Iterable[Any]:
    for name, conf in (group or {}).items():
        if isinstance(conf, Mapping) and "_target_" in conf:
            yield instantiate(conf)
        elif conf is not None:
            raise ConfigError(f"{key}.{name}: expected a config with `_target_`, received {conf!r}")


def progress_bar(cfg: DictConfig) -> bool:
    """`trainer.enable_progress_bar`, where null means: only when stdout is a terminal."""
    setting = cfg.trainer.get("enable_progress_bar")
    return sys.stdout.isatty() if setting is None else bool(setting)


def build_trainer(cfg: DictConfig, callbacks: list[L.Callback], loggers: list[Any]) -> L.Trainer:
    """The trainer, with the progress bar decided by `progress_bar`."""
    return instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False,
                       enable_progress_bar=progress_bar(cfg))
