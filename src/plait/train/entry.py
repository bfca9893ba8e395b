"""The Hydra entry: dispatch on `mode`, report config errors as one readable line, and hand
the multirun's own values (`${plait.multirun:...}`) to the configs that need them."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.errors import CompactHydraException
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from plait.export import ExportError
from plait.losses import NonFiniteLoss
from plait.train.check import check
from plait.train.errors import USER_ERRORS, ConfigError, RankError, message
from plait.train.evaluate import evaluate
from plait.train.export import export_checkpoint
from plait.train.fit import train
from plait.train.predict import predict
from plait.train.resume import mark_failed

log = logging.getLogger(__name__)

MODES = ("train", "check", "test", "evaluate", "predict", "export")


def run(cfg: DictConfig) -> Any:
    """Run `cfg.mode`: `train` returns the optimized metric, `check` the checked system,
    `test` (or `evaluate`) the test metrics, `predict` the predictions file, `export` the
    report of the file written. Errors propagate (for tests and Python callers)."""
    mode = cfg.get("mode", "train")
    if mode == "train":
        return train(cfg)
    if mode == "check":
        return check(cfg)
    if mode in ("test", "evaluate"):
        return evaluate(cfg)
    if mode == "predict":
        return predict(cfg)
    if mode == "export":
        return export_checkpoint(cfg)
    raise ConfigError(f"mode: expected one of {list(MODES)}, received {mode!r}")


class JobFailed(CompactHydraException):
    """A job of a multirun stopped by an error `main` reports in one line (config, export,
    a loss that is not finite, a failed rank). Raised where a single run exits with code 1:
    Hydra records the job as failed, runs the sweep's other jobs, then exits with code 1
    printing this message."""


def main(cfg: DictConfig) -> float | None:
    """`train.py`'s body: `run`, with a config error printed as one message and exit code 1
    (an export that fails as `Export error: ...`, a loss that is not finite or a rank that
    failed as `Training stopped: ...`). In a multirun the job fails with `JobFailed` instead of
    exiting, so that one bad combination does not stop the rest of a grid.

    `HYDRA_FULL_ERROR=1` shows the full traceback instead.
    """
    try:
        result = run(cfg)
    except (*USER_ERRORS, ExportError) as err:
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        # A rank that failed has printed its own error above; this line names the rank.
        label = ("Export error" if isinstance(err, ExportError)
                 else "Training stopped" if isinstance(err, (NonFiniteLoss, RankError))
                 else "Config error")
        print(f"{label}: {message(err)}", file=sys.stderr, flush=True)
        print("(set HYDRA_FULL_ERROR=1 for the full traceback)", file=sys.stderr, flush=True)
        job = multirun("job.num")
        if job is not None:
            mark_failed(Path(multirun("runtime.output_dir")), f"{label}: {message(err)}")
            raise JobFailed(f"{label} in job {job} of the multirun ({multirun('runtime.output_dir')}): "
                            f"{message(err)}") from None
        raise SystemExit(1) from None
    except Exception as err:  # a crash: the job failed all the same (a signal ends it unfinished)
        if multirun("job.num") is not None:
            mark_failed(Path(multirun("runtime.output_dir")), f"{type(err).__name__}: {err}")
        raise
    return result if isinstance(result, float) else None


def multirun(key: str) -> Any:
    """`hydra.<key>` of the multirun job this process runs, as plain data: the resolver
    `${plait.multirun:sweep.dir}`. None in a single run, and without a running Hydra app
    (`hydra.compose`), where a component given it acts as outside a sweep.

    Hydra's state is read here, at the entry, so that components take plain arguments: the
    wandb group of a sweep (conf/logger/wandb.yaml), the Optuna trial a job reports to
    (conf/hparams_search/loss_weights.yaml).
    """
    if not HydraConfig.initialized():
        return None
    hydra = HydraConfig.get()
    if hydra.mode != RunMode.MULTIRUN:
        return None
    value = OmegaConf.select(hydra, key, default=None)
    return OmegaConf.to_container(value, resolve=True) if OmegaConf.is_config(value) else value


OmegaConf.register_new_resolver("plait.multirun", multirun, replace=True)
