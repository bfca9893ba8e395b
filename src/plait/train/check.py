"""`mode=check`: the whole config validated in seconds, before any data or process."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import lightning as L
from omegaconf import DictConfig, OmegaConf

from plait.system import GraphSystem
from plait.system.compiling import graph_breaks
from plait.train.build import (
    build_callbacks,
    build_data,
    build_loggers,
    build_system,
    check_data,
    output_dir,
)
from plait.train.errors import ConfigError
from plait.train.keys import check_keys

log = logging.getLogger(__name__)

STAGES = ("train", "val", "test")


@dataclass
class Checked:
    """What a check built: the data module (not yet set up), the system and its description."""

    data: L.LightningDataModule
    system: GraphSystem
    summary: str
    files: list[Path]


def prepare(cfg: DictConfig) -> Checked:
    """Validate the config and build data module and system; fetches no data.

    Checks, in order: every interpolation resolves and no `???` is left; the data module
    constructs; the graph builds with shape inference (blocks, nodes, inputs); every output
    has a known loss, a positive weight and known metrics; the optimizer and scheduler
    build; the data provides every input and output and nothing the graph leaves unread;
    every key is one something reads (`keys.check_keys`);
    `optimized_metric` is a metric the model logs. Then writes the summary and pictures.

    Raises:
        ConfigError, SpecError, LossError, DataError, InstantiationException, OmegaConf
        errors: each names the config key.
    """
    OmegaConf.to_container(OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"]), resolve=True)
    _check_missing(cfg)
    check_keys(cfg)
    data = build_data(cfg)
    system = build_system(cfg)
    system.configure_optimizers()  # builds optimizer and scheduler from their partials
    check_data(system, data, data_name=f"data ({cfg.data.get('_target_')})")
    check_metric(cfg, system)
    summary, files = describe(system, output_dir(cfg))
    return Checked(data, system, summary, files)


def check(cfg: DictConfig) -> Checked:
    """`mode=check`: `prepare`, and build callbacks and loggers; prints the graph summary."""
    checked = prepare(cfg)
    build_callbacks(cfg)
    build_loggers(cfg)
    print(checked.summary)
    if checked.system.compile_options is not None:
        count, reasons = graph_breaks(checked.system.graph)
        print(f"torch.compile: {count} graph break(s)" + "".join(f"\n  {r}" for r in reasons))
    print(f"config OK: graph pictures in {output_dir(cfg)}: "
          f"{', '.join(p.name for p in checked.files)}")
    return checked


def _check_missing(cfg: DictConfig) -> None:
    missing = [k for k in OmegaConf.missing_keys(cfg) if not k.startswith("hydra")]
    if missing:
        raise ConfigError(f"{missing[0]}: a value is required (the config has ???); "
                          f"set it on the command line, e.g. {missing[0]}=...")


def logged_metrics(system: GraphSystem) -> list[str]:
    """The names the system logs: `<stage>/loss`, `<stage>/<output>/loss`, `<stage>/<output>/<metric>`."""
    names = []
    for stage in STAGES:
        names.append(f"{stage}/loss")
        for output in system.graph.output_names:
            names.append(f"{stage}/{output}/loss")
            names.extend(getattr(system, f"{stage}_metrics")[f"out_{output}"].keys())
    return names


def check_metric(cfg: DictConfig, system: GraphSystem) -> None:
    """`optimized_metric` must be a metric the model logs (else checkpoints and sweeps fail late)."""
    metric = cfg.get("optimized_metric")
    names = logged_metrics(system)
    if metric is not None and metric not in names:
        raise ConfigError(f"optimized_metric: the model logs no '{metric}'; it logs {names}")
    if cfg.get("optimized_mode", "min") not in ("min", "max"):
        raise ConfigError(f"optimized_mode: expected min or max, received {cfg.optimized_mode!r}")


def describe(system: GraphSystem, out: Path) -> tuple[str, list[Path]]:
    """Write `graph.txt` (the summary), `graph.dot`, `graph.mmd` and, with Graphviz, `graph.png`."""
    summary = system.graph.summary(print_fn=None)
    files = [out / "graph.txt"]
    files[0].write_text(summary + "\n")
    suffixes = [".dot", ".mmd", *([".png"] if shutil.which("dot") else [])]
    for suffix in suffixes:
        files.append(Path(system.graph.plot(str(out / f"graph{suffix}"))))
    return summary, files
