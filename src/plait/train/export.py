"""`mode=export` (`python export.py`): a checkpoint's graph as an ONNX file or a torch.export
program, checked on real inputs from the config's data."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig

from plait.export import ATOL, FORMATS, ROWS, RTOL, ExportError, ExportReport, export
from plait.export.output import output_format
from plait.graph import Graph
from plait.system import load_checkpoint
from plait.train.build import build_data, output_dir
from plait.train.errors import ConfigError
from plait.train.mode_keys import check_mode_keys
from plait.train.predict import prediction_loader

log = logging.getLogger(__name__)

# conf/export.yaml's own keys, with their defaults (format None: output's suffix's, else onnx).
KEYS = {"format": None, "output": None, "activation": True, "atol": ATOL, "rtol": RTOL}


def export_checkpoint(cfg: DictConfig) -> ExportReport:
    """Write `ckpt_path`'s graph as `format` (else as `output`'s suffix says, else ONNX) to
    `output` (or `model.onnx` / `model.pt2` in the run folder), checked against the eager
    model on the first rows of the data's test (or predict) split; on random inputs where
    the data does not fit the model.

    Returns:
        What was written (`report.path`) and how it was checked.

    Raises:
        ConfigError: no `ckpt_path`, a setting of the wrong type, an unknown format, or an
            `output` that is a folder, the checkpoint, or not of the format's suffix.
        CheckpointError: `ckpt_path` missing or not a plait checkpoint.
        ExportError: ONNX packages missing, a graph that does not export, an output that
            holds NaN on the data, or a file whose outputs differ from the eager model's
            beyond `atol`/`rtol`.
    """
    if not cfg.get("ckpt_path"):
        raise ConfigError("ckpt_path: export needs the checkpoint to export, e.g. "
                          "ckpt_path=logs/train/runs/<run>/checkpoints/last.ckpt")
    settings = check_mode_keys(cfg, KEYS)
    _check_settings(settings)
    fmt, path = _output(cfg, settings["format"], settings["output"])
    system = load_checkpoint(cfg.ckpt_path, key="ckpt_path")
    sample, sample_name = _sample(cfg, system.graph)
    report = export(system, path, format=fmt, activation=settings["activation"], sample=sample,
                    atol=float(settings["atol"]), rtol=float(settings["rtol"]),
                    sample_name=sample_name)
    print(report)
    return report


def _check_settings(settings: dict[str, Any]) -> None:
    """Refuse settings of the wrong kind before a checkpoint or data is read.

    Raises:
        ConfigError: an output that is not a path, a non-boolean activation, a negative
            tolerance.
    """
    if settings["output"] is not None and not isinstance(settings["output"], str):
        raise ConfigError(f"output: expected the path of the file to write, received "
                          f"{settings['output']!r}")
    if not isinstance(settings["activation"], bool):
        raise ConfigError(f"activation: expected true or false, received {settings['activation']!r}")
    for key in ("atol", "rtol"):
        value = settings[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ConfigError(f"{key}: expected a number >= 0, received {value!r}")


def _output(cfg: DictConfig, format: str | None, output: str | None) -> tuple[str, Path]:
    """The format and the file to write, checked before the checkpoint or data is read:
    `format`, else the one `output`'s suffix names, else onnx; `output`, else
    `model.onnx` / `model.pt2` in the run folder.

    Raises:
        ConfigError: an unknown format; an `output` that is a folder, the checkpoint
            `ckpt_path`, or a file not of the format's suffix (`.onnx`, `.pt2`).
        ExportError: format onnx without the ONNX packages (naming the extra).
    """
    suffix = FORMATS.get(format, ".onnx") if isinstance(format, str) else ".onnx"
    path = Path(output or output_dir(cfg) / f"model{suffix}")
    try:
        fmt = output_format(path, format, key="output", source=cfg.ckpt_path)
    except ExportError as err:  # export.py's settings: reported as the config keys they are
        raise ConfigError(str(err)) from None
    if fmt == "onnx":
        from plait.export.to_onnx import require_onnx

        require_onnx()
    return fmt, path


def _sample(cfg: DictConfig, graph: Graph) -> tuple[dict[str, torch.Tensor] | None, str]:
    """The first rows of the data's predict (else test) split, if they fit the graph's
    inputs, and what they are; None where they do not (a warning says why)."""
    data = build_data(cfg)
    name = f"the {getattr(data, 'predict_split', 'test')} split of {type(data).__name__}"
    missing = [n for n in graph.input_names if n not in data.provides]
    if missing:
        log.warning("checking on random inputs: the data (%s) does not provide the model's inputs "
                    "%s; name the experiment the checkpoint was trained with (experiment=...) to "
                    "check on real ones", type(data).__name__, missing)
        return None, name
    batch = next(iter(prediction_loader(data)), None)
    unfit = [n for n in graph.input_names if batch is not None and not _fits(graph, n, batch[n])]
    if batch is None or unfit:
        log.warning("checking on random inputs: the data (%s) %s", type(data).__name__,
                    f"gives inputs {unfit} of other shapes than the model's" if unfit else "has no rows")
        return None, name
    return {n: batch[n][:ROWS] for n in graph.input_names}, name


def _fits(graph: Graph, name: str, value: torch.Tensor) -> bool:
    shape = graph.input_specs[name].shape
    return value.dim() == len(shape) + 1 and all(d is None or d == v for d, v in zip(shape, value.shape[1:]))

