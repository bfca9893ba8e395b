"""Resuming is continuing: a checkpoint of an unfinished run continues that run, in its folder.

`hydra.run.dir` is `${plait.run_dir:...}` (conf/hydra/default.yaml): given `ckpt_path`
inside a run folder that has not finished, the run goes on in that folder (checkpoints,
CSV rows and the wandb run continue); given `resume=auto`, the newest unfinished run of the
task that has a checkpoint goes on. Anything else, a finished run's checkpoint included,
starts a new folder: a finished run is never written into again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from plait.system import GraphSystem, check_groups_match, check_weights_match, read_checkpoint

log = logging.getLogger(__name__)

FINISHED = Path(".plait") / "finished"
FAILED = Path(".plait") / "failed"  # the error that stopped a job of a sweep
CHECKPOINTS = "checkpoints"


def run_dir(mode: str, ckpt_path: str | None, resume: str | None, runs_dir: str, new_name: str) -> str:
    """The folder a run writes to: in `mode=train`, the run that `ckpt_path` or `resume=auto`
    continues; else `runs_dir/new_name`. (A wrong `resume` is refused by `check_keys`, where
    the message reaches the user as one line.)"""
    return str(_continued(mode, ckpt_path, resume, Path(runs_dir)) or Path(runs_dir) / new_name)


def _continued(mode: str, ckpt_path: str | None, resume: str | None, runs_dir: Path) -> Path | None:
    if mode != "train":
        return None
    if ckpt_path:
        owner = run_of(Path(ckpt_path))
        return owner if owner is not None and not finished(owner) else None
    if resume == "auto":
        unfinished = [run for run in _runs(runs_dir) if resume_point(run) is not None]
        return unfinished[-1] if unfinished else None
    return None


def run_of(checkpoint: Path) -> Path | None:
    """The run folder a checkpoint belongs to (`<run>/checkpoints/x.ckpt`, or an HPC
    checkpoint `<run>/hpc_ckpt_1.ckpt`), if it is in one."""
    for folder in (checkpoint.parent, checkpoint.parent.parent):
        if (folder / ".hydra").is_dir():
            return folder
    return None


def finished(run: Path) -> bool:
    return (run / FINISHED).is_file()


def mark_finished(run: Path) -> None:
    """Mark a run folder as finished: a later `resume=auto` leaves it alone."""
    (run / FINISHED).parent.mkdir(parents=True, exist_ok=True)
    (run / FINISHED).write_text("fit and test completed\n")


def mark_failed(run: Path, error: str) -> None:
    """Mark a sweep's job as stopped by an error, which a report tells from one stopped by
    a signal (unfinished: it may go on)."""
    (run / FAILED).parent.mkdir(parents=True, exist_ok=True)
    (run / FAILED).write_text(error + "\n")


def failed(run: Path) -> bool:
    return (run / FAILED).is_file()


def resume_point(run: Path) -> Path | None:
    """The newest checkpoint to continue an unfinished run from: `last.ckpt` or one that
    SLURM preemption left (`hpc_ckpt_<n>.ckpt`); None for a finished run or one without."""
    if finished(run):
        return None
    found = [p for p in (run / CHECKPOINTS / "last.ckpt", *run.glob("hpc_ckpt_*.ckpt")) if p.is_file()]
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def _runs(runs_dir: Path) -> list[Path]:
    """The task's run folders, oldest first (their names are timestamps)."""
    return sorted(p for p in runs_dir.glob("*") if (p / ".hydra").is_dir()) if runs_dir.is_dir() else []


@dataclass(frozen=True)
class Start:
    """The checkpoint a fit starts from, and its global step."""

    path: str
    step: int


def starting_checkpoint(cfg: DictConfig, system: GraphSystem) -> Start | None:
    """The checkpoint to fit from: `ckpt_path`, or with `resume=auto` this run folder's own
    newest; None to start afresh. Says in the log which run it continues.

    Raises:
        CheckpointError: the file is missing, unreadable, holds another model's weights, or
            optimizer state of other `model.param_groups`.
    """
    out = Path(cfg.paths.output_dir)
    path = cfg.get("ckpt_path")
    if not path and cfg.get("resume") == "auto":
        path = resume_point(out)
    if not path:
        return None
    checkpoint = read_checkpoint(path)
    check_weights_match(system, checkpoint, path)
    check_groups_match(system, checkpoint, path)
    owner = run_of(Path(path))
    if owner is not None and owner.resolve() == out.resolve():
        log.info("continuing run %s from %s", out, path)
    elif owner is not None and finished(owner):
        log.info("%s has finished; its checkpoint %s starts a new run in %s", owner, path, out)
    return Start(str(path), int(checkpoint.get("global_step", 0)))


OmegaConf.register_new_resolver("plait.run_dir", run_dir, replace=True)
