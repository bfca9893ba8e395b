"""Loss-weight sweeps: plait's Optuna sweeper, its pruning callback, and sweep reports.

The Hydra plugin itself is `hydra_plugins.plait_optuna` (`hydra/sweeper=plait_optuna`);
`conf/hparams_search/loss_weights.yaml` puts it to work. The submodules that import Optuna
are imported where needed: `plait.sweeps.pruning.OptunaPruning` (the callback),
`plait.sweeps.sweeper` (the sweep), `plait.sweeps.report` (`scripts/sweep_report.py`).
"""

from plait.sweeps.group import sweep_group

__all__ = ["sweep_group"]
