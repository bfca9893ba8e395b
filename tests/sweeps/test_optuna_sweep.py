"""Optuna sweeps on real Hydra (`python train.py -m ... hparams_search=loss_weights`): a
study in SQLite under a stable folder, resumed by running the same command again; pruned
and failing trials recorded as such while the sweep goes on; bad input refused at once."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from omegaconf import OmegaConf

from plait.sweeps.report import make_report

QUICK = ["hparams_search=loss_weights", "logger=csv", "test=false", "hydra.sweeper.n_trials=2"]


def study_of(folder: Path, name: str = "loss_weights") -> optuna.Study:
    return optuna.load_study(study_name=name, storage=f"sqlite:///{folder / 'optuna.db'}")


def snapshot(folder: Path) -> dict[str, float]:
    """Every file of a run folder with its modification time."""
    return {str(p.relative_to(folder)): p.stat().st_mtime for p in folder.rglob("*") if p.is_file()}


@pytest.mark.slow
def test_study_resumes_and_keeps_finished_trials(train_cli, tiny, tmp_path) -> None:
    command = ["-m", *tiny, *QUICK]
    first = train_cli(command, tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    folder = tmp_path / "digits" / "optuna" / "loss_weights"
    assert [t.state.name for t in study_of(folder).trials] == ["COMPLETE", "COMPLETE"]
    before = {n: snapshot(folder / n) for n in ("0", "1")}

    again = train_cli(command, tmp_path)  # the very same command
    assert again.returncode == 0, again.stderr[-3000:]
    trials = study_of(folder).trials
    assert [t.number for t in trials] == [0, 1, 2, 3]
    assert all(t.state.name == "COMPLETE" for t in trials)
    assert {n: snapshot(folder / n) for n in ("0", "1")} == before  # untouched
    assert len({t.params["model.outputs.digit.weight"] for t in trials}) == 4  # no repeats
    for trial in trials:  # each trial's folder ran with its sampled weight
        config = OmegaConf.load(folder / str(trial.number) / ".hydra" / "config.yaml")
        assert config.model.outputs.digit.weight == pytest.approx(
            trial.params["model.outputs.digit.weight"])
        assert trial.intermediate_values  # reported each validation epoch
    best = OmegaConf.load(folder / "best.yaml")
    assert best.trials == {"COMPLETE": 4}
    top = study_of(folder).best_trial
    assert best.best_trial == top.number and best.best_value == pytest.approx(top.value)
    assert OmegaConf.to_container(best.best_params) == pytest.approx(top.params)
    table = make_report(folder).table
    assert list(table["state"]) == ["COMPLETE"] * 4


@pytest.mark.slow
def test_sigterm_stops_the_study_and_fails_its_running_trial(train_cli, tiny, tmp_path) -> None:
    """SIGTERM during a trial, as a scheduler stopping the job sends it: the sweep exits with
    code 143 and runs no further trial, and the stopped trial is marked failed, so that
    running the command again continues the study (here to be stopped again, in trial 1)."""
    command = ["-m", *tiny, *QUICK, "hydra.sweeper.n_trials=3",
               "+callbacks.term._target_=tests.train.interrupt.TermDuringValidation",
               "+callbacks.term.epoch=0"]
    folder = tmp_path / "digits" / "optuna" / "loss_weights"
    for trial in (0, 1):
        result = train_cli(command, tmp_path)
        assert result.returncode == 143, result.stderr[-3000:]
        assert [t.state.name for t in study_of(folder).trials] == ["FAIL"] * (trial + 1)
        assert (folder / str(trial) / "checkpoints" / "last.ckpt").is_file()  # its state, kept
        assert not (folder / str(trial + 1)).exists()


@pytest.mark.slow
def test_a_stopped_sweep_keeps_its_best_so_far_and_a_resume_keeps_its_metric(train_cli, tiny, tmp_path) -> None:
    """`best.yaml` holds the best so far after every trial, also when a later trial is
    stopped; continuing the study with another optimized_metric is refused before anything
    is written, as its values could not be ranked with the study's."""
    folder = tmp_path / "digits" / "optuna" / "loss_weights"
    result = train_cli(["-m", *tiny, *QUICK, "+callbacks.term._target_=tests.train.interrupt.TermInJob",
                        "+callbacks.term.job=1"], tmp_path)
    assert result.returncode == 143, result.stderr[-3000:]
    assert [t.state.name for t in study_of(folder).trials] == ["COMPLETE", "FAIL"]
    best = OmegaConf.load(folder / "best.yaml")
    assert best.best_trial == 0 and best.best_value == study_of(folder).best_value
    before = (folder / "multirun.yaml").read_text()
    changed = train_cli(["-m", *tiny, *QUICK, "optimized_metric=val/digit/loss", "optimized_mode=max"], tmp_path)
    assert changed.returncode == 1
    assert "optimized_metric: study 'loss_weights' in " in changed.stderr
    assert (folder / "multirun.yaml").read_text() == before and len(study_of(folder).trials) == 2


def test_failed_and_pruned_trials_are_recorded_and_the_sweep_goes_on(train_cli, tiny,
                                                                   tmp_path) -> None:
    """Four learning rates: -1 is refused, 1e12 makes the loss NaN, and both trials fail; a
    pruner stops any trial below an accuracy of 2 (every other trial) after one epoch. The
    brute-force sampler tries each rate once, so the outcome is fixed whatever the order."""
    result = train_cli(["-m", *tiny, *QUICK, "hydra.sweeper.n_trials=5",
                        "hydra.sweeper.study_name=mixed", "hydra.sweeper.weights=null",
                        "model.optimizer.lr=0.003,-1.0,0.001,1e12",
                        "hydra.sweeper.sampler=null",
                        "+hydra.sweeper.sampler={_target_:optuna.samplers.BruteForceSampler,seed:0}",
                        "hydra.sweeper.pruner=null",
                        "+hydra.sweeper.pruner={_target_:optuna.pruners.ThresholdPruner,lower:2.0}"],
                       tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    folder = tmp_path / "digits" / "optuna" / "mixed"
    trials = study_of(folder, "mixed").trials
    states = {t.params["model.optimizer.lr"]: t.state.name for t in trials}
    assert states == {-1.0: "FAIL", 1e12: "FAIL", 0.003: "PRUNED", 0.001: "PRUNED"}  # 4 points, then it ends
    failed = {t.params["model.optimizer.lr"]: t for t in trials if t.state.name == "FAIL"}
    assert "Invalid learning rate" in failed[-1.0].user_attrs["error"]
    assert "Invalid learning rate" in (folder / str(failed[-1.0].number) / "error.txt").read_text()
    assert "the loss is not finite" in failed[1e12].user_attrs["error"]
    assert all(list(t.intermediate_values) == [0] for t in trials if t.state.name == "PRUNED")
    table = make_report(folder).table.set_index("model.optimizer.lr")
    assert table.loc["-1.0", "state"] == "FAIL" and table.loc["0.003", "epochs"] == 1
    assert table.loc["0.003", "state"] == "PRUNED"


@pytest.mark.parametrize("args, message", [
    (["model.outputs.agee.weight=tag(log,interval(0.1,1))", "hydra.sweeper.weights.low=0"],
     "Config error: model.outputs.agee.weight: 'agee' names no output of the model; its outputs are ['digit']"),
    # the README: the loss-weight search "refuses val/loss", which shrinks with the weights
    pytest.param(["optimized_metric=val/loss", "optimized_mode=min"],
                 "Config error: optimized_metric: val/loss is the weighted sum of the output losses, which a "
                 "search over ['model.outputs.digit.weight'] would minimise by shrinking the weights",
                 marks=pytest.mark.slow),  # check_objective's unit test runs by default
])
def test_bad_search_input_is_refused_before_any_trial(train_cli, tmp_path, args, message) -> None:
    result = train_cli(["-m", "experiment=digits", "hparams_search=loss_weights", *args], tmp_path)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "digits" / "optuna" / "loss_weights" / "0").exists()


@pytest.mark.slow
def test_trials_in_other_processes_prune_through_the_storage(train_cli, tiny, tmp_path) -> None:
    """Two trials at once in two processes (submitit's local launcher): each finds its
    trial in the SQLite study and is pruned from there."""
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    result = train_cli(["-m", *tiny, *QUICK, "hydra.sweeper.n_jobs=2",
                        "hydra/launcher=submitit_local", "hydra.sweeper.pruner=null",
                        "+hydra.sweeper.pruner={_target_:optuna.pruners.ThresholdPruner,lower:2.0}"],
                       tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    trials = study_of(tmp_path / "digits" / "optuna" / "loss_weights").trials
    assert [t.state.name for t in trials] == ["PRUNED", "PRUNED"]
    assert all(list(t.intermediate_values) == [0] for t in trials)


def test_a_study_samples_lists_and_presets(train_cli, tiny, tmp_path) -> None:
    """A choice of lists reaches the trial as a list, a preset choice as a preset."""
    result = train_cli(["-m", *tiny, *QUICK, "hydra.sweeper.study_name=shapes", "hydra.sweeper.weights=null",
                        "hydra.sweeper.n_trials=2", "model.blocks.features.channels=choice([8,16],[4])",
                        "hydra.sweeper.sampler=null",
                        "+hydra.sweeper.sampler={_target_:optuna.samplers.BruteForceSampler,seed:0}"],
                       tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    folder = tmp_path / "digits" / "optuna" / "shapes"
    for trial in study_of(folder, "shapes").trials:
        assert trial.state.name == "COMPLETE"
        config = OmegaConf.load(folder / str(trial.number) / ".hydra" / "config.yaml")
        assert str(list(config.model.blocks.features.channels)).replace(" ", "") == \
            trial.params["model.blocks.features.channels"]
