"""The Hydra entry: compose config, instantiate, check, fit, test, predict.

`train.py` at the repository root is a few-line shim around `main` (`entry.py`), which runs
the mode; `fit.train` is a training run on one page, from the config to the metric.
"""

from plait.train.check import check, check_data
from plait.train.entry import main, multirun, run  # registers `plait.multirun`
from plait.train.errors import ConfigError
from plait.train.fit import train
from plait.train.loggers import has_wandb_key, wandb_logger
from plait.train.predict import predict
from plait.train.resume import run_dir  # registers the `plait.run_dir` resolver

__all__ = ["ConfigError", "check", "check_data", "has_wandb_key", "main", "multirun", "predict", "run",
           "run_dir", "train", "wandb_logger"]
