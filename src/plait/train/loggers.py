"""wandb that never asks: online with an API key, offline (files in the run folder) without."""

from __future__ import annotations

import netrc
import os
import secrets
import shutil
import string
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lightning.pytorch.loggers import WandbLogger
from lightning.pytorch.utilities import rank_zero_only

DEFAULT_HOST = "https://api.wandb.ai"


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
    """
    Path(save_dir).mkdir(parents=True, exist_ok=True)
    is_offline = wandb_offline(offline)
    if os.environ.get("WANDB_MODE", "").lower() == "disabled":
        is_offline = False  # wandb honours WANDB_MODE=disabled itself
    kwargs.setdefault("id", run_id(save_dir))
    kwargs.setdefault("resume", "allow")
    return WandbLogger(save_dir=save_dir, offline=is_offline, project=project, name=name,
                       log_model=False if is_offline else log_model, **kwargs)


def run_id(save_dir: str) -> str:
    """The wandb run id of a run folder, made at its first start and kept in
    `.plait/wandb_run_id`: a run started again in its folder (a requeued SLURM job)
    continues its wandb run instead of opening a second one. Only rank 0 writes it."""
    path = Path(save_dir) / ".plait" / "wandb_run_id"
    if path.is_file():
        return path.read_text().strip()
    made = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(8))
    if rank_zero_only.rank == 0:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(made + "\n")
    return made


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
    if not getattr(run, "dir", None):  # a dummy run on ranks other than zero
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
