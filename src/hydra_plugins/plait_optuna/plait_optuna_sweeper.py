"""The `plait_optuna` sweeper: Optuna's ask-and-tell over Hydra's launchers, on current Optuna.

Hydra imports this module on every start to find its plugins, so it imports neither
Optuna nor plait; `plait.sweeps.sweeper` does the work once a sweep starts. (No
`from __future__ import annotations`: Hydra runs this module before it is in `sys.modules`,
where `dataclass` cannot resolve string annotations.)
"""

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig


@dataclass
class PlaitOptunaSweeperConf:
    """`hydra.sweeper` when `hydra/sweeper=plait_optuna`.

    Attributes:
        study_name: names the study (and, in `hparams_search=loss_weights`, its folder).
        storage: an Optuna RDB URL; null keeps the study in `<sweep dir>/optuna.db` (SQLite),
            so running the same command again continues it.
        direction: min or max; follows `optimized_mode`.
        n_trials: trials to run in this invocation (a resumed study runs this many more).
        n_jobs: trials asked for and launched together (in parallel with a parallel launcher).
        sampler: an Optuna sampler config (`_target_`); its `seed` moves on when resuming.
        pruner: an Optuna pruner config; acts through `plait.sweeps.OptunaPruning`.
        params: config key -> Hydra sweep, e.g. `model.optimizer.lr: tag(log, interval(1e-4, 1e-2))`.
        weights: `{low, high}`: search every output's weight log-uniformly in [low, high];
            null: only the weights named in `params` or on the command line.
        enqueue: trials to run first, each a `{key: value}` of searched keys (run once per study).
    """

    _target_: str = "hydra_plugins.plait_optuna.plait_optuna_sweeper.PlaitOptunaSweeper"
    _recursive_: bool = False  # sampler and pruner are built by the sweep, not by Hydra
    study_name: str = "sweep"
    storage: Any = None
    direction: str = "${oc.select:optimized_mode,min}"
    n_trials: int = 20
    n_jobs: int = 1
    sampler: Any = field(default_factory=lambda: {"_target_": "optuna.samplers.TPESampler",
                                                  "seed": None})
    pruner: Any = field(default_factory=lambda: {"_target_": "optuna.pruners.NopPruner"})
    params: Any = field(default_factory=dict)
    weights: Any = None
    enqueue: Any = field(default_factory=list)


ConfigStore.instance().store(group="hydra/sweeper", name="plait_optuna",
                             node=PlaitOptunaSweeperConf, provider="plait")


class PlaitOptunaSweeper(Sweeper):
    """Hydra's side of the sweeper; `plait.sweeps.sweeper.OptunaSweep` runs the study."""

    def __init__(self, **settings: Any) -> None:
        super().__init__()
        self.settings = settings
        self.sweep_runner: Any = None

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction,
              config: DictConfig) -> None:
        from plait.sweeps.sweeper import OptunaSweep

        self.sweep_runner = OptunaSweep(self.settings)
        self.sweep_runner.setup(hydra_context=hydra_context, task_function=task_function,
                                config=config)

    def sweep(self, arguments: list[str]) -> Any:
        return self.sweep_runner.sweep(arguments)
