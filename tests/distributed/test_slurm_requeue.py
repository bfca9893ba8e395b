"""A SLURM job preempted and requeued resumes where it stopped, in the same run folder.

SLURM is simulated: its environment variables, and an `scontrol` on PATH that records the
requeue it is asked for. Lightning's SLURM environment does the rest, as on a cluster:
SIGUSR1 saves `hpc_ckpt_1.ckpt` and requeues; the job, started again, restores it, and its
test runs the weights it says, not that preemption checkpoint."""

import os
import signal
import subprocess
import sys

import pandas as pd
import pytest
from tests.digits_split import digits_split
from tests.distributed.conftest import ROOT

from plait import load_checkpoint

SLURM = {"SLURM_NTASKS": "1", "SLURM_JOB_NAME": "plait", "SLURM_JOB_ID": "4242", "SLURM_PROCID": "0",
         "SLURM_LOCALID": "0", "SLURM_NODEID": "0", "SLURM_NODELIST": "127.0.0.1"}


@pytest.mark.parametrize("test", ["best", pytest.param("last", marks=pytest.mark.slow)])
def test_a_requeued_job_resumes_from_its_checkpoint_and_keeps_its_metrics(tmp_path, test):
    """The resumed job also continues its wandb run: both starts use one run id. `test=last`
    tests the weights training ended with (given no checkpoint, Lightning would test the
    preemption checkpoint instead)."""
    scontrol = tmp_path / "bin" / "scontrol"
    scontrol.parent.mkdir()
    scontrol.write_text('#!/bin/sh\necho "$@" >> "$SCONTROL_LOG"\n')
    scontrol.chmod(0o755)
    requeued = tmp_path / "requeued.txt"
    env = {**os.environ, **SLURM, "PATH": f"{scontrol.parent}:{os.environ['PATH']}",
           "SCONTROL_LOG": str(requeued), "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1",
           "WANDB_MODE": "offline"}
    run = tmp_path / "run"
    command = [sys.executable, "train.py", "experiment=digits", "logger=wandb", "trainer.max_epochs=3",
               f"test={'last' if test == 'last' else 'true'}", f"hydra.run.dir={run}"]

    job = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in job.stdout:
        if line.startswith("epoch 1/3"):
            job.send_signal(signal.SIGUSR1)  # what SLURM sends before preempting (signal=USR1@90)
        if requeued.is_file():
            break
    job.kill()  # SLURM ends the job it requeued
    job.wait(timeout=60)
    assert requeued.read_text().split() == ["requeue", "4242"]
    assert (run / "hpc_ckpt_1.ckpt").is_file()

    again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"Restored all states from the checkpoint at {run / 'hpc_ckpt_1.ckpt'}" in again.stdout + again.stderr
    assert "epoch 1/3" not in again.stdout and "epoch 3/3" in again.stdout
    metrics = pd.read_csv(run / "csv" / "metrics.csv")
    assert sorted(metrics["val/digit/acc"].dropna().index.map(metrics["epoch"])) == [0, 1, 2]  # epoch 0 kept
    assert metrics["test/digit/acc"].notna().sum() == 1
    # the weights tested: the best epoch's, or the last (as last.ckpt keeps them), never hpc_ckpt_1's
    [tested] = [line for line in (again.stdout + again.stderr).splitlines() if "Loaded model weights" in line]
    assert "hpc_ckpt" not in tested
    checkpoint = run / "checkpoints" / "last.ckpt" if test == "last" else next((run / "checkpoints").glob("epoch_*"))
    assert metrics["test/loss"].dropna().item() == pytest.approx(load_checkpoint(checkpoint).evaluate(*digits_split("test"))["test/loss"], rel=1e-5)
    assert not (run / ".plait" / "last_weights.ckpt").exists()  # written for the test, then removed
    starts = sorted((run / "wandb").glob("offline-run-*"))
    assert len(starts) == 2 and len({start.name.rsplit("-", 1)[1] for start in starts}) == 1  # one wandb run
