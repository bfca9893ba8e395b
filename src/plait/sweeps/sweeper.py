"""The work of plait's Optuna sweeper: ask the study, launch trials with Hydra, tell results.

`hydra_plugins.plait_optuna` is the thin Hydra plugin; this module is its body, imported
only when a sweep starts (Hydra imports every plugin module on every start).
"""

from __future__ import annotations

import logging
import math
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import optuna
from hydra.core.plugins import Plugins
from hydra.core.utils import JobReturn, JobStatus
from hydra.errors import CompactHydraException
from hydra.types import HydraContext
from omegaconf import DictConfig, OmegaConf
from optuna.trial import TrialState

from plait.sweeps.pruning import LIVE_TRIALS
from plait.sweeps.space import SearchSpace, build_space, override_value
from plait.sweeps.study import check_objective, direction, enqueue, open_study, storage_url
from plait.train.errors import ConfigError

log = logging.getLogger(__name__)


class SweepConfigError(CompactHydraException):
    """A bad sweep setting, printed by Hydra as its one-line message (no traceback)."""


class OptunaSweep:
    """Run `n_trials` trials of the study, `n_jobs` at a time, through Hydra's launcher.

    Args:
        settings: the `hydra.sweeper` node (see `hydra_plugins.plait_optuna`).
    """

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.settings = settings
        self.config: DictConfig | None = None
        self.hydra_context: HydraContext | None = None
        self.launcher: Any = None

    def setup(self, *, hydra_context: HydraContext, task_function: Callable, config: DictConfig) -> None:
        self.config, self.hydra_context = config, hydra_context
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config)

    def sweep(self, arguments: Sequence[str]) -> list[JobReturn]:
        """Continue (or start) the study and run this invocation's trials.

        Raises:
            SweepConfigError: a bad search space or setting; every trial of this call failed.
        """
        try:
            return self._sweep(arguments)
        except ConfigError as err:
            raise SweepConfigError(f"Config error: {err}") from None

    def _sweep(self, arguments: Sequence[str]) -> list[JobReturn]:
        assert self.config is not None, "setup() first"
        outputs = list(OmegaConf.select(self.config, "model.outputs") or {})
        space = build_space(arguments, _plain(self.settings.get("params")),
                            _plain(self.settings.get("weights")), outputs)
        if not space.distributions:
            raise ConfigError("hydra.sweeper.params: nothing to search; give a range such as "
                              "model.outputs.<output>.weight=tag(log,interval(0.1,10))")
        metric = OmegaConf.select(self.config, "optimized_metric")
        check_objective(metric, space)
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        storage = storage_url(self.settings.get("storage"), sweep_dir)
        study = open_study(self.settings, storage, direction(self.settings.get("direction")), metric)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")  # once the study takes this sweep
        enqueue(study, _plain(self.settings.get("enqueue")), space)
        extra = [f"hydra.sweeper.storage={override_value(storage)}"]
        returns = self._run(study, space, extra, sweep_dir)
        _summarise(study, sweep_dir, returns)
        return returns

    def _run(self, study: optuna.Study, space: SearchSpace, extra: list[str],
             sweep_dir: Path) -> list[JobReturn]:
        total, per_batch = int(self.settings["n_trials"]), max(1, int(self.settings.get("n_jobs", 1)))
        returns: list[JobReturn] = []
        stop = False
        while len(returns) < total and not stop:
            trials = [study.ask(space.distributions)
                      for _ in range(min(per_batch, total - len(returns)))]
            _check_folders_free(study, trials, sweep_dir, self.config)
            for trial in trials:
                trial.set_user_attr("overrides", space.overrides(trial.params))
            try:
                results = self._launch(trials, [space.overrides(t.params) + extra for t in trials])
            except BaseException:
                _fail_running(study, trials)
                raise
            stop = any([_tell(study, trial, result) for trial, result in zip(trials, results)])
            returns.extend(results)
            _write_best(study, sweep_dir)
        if stop:
            log.info("the sampler has tried every point of the search space; the sweep ends")
        return returns

    def _launch(self, trials: list[optuna.trial.Trial], batch: list[list[str]]) -> list[JobReturn]:
        """Launch the trials, each job numbered as its trial (its folder is its number)."""
        for overrides in batch:  # compose each config now: a bad override fails at once
            self.hydra_context.config_loader.load_sweep_config(
                master_config=self.config, sweep_overrides=list(overrides))
        results: list[JobReturn] = []
        start = 0
        for end in range(1, len(trials) + 1):  # runs of consecutive trial numbers
            if end == len(trials) or trials[end].number != trials[end - 1].number + 1:
                LIVE_TRIALS.update({t.number: t for t in trials[start:end]})
                try:
                    results += self.launcher.launch(batch[start:end],
                                                    initial_job_idx=trials[start].number)
                finally:
                    for trial in trials[start:end]:
                        LIVE_TRIALS.pop(trial.number, None)
                start = end
        return results


def _tell(study: optuna.Study, trial: optuna.trial.Trial, result: JobReturn) -> bool:
    """Record a finished job: its value, pruned, or failed (the error kept as a user attr).

    Returns:
        Whether the sampler asked to stop (a grid or brute-force search that has run every
        point calls `study.stop()`, which Optuna allows only inside `optimize`).
    """
    if result.status == JobStatus.COMPLETED:
        value = result.return_value
        if value is not None and math.isfinite(float(value)):
            return _told(study, trial, values=float(value))
        error = f"returned {value!r}, not a finite value of optimized_metric"
    else:
        error = result._return_value  # the exception; `.return_value` would raise it
        if isinstance(error, optuna.TrialPruned):
            log.info("trial %d %s", trial.number, error)
            return _told(study, trial, state=TrialState.PRUNED)
        error = _record_error(error, result)
    log.warning("trial %d failed (%s); the sweep goes on", trial.number, error)
    trial.set_user_attr("error", error)
    return _told(study, trial, state=TrialState.FAIL)


def _record_error(error: BaseException, result: JobReturn) -> str:
    """One line for the log; the whole traceback into the trial's folder as `error.txt`."""
    lines = str(error).strip().splitlines()
    line = f"{type(error).__name__}: {lines[0] if lines else ''}"
    folder = OmegaConf.select(result.hydra_cfg or {}, "hydra.runtime.output_dir")
    if folder and Path(folder).is_dir():
        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        (Path(folder) / "error.txt").write_text(text)
        line += f"; traceback in {Path(folder) / 'error.txt'}"
    return line


def _told(study: optuna.Study, trial: optuna.trial.Trial, **result: Any) -> bool:
    try:
        study.tell(trial, **result)
    except RuntimeError as err:  # the state is stored before the sampler's after_trial runs
        if "Study.stop" not in str(err):
            raise
        return True
    return False


def _fail_running(study: optuna.Study, trials: list[optuna.trial.Trial]) -> None:
    """Mark trials cut off by an interrupt as failed, so a resumed study does not wait on them."""
    for trial in trials:
        if study._storage.get_trial(trial._trial_id).state == TrialState.RUNNING:
            study.tell(trial, state=TrialState.FAIL)


def _check_folders_free(study: optuna.Study, trials: list[optuna.trial.Trial], sweep_dir: Path,
                        config: DictConfig) -> None:
    """Refuse to write a trial into a folder that holds a run already (another study's)."""
    if OmegaConf.to_container(config.hydra.sweep)["subdir"] != "${hydra.job.num}":
        return
    for trial in trials:
        folder = sweep_dir / str(trial.number)
        if folder.exists() and any(folder.iterdir()):
            _fail_running(study, trials)
            raise ConfigError(
                f"hydra.sweep.dir: {folder} holds a run already, but study {study.study_name!r} "
                f"has no finished trial {trial.number} (was its optuna.db removed?); choose "
                "another hydra.sweeper.study_name or move the folder away")


def _write_best(study: optuna.Study, sweep_dir: Path) -> dict[str, Any]:
    """`best.yaml`: the study's trials by state and its best so far; written after every
    batch of trials, so a sweep stopped part way still says where it stands."""
    states = [t.state.name for t in study.get_trials(deepcopy=False)]
    summary: dict[str, Any] = {"study_name": study.study_name,
                               "trials": {s: states.count(s) for s in sorted(set(states))}}
    if any(t.state == TrialState.COMPLETE for t in study.get_trials(deepcopy=False)):
        best = study.best_trial
        summary.update(best_trial=best.number, best_value=best.value, best_params=best.params)
    OmegaConf.save(OmegaConf.create(summary), sweep_dir / "best.yaml")
    return summary


def _summarise(study: optuna.Study, sweep_dir: Path, returns: list[JobReturn]) -> None:
    """Log the outcome and write `best.yaml`; fail when no trial of this call completed."""
    summary = _write_best(study, sweep_dir)
    if "best_trial" in summary:
        log.info("best of %d trials: trial %d, value %.6g, %s", sum(summary["trials"].values()),
                 summary["best_trial"], summary["best_value"], summary["best_params"])
    if returns and all(r.status != JobStatus.COMPLETED for r in returns) and not any(
            isinstance(r._return_value, optuna.TrialPruned) for r in returns):
        raise ConfigError(f"hydra.sweeper: every trial of this sweep failed; see the logs "
                          f"under {sweep_dir}")


def _plain(node: Any) -> Any:
    return OmegaConf.to_container(node, resolve=True) if OmegaConf.is_config(node) else node
