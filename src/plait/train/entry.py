"""The Hydra entry: dispatch on `mode`, and report config errors as one readable line."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from omegaconf import DictConfig

from plait.train.check import check
from plait.train.errors import USER_ERRORS, ConfigError, message
from plait.train.fit import train
from plait.train.predict import predict

log = logging.getLogger(__name__)

MODES = ("train", "check", "predict")


def run(cfg: DictConfig) -> Any:
    """Run `cfg.mode`: `train` returns the optimized metric, `check` the checked system,
    `predict` the predictions file. Errors propagate (for tests and Python callers)."""
    mode = cfg.get("mode", "train")
    if mode == "train":
        return train(cfg)
    if mode == "check":
        return check(cfg)
    if mode == "predict":
        return predict(cfg)
    raise ConfigError(f"mode: expected one of {list(MODES)}, received {mode!r}")


def main(cfg: DictConfig) -> float | None:
    """`train.py`'s body: `run`, with a config error printed as one message and exit code 1.

    `HYDRA_FULL_ERROR=1` shows the full traceback instead.
    """
    try:
        result = run(cfg)
    except USER_ERRORS as err:
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        print(f"Config error: {message(err)}", file=sys.stderr, flush=True)
        print("(set HYDRA_FULL_ERROR=1 for the full traceback)", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    return result if isinstance(result, float) else None
