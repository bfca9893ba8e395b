"""wandb never asks: offline without a key, online with one; CSV always.
wandb never holds a run hostage: a server that does not answer means offline, in seconds."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pty
import re
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from lightning.pytorch.loggers import WandbLogger
from lightning.pytorch.utilities import rank_zero_only

from plait.train import has_wandb_key, wandb_logger
from plait.train.loggers import PROBE_SECONDS, log_run, run_id, wandb_offline
from plait.train.probe import unreachable


def test_no_key_means_offline(tmp_path) -> None:
    assert not has_wandb_key()
    assert wandb_offline(None) and wandb_offline(False)  # never online without a key
    logger = wandb_logger(save_dir=str(tmp_path / "run"), project="p")
    assert isinstance(logger, WandbLogger) and logger._offline
    assert (tmp_path / "run").is_dir()


def test_env_key_means_online(monkeypatch) -> None:
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    assert has_wandb_key() and not wandb_offline(None)
    assert wandb_offline(True)
    monkeypatch.setenv("WANDB_MODE", "offline")
    assert wandb_offline(None)


def test_netrc_key_means_online(monkeypatch, tmp_path) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine api.wandb.ai\n  login user\n  password " + "k" * 40 + "\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    assert has_wandb_key()
    monkeypatch.setenv("WANDB_BASE_URL", "https://wandb.example.com")
    assert not has_wandb_key()  # the entry is for another host


def test_terminal_without_key_never_prompts(tmp_path, repo_root, clean_env) -> None:
    """On a terminal with no key, wandb's login prompt would wait forever: it must not appear."""
    env = {**clean_env, "TERM": "dumb"}
    leader, follower = pty.openpty()
    args = [sys.executable, "train.py", "experiment=digits", "trainer.max_epochs=1",
            "data.limit=64", "test=false", f"hydra.run.dir={tmp_path}"]
    proc = subprocess.Popen(args, cwd=repo_root, env=env, stdin=follower, stdout=follower,
                            stderr=follower, close_fds=True)
    os.close(follower)
    output = _drain(leader, proc, timeout=240)
    assert proc.returncode == 0, output[-3000:]
    assert "API key" not in output and "wandb login" not in output
    assert list((tmp_path / "wandb").glob("offline-run-*"))
    assert not any(line.startswith("epoch 1/1") for line in output.splitlines())  # a bar instead


def _drain(fd: int, proc: subprocess.Popen, timeout: float) -> str:
    chunks, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1.0)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    else:
        proc.kill()
        pytest.fail("train.py on a terminal did not finish: blocked on a prompt?")
    proc.wait(timeout=30)
    os.close(fd)
    return b"".join(chunks).decode(errors="replace")


def test_a_run_started_again_in_its_folder_continues_its_wandb_run(tmp_path) -> None:
    first = wandb_logger(save_dir=str(tmp_path / "run"), project="p")
    again = wandb_logger(save_dir=str(tmp_path / "run"), project="p")
    other = wandb_logger(save_dir=str(tmp_path / "other"), project="p")
    ids = [logger._wandb_init["id"] for logger in (first, again, other)]
    assert ids[0] == ids[1] != ids[2]
    assert (tmp_path / "run" / ".plait" / "wandb_run_id").read_text().strip() == ids[0]
    assert first._wandb_init["resume"] == "allow"
    chosen = wandb_logger(save_dir=str(tmp_path / "run"), project="p", id="mine")
    assert chosen._wandb_init["id"] == "mine"


def test_ranks_started_side_by_side_agree_on_the_run_id(tmp_path) -> None:
    """torchrun, SLURM and submitit start every rank at once, and each makes its loggers
    before it knows its rank: whichever writes the id first, all read that one."""
    context = multiprocessing.get_context("fork")
    start, ids = context.Barrier(4), context.Queue()

    def rank() -> None:
        start.wait()
        ids.put(run_id(str(tmp_path)))

    ranks = [context.Process(target=rank) for _ in range(4)]
    for process in ranks:
        process.start()
    for process in ranks:
        process.join(timeout=60)
    found = {ids.get(timeout=5) for _ in ranks}
    assert found == {(tmp_path / ".plait" / "wandb_run_id").read_text().strip()}
    assert [p.name for p in (tmp_path / ".plait").iterdir()] == ["wandb_run_id"]  # nothing aside


def test_a_rank_other_than_zero_logs_nothing(tmp_path, monkeypatch) -> None:
    """On ranks other than zero Lightning's WandbLogger has a DummyExperiment, every
    attribute of which is a no-op method: logging the run there must do nothing, not fail."""
    monkeypatch.setattr(rank_zero_only, "rank", 1)
    logger = wandb_logger(save_dir=str(tmp_path / "run"), project="p")
    graph = tmp_path / "graph.txt"
    graph.write_text("graph\n")
    log_run([logger], {"seed": 1}, "graph", [graph])
    assert not (tmp_path / "run" / "wandb").exists()


# Only loopback addresses: the servers below stand in for a wandb server out of reach.
LOOPBACK = "127.0.0.1"
QUICK = ["experiment=digits", "trainer.max_epochs=1", "data.limit=64", "test=false"]


@contextlib.contextmanager
def silent_server() -> Iterator[str]:
    """A TCP server on 127.0.0.1 that accepts connections and never answers; its URL."""
    held: list[socket.socket] = []
    stop = threading.Event()
    with socket.create_server((LOOPBACK, 0)) as server:
        server.settimeout(0.2)  # so the thread sees `stop`

        def accept() -> None:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    held.append(server.accept()[0])

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        try:
            yield f"http://{LOOPBACK}:{server.getsockname()[1]}"
        finally:
            stop.set()
            thread.join()
            for connection in held:
                connection.close()


@contextlib.contextmanager
def server_that_answers_only_get() -> Iterator[str]:
    """An HTTP server on 127.0.0.1 that answers GET (the probe) and never answers POST
    (wandb.init's requests): the case that only wandb's own `init_timeout` catches."""
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()

        def do_POST(self) -> None:
            release.wait(120)

        def log_message(self, *args: object) -> None:
            pass

    with ThreadingHTTPServer((LOOPBACK, 0), Handler) as server:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield f"http://{LOOPBACK}:{server.server_address[1]}"
        finally:
            release.set()
            server.shutdown()


def closed_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused."""
    with socket.create_server((LOOPBACK, 0)) as probe:
        return probe.getsockname()[1]


def test_probe_tells_a_refused_port_from_a_silent_server_from_an_answer() -> None:
    start = time.monotonic()
    assert unreachable(f"http://{LOOPBACK}:{closed_port()}", 5) == "Connection refused"
    assert time.monotonic() - start < 4  # refused at once, not after the timeout
    with silent_server() as url:
        start = time.monotonic()
        assert unreachable(url, 1) == "timed out after 1 s"
        assert time.monotonic() - start < 4
    with server_that_answers_only_get() as url:
        assert unreachable(url, 5) is None


def offline_line(output: str) -> str:
    """The one line that says wandb went offline; fails unless there is exactly one."""
    lines = [line for line in output.splitlines() if "logging offline to" in line]
    assert len(lines) == 1, output[-3000:]
    return lines[0]


def unreachable_env(home, url: str, **extra: str) -> dict[str, str]:
    """A fake API key for a server at `url`; a HOME of its own, so no real netrc or wandb
    settings are read; no proxy between the run and the loopback server."""
    proxies = {name: "" for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")}
    return {**proxies, "NO_PROXY": LOOPBACK, "no_proxy": LOOPBACK, "HOME": str(home),
            "WANDB_API_KEY": "k" * 40, "WANDB_BASE_URL": url, **extra}


@pytest.mark.slow  # about 27 s: the probe's 10 s timeout, then wandb's offline start
def test_a_server_that_never_answers_means_offline_in_seconds(tmp_path, run) -> None:
    """A key, but no answer from the server (a compute node without a route): the run
    trains offline after the probe's timeout, and says so in one line."""
    run_dir = tmp_path / "run"
    with silent_server() as url:
        start = time.monotonic()
        result = run(QUICK, run_dir, env=unreachable_env(tmp_path / "home", url), timeout=240)
        seconds = time.monotonic() - start
    assert result.returncode == 0, result.stderr[-3000:]
    assert seconds < 90, f"the run took {seconds:.0f} s"  # a hang guard; wandb alone takes ~100 s
    line = offline_line(result.stdout + result.stderr)
    assert f"wandb: cannot reach {url} (timed out after {PROBE_SECONDS:g} s); logging offline to " in line
    folder = re.search(r"logging offline to (\S+),", line).group(1)
    assert line.endswith(f"upload later with `wandb sync {folder}`")
    assert [str(p) for p in (run_dir / "wandb").glob("offline-run-*")] == [folder]
    assert (run_dir / "csv" / "metrics.csv").is_file()


@pytest.mark.slow  # about 45 s: wandb's own lookups and init timeout run out first
def test_a_server_that_answers_then_hangs_means_offline_after_init_timeout(tmp_path, run) -> None:
    """The server answers the probe, then never answers wandb.init: wandb's own
    `init_timeout` (short here) ends the wait, and the run trains offline."""
    run_dir = tmp_path / "run"
    with server_that_answers_only_get() as url:
        env = unreachable_env(tmp_path / "home", url, WANDB_INIT_TIMEOUT="1")
        result = run(QUICK, run_dir, env=env, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    line = offline_line(result.stdout + result.stderr)
    assert "wandb: wandb.init failed online (CommError: " in line
    assert len(list((run_dir / "wandb").glob("offline-run-*"))) == 1
    assert (run_dir / "csv" / "metrics.csv").is_file()
