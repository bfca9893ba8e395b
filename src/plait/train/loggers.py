"""wandb that never asks and never holds a run hostage: online with an API key and a server
that answers, offline (files in the run folder) otherwise.

Everything plait does with wandb is here: the logger, its offline fallback, the run id a
resumed run continues, the group a sweep's runs share, and closing the run at its end.
"""

from __future__ import annotations

import contextlib
import logging
import netrc
import os
import secrets
import shutil
import string
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lightning.pytorch.loggers import WandbLogger
from lightning.pytorch.loggers.logger import DummyExperiment, rank_zero_experiment

from plait.train.probe import unreachable

DEFAULT_HOST = "https://api.wandb.ai"
# A server that answers at all answers a plain GET well within this; a compute node without
# a route to it finds out here, not after wandb.init's 90 s and the run's end.
PROBE_SECONDS = 10.0
# wandb.init's own limit online (`init_timeout`, default 90 s), for a server that answers the
# probe and then hangs: with wandb's account lookup (2 x 5 s) and its shutdown of the failed
# run, the run goes offline ~25 s after the start. `WANDB_INIT_TIMEOUT` overrides it.
INIT_SECONDS = 10.0

log = logging.getLogger(__name__)


def has_wandb_key() -> bool:
    """Whether wandb would find credentials: `WANDB_API_KEY`, `WANDB_IDENTITY_TOKEN_FILE`,
    or a netrc entry for the wandb host (`$NETRC`, `~/.netrc` or `~/_netrc`)."""
    if os.environ.get("WANDB_API_KEY") or os.environ.get("WANDB_IDENTITY_TOKEN_FILE"):
        return True
    host = urlsplit(os.environ.get("WANDB_BASE_URL") or DEFAULT_HOST).netloc
    for path in _netrc_paths():
        try:
            entry = netrc.netrc(str(path)).authenticators(host)
        except (OSError, netrc.NetrcParseError):
            continue
        if entry and entry[2]:
            return True
    return False


def _netrc_paths() -> list[Path]:
    if os.environ.get("NETRC"):
        return [Path(os.environ["NETRC"]).expanduser()]
    return [p for p in (Path("~/.netrc").expanduser(), Path("~/_netrc").expanduser()) if p.is_file()]


def wandb_offline(offline: bool | None) -> bool:
    """Resolve `offline: null`: offline unless a key exists. Never online without a key,
    where wandb would prompt for one on a terminal and block."""
    if offline is not None:
        return bool(offline) or not has_wandb_key()
    mode = os.environ.get("WANDB_MODE", "").lower()
    return mode in ("offline", "dryrun") or not has_wandb_key()


def wandb_logger(*, save_dir: str, offline: bool | None = None, project: str = "plait",
                 name: str | None = None, log_model: bool | str = False,
                 **kwargs: Any) -> WandbLogger:
    """Lightning's `WandbLogger` with its files under `save_dir/wandb/` (the run folder).

    Args:
        save_dir: the run's output folder.
        offline: True, False, or None to decide by whether an API key is configured. Online
            without a key is never used: the run goes offline instead of prompting.
        project: the wandb project.
        name: the wandb run name; wandb picks one if None.
        log_model: upload checkpoints (online only).
        **kwargs: passed on to `wandb.init` (group, job_type, tags, ...). Without an `id`,
            the run folder's own is used (`run_id`), so a restart continues the same run.
            Without `settings` or `WANDB_INIT_TIMEOUT`, wandb.init online gets `INIT_SECONDS`.
    """
    Path(save_dir).mkdir(parents=True, exist_ok=True)
    is_offline = wandb_offline(offline)
    if os.environ.get("WANDB_MODE", "").lower() == "disabled":
        is_offline = False  # wandb honours WANDB_MODE=disabled itself
    kwargs.setdefault("id", run_id(save_dir))
    kwargs.setdefault("resume", "allow")
    if not is_offline and not os.environ.get("WANDB_INIT_TIMEOUT"):
        kwargs.setdefault("settings", {"init_timeout": INIT_SECONDS})
    return FallbackWandbLogger(save_dir=save_dir, offline=is_offline, project=project, name=name,
                               log_model=False if is_offline else log_model, **kwargs)


class FallbackWandbLogger(WandbLogger):
    """Lightning's `WandbLogger` that logs offline, and says so in one line, when the wandb
    server does not answer within `PROBE_SECONDS` or wandb.init fails online.

    Online, wandb.init on a machine without a route to the server blocks for its
    `init_timeout` and then fails the run. This one asks the server first (rank 0 only,
    when the run is made), and trains offline rather than waiting or failing.
    """

    @property
    @rank_zero_experiment
    def experiment(self) -> Any:
        """The wandb run, made on first use: online if the server answers, else offline."""
        if not self._makes_online_run():
            return super().experiment
        url = wandb_base_url()
        problem = unreachable(url, PROBE_SECONDS)
        if problem is None:
            try:
                return super().experiment
            except Exception as err:  # wandb's CommError after init_timeout, or a refusal
                problem = f"wandb.init failed online ({type(err).__name__}: {_first_line(err)})"
                _release_failed_run()
        else:
            problem = f"cannot reach {url} ({problem})"
        return self._offline_run(problem)

    def _makes_online_run(self) -> bool:
        """Whether Lightning's `experiment` would now call wandb.init online."""
        import wandb

        mode = os.environ.get("WANDB_MODE", "").lower()
        return (self._experiment is None and not self._offline and wandb.run is None
                and mode != "disabled")

    def _offline_run(self, problem: str) -> Any:
        # Offline as an argument of wandb.init, not through the WANDB_MODE that Lightning
        # sets for `offline`: wandb ignores variables changed after it has read its settings
        # (`wandb_base_url` has), and warns that it does.
        self._wandb_init["mode"] = "offline"
        run = super().experiment
        self._offline, self._log_model = True, False
        folder = Path(run.dir).parent
        log.warning("wandb: %s; logging offline to %s, upload later with `wandb sync %s`",
                    problem, folder, folder)
        return run


def _release_failed_run(seconds: float = 5.0) -> None:
    """Stop wandb's service: it keeps the id of a run whose wandb.init failed and refuses it
    to the offline retry ("run ID ... is in use"); the next wandb.init starts a fresh one.
    Bounded, as the old service may still wait on the server: it is left to end by itself."""
    import wandb

    closing = threading.Thread(target=wandb.teardown, daemon=True)
    closing.start()
    closing.join(seconds)


def wandb_base_url() -> str:
    """The server wandb.init would use: `WANDB_BASE_URL`, else `base_url` from wandb's settings
    files (`wandb login --host` writes it), else wandb's default. Loads wandb's settings as
    wandb.init would, without starting its service."""
    from wandb.sdk import wandb_setup

    return wandb_setup.singleton().settings.base_url


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return lines[0] if lines else "no message"


def run_id(save_dir: str) -> str:
    """The wandb run id of a run folder, made at its first start and kept in
    `.plait/wandb_run_id`: a run started again in its folder (a requeued SLURM job)
    continues its wandb run instead of opening a second one.

    Every process of the run reads the id from that file. The first to find no file writes
    one, and only one can (`_write_once`): ranks started side by side (torchrun, SLURM,
    submitit, where loggers are made before a process knows its rank) agree on the id.
    """
    path = Path(save_dir) / ".plait" / "wandb_run_id"
    if not path.is_file():
        _write_once(path, "".join(secrets.choice(string.ascii_lowercase + string.digits)
                                  for _ in range(8)))
    return path.read_text().strip()


def _write_once(path: Path, text: str) -> None:
    """Write `text` to `path` unless some process has; never a half-written file to read.

    The text is written aside and hard-linked into place: a link fails if the name exists,
    so of processes racing, the first wins and the others leave its file as it is.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    aside.write_text(text + "\n")
    try:
        os.link(aside, path)
    except FileExistsError:
        pass  # another process came first: its id is the run's
    except OSError:  # a file system without hard links: the last to write wins
        os.replace(aside, path)
    finally:
        aside.unlink(missing_ok=True)


def log_run(loggers: Sequence[Any], config: Mapping[str, Any], summary: str,
            files: Sequence[Path]) -> None:
    """Log the resolved config to every logger; the graph summary and pictures to wandb."""
    for logger in loggers:
        logger.log_hyperparams(dict(config))
        if isinstance(logger, WandbLogger):
            _log_graph(logger, summary, files)


def _log_graph(logger: WandbLogger, summary: str, files: Sequence[Path]) -> None:
    import wandb

    run = logger.experiment
    # Ranks other than zero get Lightning's DummyExperiment, whose every attribute is a
    # no-op method (so `run.dir` is truthy); only rank 0 has the run and its folder.
    if isinstance(run, DummyExperiment) or not isinstance(getattr(run, "dir", None), str):
        return
    for path in files:  # files in the run's folder are uploaded with it (now, or by `wandb sync`)
        shutil.copy(path, Path(run.dir) / path.name)
    pngs = [p for p in files if p.suffix == ".png"]
    record: dict[str, Any] = {"graph/summary": wandb.Html(f"<pre>{_escape(summary)}</pre>")}
    if pngs:
        record["graph/picture"] = wandb.Image(str(pngs[0]))
    run.log(record, commit=False)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def sweep_group(task_name: str, log_dir: str | None = None, sweep_dir: str | None = None) -> str:
    """The wandb group of a run: `<task>` for a single run; for a job of a multirun, its sweep
    folder below `log_dir` (`digits/multiruns/2026-01-31_12-00-00-000000`,
    `posts/optuna/loss_weights`), so the runs of one sweep (and of a resumed Optuna study)
    share one group.

    Used from `conf/logger/wandb.yaml` as `group: {_target_: plait.sweeps.sweep_group, ...}`,
    with `sweep_dir: ${plait.multirun:sweep.dir}`.

    Args:
        task_name: the group of a single run.
        log_dir: the folder of every task's runs (`paths.log_dir`).
        sweep_dir: the multirun's folder (`hydra.sweep.dir`); None for a single run.
    """
    if sweep_dir is None:
        return task_name
    sweep = Path(sweep_dir).resolve()
    if log_dir is not None and sweep.is_relative_to(Path(log_dir).resolve()):
        return str(sweep.relative_to(Path(log_dir).resolve()))
    return f"{task_name}/{sweep.name}"


@contextlib.contextmanager
def wandb_run_closed(loggers: Sequence[Any]) -> Iterator[None]:
    """Close the wandb run when the block ends, so the next run of a multirun starts its own."""
    try:
        yield
    finally:
        if any(isinstance(logger, WandbLogger) for logger in loggers):
            import wandb

            if wandb.run is not None:
                wandb.finish()
