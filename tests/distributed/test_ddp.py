"""Multi-process training on this CPU (gloo): same results as one process, every rank on
one config, in single runs, multiruns and a two-node run simulated on localhost. The runs
log as a user's do, to CSV and wandb (offline: no key here); rank 0 alone logs."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pandas as pd
import pytest
import torch
from omegaconf import OmegaConf
from tests.distributed.conftest import ROOT, last_weights, leftover_ranks, train


@pytest.fixture
def quick() -> list[str]:
    """conftest's `quick` with the default loggers (CSV + wandb) instead of `logger=csv`:
    a user's multi-process run logs to both, and wandb must work on every rank."""
    return ["experiment=digits", "trainer.max_epochs=2"]


def wandb_runs(run: Path) -> list[Path]:
    return sorted((run / "wandb").glob("offline-run-*"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("", 0))
        return probe.getsockname()[1]


def test_two_processes_reach_the_weights_and_metrics_of_one(tmp_path, quick):
    one = train(*quick, "trainer=cpu", "data.batch_size=64", f"hydra.run.dir={tmp_path / 'one'}")
    two = train(*quick, "trainer=ddp_cpu", "data.batch_size=32", f"hydra.run.dir={tmp_path / 'two'}")
    assert one.returncode == 0, one.stderr[-3000:]
    assert two.returncode == 0, two.stderr[-3000:]
    a, b = last_weights(tmp_path / "one"), last_weights(tmp_path / "two")
    for key in a:
        torch.testing.assert_close(a[key], b[key], atol=1e-4, rtol=1e-4)
    metrics = [pd.read_csv(tmp_path / run / "csv" / "metrics.csv") for run in ("one", "two")]
    # epoch means of every rank's examples (a buffer DDP broadcasts from rank 0 would not be)
    for name in ("train/loss", "train/digit/loss", "train/digit/acc", "val/digit/acc", "val/loss",
                 "test/digit/acc", "test/loss"):
        values = [m[name].dropna().iloc[-1] for m in metrics]
        assert values[0] == pytest.approx(values[1], rel=1e-5), name
    # the validation split (180) and test split (359) end in uneven last batches
    assert not (tmp_path / "two" / "csv" / "rank_1").exists()
    assert len(wandb_runs(tmp_path / "two")) == 1
    assert leftover_ranks() == []


def test_two_processes_log_once_to_csv_and_wandb(tmp_path):
    """The default loggers on two ranks: one CSV log, one wandb run, its id the folder's,
    the graph files in it. Rank 1 gets Lightning's DummyExperiment and logs nothing."""
    result = train("experiment=digits", "trainer=ddp_cpu", "trainer.devices=2", "trainer.max_epochs=1",
                   "trainer.limit_train_batches=2", "trainer.limit_val_batches=2", "test=false",
                   f"hydra.run.dir={tmp_path}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(pd.read_csv(tmp_path / "csv" / "metrics.csv")["val/digit/acc"].dropna()) == 1
    [run] = wandb_runs(tmp_path)
    assert run.name.endswith("-" + (tmp_path / ".plait" / "wandb_run_id").read_text().strip())
    assert {"graph.txt", "graph.dot", "graph.mmd"} <= {p.name for p in (run / "files").iterdir()}
    assert leftover_ranks() == []


def test_a_multirun_gives_every_rank_of_a_trial_that_trial_s_values(tmp_path, quick):
    result = train("-m", *quick, "trainer=ddp_cpu", "trainer.max_epochs=1", "model.optimizer.lr=0.001,0.01",
                   f"hydra.sweep.dir={tmp_path}", timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    # every rank checked its config against the others (SameConfigOnEveryRank) and agreed
    for trial, lr in (("0", 0.001), ("1", 0.01)):
        config = (tmp_path / trial / ".plait" / "rank_config.yaml").read_text()
        assert f"lr: {lr}" in config
        assert (tmp_path / trial / "csv" / "metrics.csv").is_file()
        assert len(wandb_runs(tmp_path / trial)) == 1  # each trial its own wandb run
    assert leftover_ranks() == []


@pytest.mark.slow  # 12 s; the default suite keeps the other DDP error paths
def test_ranks_with_different_configs_refuse_to_train(tmp_path, quick):
    port = str(free_port())
    env = {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": port}
    common = [*quick, "trainer=ddp_cpu", "trainer.devices=1", "trainer.num_nodes=2"]
    nodes = [subprocess.Popen([sys.executable, "train.py", *common, f"model.optimizer.lr={lr}",
                               f"hydra.run.dir={tmp_path / str(rank)}"], cwd=ROOT, text=True,
                              env={**os.environ, **env, "NODE_RANK": str(rank), "OMP_NUM_THREADS": "1"},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
             for rank, lr in ((0, 0.001), (1, 0.002))]
    outputs = [node.communicate(timeout=300)[0] for node in nodes]
    assert all(node.returncode != 0 for node in nodes)
    assert "ranks disagree on the config" in outputs[0] + outputs[1]


@pytest.mark.slow  # about 15 s: two nodes of one process each; one node of two runs by default
def test_two_nodes_simulated_on_localhost(tmp_path, quick):
    env = {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(free_port())}
    common = [*quick, "trainer=ddp_cpu", "trainer.devices=1", "trainer.num_nodes=2", "data.batch_size=32"]
    nodes = [subprocess.Popen([sys.executable, "train.py", *common, f"hydra.run.dir={tmp_path / str(rank)}"],
                              cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              env={**os.environ, **env, "NODE_RANK": str(rank), "OMP_NUM_THREADS": "1"})
             for rank in (0, 1)]
    outputs = [node.communicate(timeout=300)[0] for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], outputs[0][-2000:] + outputs[1][-2000:]
    assert (tmp_path / "0" / "csv" / "metrics.csv").is_file()  # the global rank 0 logs
    assert len(wandb_runs(tmp_path / "0")) == 1
    assert not (tmp_path / "1" / "csv" / "metrics.csv").exists()  # the other node does not
    assert not (tmp_path / "1" / "wandb").exists()
    one = train(*quick, "trainer=cpu", "data.batch_size=64", f"hydra.run.dir={tmp_path / 'one'}")
    assert one.returncode == 0, one.stderr[-3000:]
    a, b = last_weights(tmp_path / "one"), last_weights(tmp_path / "0")
    for key in a:
        torch.testing.assert_close(a[key], b[key], atol=1e-4, rtol=1e-4)


def test_a_rank_that_dies_fails_the_run_quickly_and_names_it(tmp_path, quick):
    start = time.monotonic()
    result = train(*quick, "trainer=ddp_cpu", f"hydra.run.dir={tmp_path}",
                   "+callbacks.crash._target_=tests.distributed.crash.CrashOnRank", "+callbacks.crash.rank=1")
    assert result.returncode != 0
    assert "Training stopped: rank 1 (pid" in result.stderr and "exited with code 1" in result.stderr
    assert "RuntimeError" in result.stderr  # the rank's own error, from its own output
    assert time.monotonic() - start < 120
    assert leftover_ranks() == []


def test_more_cpu_processes_than_cores_is_refused():
    result = train("experiment=digits", "trainer=ddp_cpu", "trainer.devices=64", "hydra.run.dir=/tmp/plait-too-many")
    assert result.returncode != 0
    assert "trainer.devices: 64 CPU processes asked for, but this machine has" in result.stderr


def test_a_main_port_in_use_is_refused():
    with socket.socket() as busy:
        busy.bind(("", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = train("experiment=digits", "trainer=ddp_cpu", "hydra.run.dir=/tmp/plait-port",
                       env={"MASTER_PORT": str(port)})
    assert result.returncode != 0
    assert f"MASTER_PORT: port {port} on 127.0.0.1 is in use" in result.stderr


def test_torchrun_starts_the_ranks_and_plait_starts_none(tmp_path, quick):
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node=2", "train.py"]
    result = subprocess.run([*torchrun, *quick, "trainer=ddp_cpu", "data.batch_size=32", f"hydra.run.dir={tmp_path}"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert not (tmp_path / ".plait" / "rank_config.yaml").exists()  # torchrun started them, not plait
    assert (tmp_path / "csv" / "metrics.csv").is_file()
    # the two processes made their loggers side by side; the one wandb run has the folder's id
    [run] = wandb_runs(tmp_path)
    assert run.name.endswith("-" + (tmp_path / ".plait" / "wandb_run_id").read_text().strip())


def test_an_optuna_trial_trains_on_two_processes_with_its_sampled_values(tmp_path, quick):
    """The sampling sweeper asks once per trial; both ranks of the trial train on that ask."""
    result = train("-m", *quick, "trainer=ddp_cpu", "trainer.max_epochs=1", "hparams_search=loss_weights",
                   "hydra.sweeper.n_trials=2", "hydra.sweeper.weights=null", "test=false",
                   "+hydra.sweeper.params={model.optimizer.lr:'tag(log, interval(1e-4, 1e-1))'}",
                   f"paths.log_dir={tmp_path}", timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    folder = tmp_path / "digits" / "optuna" / "loss_weights"
    study = optuna.load_study(study_name="loss_weights", storage=f"sqlite:///{folder / 'optuna.db'}")
    assert [t.state.name for t in study.trials] == ["COMPLETE", "COMPLETE"]
    for trial in study.trials:  # rank 0 wrote the trial's config; every rank trained on it
        ranks = OmegaConf.load(folder / str(trial.number) / ".plait" / "rank_config.yaml")
        assert ranks.model.optimizer.lr == pytest.approx(trial.params["model.optimizer.lr"])
        assert trial.intermediate_values  # rank 0 reported to the study
    assert study.trials[0].params != study.trials[1].params
    assert leftover_ranks() == []


@pytest.mark.slow  # about 20 s; the launcher path of SLURM, run before resolving an issue
def test_submitit_local_runs_each_trial_as_a_two_task_job(tmp_path, quick):
    """hydra/launcher=local: the SLURM path on this machine, one submitit task per rank."""
    result = train("-m", *quick, "trainer=ddp_cpu", "trainer.max_epochs=1", "hydra/launcher=local",
                   "model.optimizer.lr=0.001,0.01", f"hydra.sweep.dir={tmp_path}", timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = sorted((tmp_path / ".submitit").glob("[0-9]*"))
    assert len(jobs) == 2
    for job in jobs:  # each job is two tasks, and the two are one process group
        logs = [(job / f"{job.name}_{task}_log.err").read_text() for task in (0, 1)]
        assert "GLOBAL_RANK: 0, MEMBER: 1/2" in logs[0]
        assert "GLOBAL_RANK: 1, MEMBER: 2/2" in logs[1]
    for trial, lr in (("0", 0.001), ("1", 0.01)):
        config = OmegaConf.load(tmp_path / trial / ".hydra" / "config.yaml")
        assert config.model.optimizer.lr == lr
        assert not (tmp_path / trial / ".plait" / "rank_config.yaml").exists()  # submitit started them
        assert len(pd.read_csv(tmp_path / trial / "csv" / "metrics.csv")["val/digit/acc"].dropna()) == 1
        [run] = wandb_runs(tmp_path / trial)  # the two tasks agreed on the trial's run id
        assert run.name.endswith("-" + (tmp_path / trial / ".plait" / "wandb_run_id").read_text().strip())


@pytest.mark.slow  # about 23 s: two 2-process runs
def test_a_branch_without_gradient_in_a_step_does_not_stop_ddp(tmp_path, quick):
    """Two branches that take turns (tests/distributed/branching.py): in every step one of
    them gets no gradient. DDP waits for it unless told it may go unused, as the configs do."""
    turns = ["+model.blocks.turns={_target_:tests.distributed.branching.TakingTurns,features:64}",
             '+model.nodes.turned="turns(features)"', 'model.nodes.digit="classify(turned)"']
    result = train(*quick, "trainer=ddp_cpu", "data.batch_size=32", *turns, f"hydra.run.dir={tmp_path / 'ok'}")
    assert result.returncode == 0, result.stderr[-3000:]
    weights = last_weights(tmp_path / "ok")
    assert not torch.equal(weights["graph.blocks.turns.branches.0.weight"],
                           weights["graph.blocks.turns.branches.1.weight"])
    strict = train(*quick, "trainer=ddp_cpu", "data.batch_size=32", *turns,
                   "trainer.strategy.find_unused_parameters=false", f"hydra.run.dir={tmp_path / 'strict'}")
    assert strict.returncode != 0 and "were not used in producing the loss" in strict.stderr + strict.stdout
    assert leftover_ranks() == []
