"""The checks of a run config: every key, interpolation, input and metric, in seconds, before
any data is fetched or process started; and `mode=check`, which runs them all."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
from omegaconf import DictConfig, OmegaConf

from plait.graph import Graph
from plait.system import GraphSystem
from plait.system.compiling import graph_breaks
from plait.train.build import build_callbacks, build_data, build_loggers, build_system, output_dir
from plait.train.errors import ConfigError
from plait.train.keys import check_keys

log = logging.getLogger(__name__)


@dataclass
class Checked:
    """What a check built: the data module (not yet set up), the system and its description."""

    data: L.LightningDataModule
    system: GraphSystem
    summary: str
    files: list[Path]


def check(cfg: DictConfig) -> Checked:
    """`mode=check`: every check of a training run, and the callbacks and loggers built;
    prints the graph summary. Fetches no data.

    Raises:
        ConfigError, SpecError, LossError, DataError, InstantiationException, OmegaConf
        errors: each names the config key.
    """
    check_config(cfg)
    data, system = build_data(cfg), build_system(cfg)
    check_system(cfg, system, data)
    summary, files = describe(system, output_dir(cfg))
    build_callbacks(cfg)
    build_loggers(cfg)
    print(summary)
    if system.compile_options is not None:
        count, reasons = graph_breaks(system.graph)
        print(f"torch.compile: {count} graph break(s)" + "".join(f"\n  {r}" for r in reasons))
    print(f"config OK: graph pictures in {output_dir(cfg)}: {', '.join(p.name for p in files)}")
    return Checked(data, system, summary, files)


def check_config(cfg: DictConfig) -> None:
    """Before anything is built: every interpolation resolves, no `???` is left, and every
    key is one something reads (`keys.check_keys`).

    Raises:
        ConfigError, OmegaConf errors: naming the key.
    """
    OmegaConf.to_container(OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"]), resolve=True)
    missing = [k for k in OmegaConf.missing_keys(cfg) if not k.startswith("hydra")]
    if missing:
        raise ConfigError(f"{missing[0]}: a value is required (the config has ???); "
                          f"set it on the command line, e.g. {missing[0]}=...")
    check_keys(cfg)


def check_system(cfg: DictConfig, system: GraphSystem, data: L.LightningDataModule) -> None:
    """Once built: the optimizer and scheduler build, the data provides every input and output
    and nothing the graph leaves unread, and `optimized_metric` is a metric the model logs.

    Raises:
        ConfigError, InstantiationException: naming the key.
    """
    system.configure_optimizers()  # builds optimizer and scheduler from their partials
    check_data(system, data, data_name=f"data ({cfg.data.get('_target_')})")
    check_metric(cfg.get("optimized_metric"), cfg.get("optimized_mode", "min"), system)


def check_metric(metric: str | None, mode: Any, system: GraphSystem) -> None:
    """`optimized_metric` must be a metric the model logs (else checkpoints and sweeps fail late),
    and `optimized_mode` min or max."""
    names = system.logged_names()
    if metric is not None and metric not in names:
        raise ConfigError(f"optimized_metric: the model logs no '{metric}'; it logs {names}")
    if metric is not None and metric.startswith("test/"):
        raise ConfigError(f"optimized_metric: '{metric}' is logged only by the test after training, but "
                          "the checkpoints (and a sweep's trials) read optimized_metric while training; "
                          f"choose a val/ metric, e.g. '{'val/' + metric.removeprefix('test/')}'")
    if mode not in ("min", "max"):
        raise ConfigError(f"optimized_mode: expected min or max, received {mode!r}")


def describe(system: GraphSystem, out: Path) -> tuple[str, list[Path]]:
    """Write `graph.txt` (the summary), `graph.dot`, `graph.mmd` and, with Graphviz, `graph.png`."""
    summary = system.graph.summary(print_fn=None)
    files = [out / "graph.txt"]
    files[0].write_text(summary + "\n")
    suffixes = [".dot", ".mmd", *([".png"] if shutil.which("dot") else [])]
    for suffix in suffixes:
        files.append(Path(system.graph.plot(str(out / f"graph{suffix}"))))
    return summary, files


def check_data(graph: Graph | GraphSystem, data: Any, *, outputs: bool = True,
               data_name: str = "data") -> None:
    """Check that the data's batches hold every graph input (and output target, and sample
    weight where an output takes one). When training, a key the graph leaves unread is an
    error where the config named it (a user's columns, `data.named_keys`), else a one-line
    warning; `data.extras` (a question's kind, for analysis) are expected to be left unread.

    Args:
        graph: the graph, or a system owning one.
        data: the data module; its `provides` are the keys of its batches.
        outputs: whether targets for the outputs are needed too (not for prediction).
        data_name: names the data in the message.

    Raises:
        ConfigError: listing what the graph needs, what the data provides and what is
            missing or unread.
    """
    weights = sorted(set(graph.loss.sample_weights.values())) if isinstance(graph, GraphSystem) and outputs else []
    graph = graph.graph if isinstance(graph, GraphSystem) else graph
    provides = sorted(data.provides)
    needed = [*graph.input_names, *(graph.output_names if outputs else []), *weights]
    wanted = f"inputs {list(graph.input_names)}"
    if outputs:
        wanted += f" and outputs {list(graph.output_names)}"
    if weights:
        wanted += f" and sample weights {weights} (model.outputs.<name>.sample_weight)"
    missing = [key for key in needed if key not in provides]
    if missing:
        raise ConfigError(
            f"{data_name}: the data provides {provides}, but the model needs {wanted}; "
            f"missing {missing}. Rename the model's inputs/outputs to the data's keys, or "
            "configure the data to provide them.")
    unread = [k for k in provides if k not in needed and k not in getattr(data, "extras", ())]
    if not outputs or not unread:
        return
    text = f"{data_name}: the data provides {unread}, which the model does not read; it reads {wanted}"
    if getattr(data, "named_keys", False):
        raise ConfigError(f"{text}. Remove them from the data's config, or use them in the model.")
    log.warning("%s", text)
