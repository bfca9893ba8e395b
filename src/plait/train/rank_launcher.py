"""Start the ranks of a multi-process run on one node from one resolved config.

Lightning starts the other ranks of a DDP run by running the command line again. Under a
Hydra multirun that runs the whole sweep again, and a sampling sweeper (Optuna) hands each
rank different values. plait starts the ranks itself instead: rank 0 resolves the config
once, writes it into the run folder and starts ranks 1..N-1 on that file (`run_rank`).
`LOCAL_RANK` in every rank's environment tells Lightning that the processes exist already.
Lightning's own launcher is kept out of the way rather than subclassed: it watches its ranks
by killing the main process when one fails (a whole sweep, with no word of which rank), and
leaves `LOCAL_RANK` set for the next run of a multirun. Under torchrun or SLURM the
processes are started outside, and this module does nothing, but for submitit's local
executor, whose tasks it tells their ranks (`adopt_submitit_tasks`).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.strategies.launchers.subprocess_script import _SubprocessScriptLauncher
from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig, OmegaConf

from plait.train.errors import ConfigError, RankError

# How long the ranks that still run get to finish after one has failed, before they are stopped.
GRACE_SECONDS = 30.0
# A rank's command: `-c`, not `-m`, as `plait.train` imports this module (runpy would warn).
RANK_COMMAND = "import sys; from plait.train.rank_launcher import run_rank; run_rank(sys.argv[1])"


def run_rank(config_path: str) -> None:
    """The body of ranks 1..N-1: train on the config file rank 0 wrote, then close the
    process group, whose threads, left to the interpreter's exit, can abort the process
    (`terminate called without an active exception`, exit code -6) after a good run."""
    from plait.train.fit import train

    try:
        train(OmegaConf.load(config_path))
    finally:
        _leave_group()


def adopt_submitit_tasks() -> None:
    """Give a task of submitit's local executor the variables torchrun gives its processes.

    On SLURM, Lightning reads each task's rank from SLURM's variables. submitit's local
    executor (`hydra/launcher=local`, the SLURM path on one machine) sets only its own
    `SUBMITIT_LOCAL_*` ones, so without this every task would believe it is alone. With
    `RANK`, `LOCAL_RANK`, `WORLD_SIZE`, `GROUP_RANK`, `MASTER_ADDR` and `MASTER_PORT`
    set, Lightning takes the processes as started outside (its TorchElastic environment)
    and checks that their number equals `devices * num_nodes`. Call it before the Trainer
    is made; elsewhere it does nothing.
    """
    if "SUBMITIT_LOCAL_JOB_ID" not in os.environ or "RANK" in os.environ:
        return
    from submitit.helpers import TorchDistributedEnvironment

    # Every task sees every device, as under SLURM: Lightning picks the local rank's own.
    TorchDistributedEnvironment().export(set_cuda_visible_devices=False)
    os.environ["GROUP_RANK"] = os.environ.get("SUBMITIT_LOCAL_NODEID", "0")


def would_relaunch(trainer: L.Trainer) -> bool:
    """Whether Lightning would start this node's other ranks by running the command again."""
    strategy = trainer.strategy
    return (isinstance(getattr(strategy, "launcher", None), _SubprocessScriptLauncher)
            and not strategy.cluster_environment.creates_processes_externally)


@contextlib.contextmanager
def node_ranks(trainer: L.Trainer, cfg: DictConfig) -> Iterator[None]:
    """Run the block as local rank 0 while ranks 1..N-1 of this node train on `cfg` too.

    Raises:
        ConfigError: more CPU processes than cores, or a main port already in use.
        RankError: another rank exited with an error; the others are stopped.
    """
    if not would_relaunch(trainer):  # one process, or ranks started outside (torchrun, SLURM)
        yield  # after an error, leave the group to them: closing it may wait on a dead rank
        _leave_group()
        return
    per_node, nodes = trainer.num_devices, trainer.num_nodes
    if trainer.accelerator.__class__.__name__ == "CPUAccelerator" and per_node > (os.cpu_count() or 1):
        raise ConfigError(f"trainer.devices: {per_node} CPU processes asked for, but this machine has "
                          f"{os.cpu_count()} cores; ask for at most that many")
    node = int(os.environ.get("NODE_RANK", os.environ.get("GROUP_RANK", 0)))
    address = os.environ.get("MASTER_ADDR", "127.0.0.1")
    port = main_port(address, os.environ.get("MASTER_PORT"), node)
    config = Path(cfg.paths.output_dir) / ".plait" / "rank_config.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    OmegaConf.save(OmegaConf.create(OmegaConf.to_container(cfg, resolve=True)), config)
    shared = {"NODE_RANK": str(node), "WORLD_SIZE": str(per_node * nodes),
              "MASTER_ADDR": address, "MASTER_PORT": str(port)}
    with _environ({**shared, "LOCAL_RANK": "0", "RANK": str(node * per_node)}):
        rank_zero_only.rank = node * per_node
        procs = {node * per_node + i: subprocess.Popen(
            [sys.executable, "-c", RANK_COMMAND, str(config)],
            env={**os.environ, "LOCAL_RANK": str(i), "RANK": str(node * per_node + i)})
            for i in range(1, per_node)}
        watcher = _Watcher(procs)
        try:
            yield
        except BaseException as err:
            failed = watcher.failure() or _first_failure(procs)
            _stop(procs)
            if failed:
                raise RankError(failed) from err
            raise
        finally:
            watcher.done.set()
            _leave_group()
        _wait(procs)


def _leave_group() -> None:
    """Close this process's group: the next run of a multirun forms its own, with new ranks,
    and no thread of the group is left to the interpreter's exit, where it can abort a rank
    that has finished well (exit code -6)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def main_port(address: str, port: str | None, node: int) -> int:
    """The port rank 0 listens on: the one given (checked free on the main node), else a free one."""
    if port is None:
        with socket.socket() as probe:
            probe.bind(("", 0))
            return probe.getsockname()[1]
    if node == 0:
        with socket.socket() as probe:
            try:
                probe.bind(("", int(port)))
            except OSError as err:
                raise ConfigError(f"MASTER_PORT: port {port} on {address} is in use ({err.strerror}); "
                                  "choose a free one, or leave MASTER_PORT unset on one node") from None
    return int(port)


class _Watcher(threading.Thread):
    """Stops every rank once one has failed, so no rank waits forever on a dead peer."""

    def __init__(self, procs: dict[int, subprocess.Popen]) -> None:
        super().__init__(daemon=True)
        self.procs, self.done, self._failure = procs, threading.Event(), ""
        self.start()

    def failure(self) -> str:
        return self._failure

    def run(self) -> None:
        while not self.done.wait(0.5):
            for rank, proc in self.procs.items():
                code = proc.poll()
                if code not in (None, 0):
                    self._failure = f"rank {rank} (pid {proc.pid}) exited with code {code}; stopped the other ranks"
                    print(f"plait: {self._failure}", file=sys.stderr, flush=True)
                    _stop(self.procs)
                    if not self.done.wait(GRACE_SECONDS):  # rank 0 is stuck in a collective
                        print("plait: rank 0 did not stop; exiting", file=sys.stderr, flush=True)
                        os._exit(1)
                    return


def _first_failure(procs: dict[int, subprocess.Popen], wait: float = 5.0) -> str:
    """The first rank that exited with an error, given a moment to exit after a collective broke."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        for rank, proc in procs.items():
            if proc.poll() not in (None, 0):
                return f"rank {rank} (pid {proc.pid}) exited with code {proc.returncode}; stopped the other ranks"
        time.sleep(0.1)
    return ""


def _stop(procs: dict[int, subprocess.Popen]) -> None:
    for proc in procs.values():
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + 10
    for proc in procs.values():
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()


def _wait(procs: dict[int, subprocess.Popen]) -> None:
    """Wait for the other ranks to finish; a failure among them fails the run."""
    for rank, proc in procs.items():
        try:
            code = proc.wait(GRACE_SECONDS * 4)
        except subprocess.TimeoutExpired:
            _stop(procs)
            raise RankError(f"rank {rank} (pid {proc.pid}) did not finish after rank 0 did; stopped it") from None
        if code != 0:
            raise RankError(f"rank {rank} (pid {proc.pid}) exited with code {code}")


@contextlib.contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the block; restore them after (a multirun runs on)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        rank_zero_only.rank = 0
