"""`resume=auto` picks "the newest unfinished run of the task that has a checkpoint" (README,
"Resume it"): the choice among run folders, on folders laid out as runs leave them."""

from __future__ import annotations

from pathlib import Path

from plait.train.resume import mark_finished, run_dir


def _run(runs: Path, name: str, *, checkpoint: str | None = "checkpoints/last.ckpt",
         finished: bool = False) -> Path:
    """A run folder as a run leaves it: `.hydra/`, maybe a checkpoint, maybe marked finished."""
    folder = runs / name
    (folder / ".hydra").mkdir(parents=True)
    if checkpoint:
        (folder / checkpoint).parent.mkdir(parents=True, exist_ok=True)
        (folder / checkpoint).write_bytes(b"ckpt")
    if finished:
        mark_finished(folder)
    return folder


def _auto(runs: Path, mode: str = "train") -> Path:
    return Path(run_dir(mode, None, "auto", str(runs), "2026-02-01_00-00-00-000000"))


def test_the_newest_unfinished_run_with_a_checkpoint_is_continued(tmp_path) -> None:
    _run(tmp_path, "2026-01-01_00-00-00-000000")                   # older, unfinished
    chosen = _run(tmp_path, "2026-01-02_00-00-00-000000")          # newest with a checkpoint
    _run(tmp_path, "2026-01-03_00-00-00-000000", finished=True)    # newer, finished
    _run(tmp_path, "2026-01-04_00-00-00-000000", checkpoint=None)  # newer, killed before one
    (tmp_path / "2026-01-05_00-00-00-000000" / "checkpoints").mkdir(parents=True)  # no .hydra
    assert _auto(tmp_path) == chosen


def test_a_slurm_preemption_checkpoint_counts(tmp_path) -> None:
    older = _run(tmp_path, "2026-01-01_00-00-00-000000")
    requeued = _run(tmp_path, "2026-01-02_00-00-00-000000", checkpoint="hpc_ckpt_1.ckpt")
    assert _auto(tmp_path) == requeued != older


def test_with_nothing_to_continue_a_new_run_starts(tmp_path) -> None:
    new = tmp_path / "2026-02-01_00-00-00-000000"
    assert _auto(tmp_path / "absent") == tmp_path / "absent" / new.name
    _run(tmp_path, "2026-01-01_00-00-00-000000", finished=True)
    _run(tmp_path, "2026-01-02_00-00-00-000000", checkpoint=None)
    assert _auto(tmp_path) == new


def test_only_training_continues_a_run(tmp_path) -> None:
    _run(tmp_path, "2026-01-01_00-00-00-000000")
    for mode in ("check", "test", "predict", "export"):
        assert _auto(tmp_path, mode) == tmp_path / "2026-02-01_00-00-00-000000"
