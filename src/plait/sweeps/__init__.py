"""Loss-weight sweeps: plait's Optuna sweeper, its pruning callback, and sweep reports.

The Hydra plugin itself is `hydra_plugins.plait_optuna` (`hydra/sweeper=plait_optuna`);
`conf/hparams_search/loss_weights.yaml` puts it to work. The submodules that import Optuna
are imported where needed: `plait.sweeps.pruning.OptunaPruning` (the callback),
`plait.sweeps.sweeper` (the sweep), `plait.sweeps.report` (`scripts/sweep_report.py`).
"""

from plait.train.loggers import sweep_group  # the wandb group of a sweep's runs

__all__ = ["sweep_group"]
