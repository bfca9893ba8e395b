"""Resuming loses nothing: `last.ckpt` is every epoch's state, a killed run continues in its
folder, and a resumed run reaches the weights of one that was never stopped.

Every run goes through `train.py` as the README's commands do, with the default loggers and
callbacks (CSV and wandb offline, best and last checkpoints)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
from tests.train.conftest import ROOT, fresh_env

from plait.train.resume import resume_point

DIGITS = ["train.py", "experiment=digits"]


def _start(args: list[str], logs: Path) -> subprocess.Popen:
    env = {**fresh_env(logs), "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, *args, f"paths.log_dir={logs}"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _train(args: list[str], logs: Path) -> str:
    proc = _start(args, logs)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out[-3000:]
    return out


def _stop_at(proc: subprocess.Popen, line_start: str, sig: int, delay: float = 0.0) -> str:
    """Send `sig` `delay` seconds after a line starting with `line_start` is printed; the
    output until exit."""
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if line.startswith(line_start):
            time.sleep(delay)
            proc.send_signal(sig)
            break
    rest, _ = proc.communicate(timeout=120)
    return "".join(seen) + rest


def _runs(logs: Path, task: str = "digits") -> list[Path]:
    return sorted((logs / task / "runs").iterdir())


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu", weights_only=True)["state_dict"]


def _assert_same_weights(a: Path, b: Path) -> None:
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    for key in wa:
        torch.testing.assert_close(wa[key], wb[key], rtol=0, atol=0, msg=key)


def test_a_killed_run_resumes_in_its_folder_losing_at_most_one_epoch(tmp_path) -> None:
    logs = tmp_path / "logs"
    out = _stop_at(_start([*DIGITS, "trainer.max_epochs=6"], logs), "epoch 3/6", signal.SIGKILL)
    assert "epoch 3/6" in out
    [run] = _runs(logs)
    saved = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)  # whole, never half-written
    assert saved["epoch"] >= 1  # epoch index 2 was printed; its checkpoint may not be written yet

    out = _train([*DIGITS, "trainer.max_epochs=6", "resume=auto"], logs)
    assert _runs(logs) == [run]  # the same folder
    assert f"continuing run {run}" in out
    epochs = [line.split()[1] for line in out.splitlines() if line.startswith("epoch ")]
    assert epochs[0] == f"{saved['epoch'] + 2}/6" and epochs[-1] == "6/6"
    metrics = pd.read_csv(run / "csv" / "metrics.csv")
    val_epochs = metrics.loc[metrics["val/digit/acc"].notna(), "epoch"].tolist()
    assert val_epochs == [0, 1, 2, 3, 4, 5]  # no row lost, none twice
    assert metrics["test/digit/acc"].notna().sum() == 1
    wandb_runs = sorted((run / "wandb").glob("offline-run-*"))
    assert len(wandb_runs) == 2 and len({w.name.rsplit("-", 1)[1] for w in wandb_runs}) == 1  # one run id
    assert (run / ".plait" / "finished").is_file()

    _train([*DIGITS, "trainer.max_epochs=1", "resume=auto"], logs)  # nothing unfinished: a new run
    assert len(_runs(logs)) == 2
    assert _weights(run / "checkpoints" / "last.ckpt").keys()  # the finished run is untouched


PLATEAU = ["scheduler=plateau", "model.scheduler.patience=0", "model.scheduler.threshold_mode=abs",
           "model.scheduler.threshold=10"]  # lowers the lr after every epoch but the first


def test_a_resumed_run_reaches_the_weights_of_an_uninterrupted_one(tmp_path) -> None:
    """With dropout, an adaptive balancer and a plateau schedule, so random state, balancer
    state and a schedule stepped after the epoch's checkpoint would be saved all count."""
    model = ["model.blocks.features.dropout=0.5", "model.loss_balancing=dwa", "logger=csv", *PLATEAU]
    _train([*DIGITS, *model, "trainer.max_epochs=3"], tmp_path / "whole")
    _train([*DIGITS, *model, "trainer.max_epochs=2"], tmp_path / "parts")
    [first] = _runs(tmp_path / "parts")
    out = _train([*DIGITS, *model, "trainer.max_epochs=3",
                  f"ckpt_path={first / 'checkpoints' / 'last.ckpt'}"], tmp_path / "parts")
    assert "has finished; its checkpoint" in out  # a finished run is continued in a new folder
    [whole], [_, resumed] = _runs(tmp_path / "whole"), _runs(tmp_path / "parts")
    _assert_same_weights(whole / "checkpoints" / "last.ckpt", resumed / "checkpoints" / "last.ckpt")


def test_sigterm_saves_the_state_mid_epoch_and_the_resumed_run_loses_nothing(tmp_path) -> None:
    """Dropout (the random state) and a plateau schedule that lowers the lr after every epoch
    but the first: a schedule started afresh would see epoch 2 as an improvement on nothing,
    keep the lr, and train epoch 3 ten times faster than the run never stopped."""
    model = ["model.blocks.features.dropout=0.5", "data.batch_size=8", "trainer.max_epochs=3", *PLATEAU]
    _train([*DIGITS, *model], tmp_path / "whole")
    proc = _start([*DIGITS, *model], tmp_path / "parts")
    out = _stop_at(proc, "epoch 1/3", signal.SIGTERM, delay=0.3)  # into the second epoch
    assert proc.returncode == 128 + signal.SIGTERM, out[-3000:]  # a stopped run has not succeeded
    [run] = _runs(tmp_path / "parts")
    assert "interrupted at epoch 1, step" in out
    saved = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    assert saved["global_step"] % 158 != 0  # 158 steps an epoch: stopped within one
    assert not (run / ".plait" / "finished").exists()

    _train([*DIGITS, *model, f"ckpt_path={run / 'checkpoints' / 'last.ckpt'}"], tmp_path / "parts")
    assert _runs(tmp_path / "parts") == [run]
    [whole] = _runs(tmp_path / "whole")
    _assert_same_weights(whole / "checkpoints" / "last.ckpt", run / "checkpoints" / "last.ckpt")


@pytest.mark.slow
def test_a_balancer_resumed_mid_epoch_learns_from_the_whole_epoch(tmp_path) -> None:
    """`dwa` weighs each output by how its epoch-mean loss fell: the checkpoint carries the
    epoch's loss sums so far, so the resumed run's weights are the uninterrupted run's."""
    args = ["train.py", "experiment=adult_multitask", "trainer.max_epochs=3", "model.loss_balancing=dwa"]
    _train(args, tmp_path / "whole")
    proc = _start(args, tmp_path / "parts")
    out = _stop_at(proc, "epoch 1/3", signal.SIGTERM, delay=0.5)  # into the second epoch
    assert proc.returncode == 128 + signal.SIGTERM, out[-3000:]
    [run] = _runs(tmp_path / "parts", "adult_multitask")
    saved = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)
    assert saved["plait"]["train_epoch"]["examples"] > 0  # stopped within an epoch
    _train([*args, f"ckpt_path={run / 'checkpoints' / 'last.ckpt'}"], tmp_path / "parts")
    [whole] = _runs(tmp_path / "whole", "adult_multitask")
    _assert_same_weights(whole / "checkpoints" / "last.ckpt", run / "checkpoints" / "last.ckpt")


@pytest.mark.slow
def test_ctrl_c_saves_the_state_mid_epoch_and_exits_non_zero(tmp_path) -> None:
    """Ctrl-C (SIGINT) in the second epoch: `last.ckpt` holds the step reached, the run is
    not marked finished, the exit code is not 0, and `resume=auto` would continue it."""
    args = [*DIGITS, "data.batch_size=8", "trainer.max_epochs=3"]
    proc = _start(args, tmp_path)
    out = _stop_at(proc, "epoch 1/3", signal.SIGINT, delay=0.3)  # into the second epoch
    assert proc.returncode not in (0, None), out[-3000:]
    [run] = _runs(tmp_path)
    assert "interrupted at epoch 1, step" in out
    saved = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    assert saved["global_step"] > 158 and saved["global_step"] % 158 != 0  # within the second
    assert not (run / ".plait" / "finished").exists()
    assert resume_point(run) == run / "checkpoints" / "last.ckpt"


def test_sigterm_while_testing_fails_the_run_with_143(tmp_path) -> None:
    """Lightning ends a test stopped by SIGTERM as if it had succeeded (exit code 0); the
    run has not, and a scheduler or a sweep must see that."""
    args = [*DIGITS, "trainer.max_epochs=1", "trainer.limit_train_batches=2", "logger=csv",
            "+callbacks.term._target_=tests.train.interrupt.TermDuringTest"]
    proc = _start(args, tmp_path)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 128 + signal.SIGTERM, out[-3000:]
    [run] = _runs(tmp_path)
    assert not (run / ".plait" / "finished").exists()


def test_every_n_train_steps_keeps_the_state_within_an_epoch(tmp_path) -> None:
    args = [*DIGITS, "data.batch_size=8", "trainer.max_epochs=3", "logger=csv",
            "callbacks.last_checkpoint.every_n_train_steps=5"]
    _stop_at(_start(args, tmp_path), "epoch 1/3", signal.SIGKILL, delay=0.3)  # into the second epoch
    [run] = _runs(tmp_path)
    step = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["global_step"]
    assert step % 5 == 0 and step > 158  # 158 steps an epoch: saved within the second
