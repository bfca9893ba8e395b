"""A loss that goes NaN or infinite stops the run at that step, fails it, and leaves no
non-finite checkpoint behind. (NaN in a user's data file: tests/train/test_files.py.)"""

from __future__ import annotations

import torch


def _all_finite(checkpoint) -> bool:
    weights = torch.load(checkpoint, map_location="cpu", weights_only=True)["state_dict"]
    return all(torch.isfinite(w).all() for w in weights.values() if w.is_floating_point())


def test_a_huge_learning_rate_stops_the_run_naming_the_output(run, tmp_path) -> None:
    result = run(["experiment=digits", "model.optimizer.lr=1e12", "trainer.max_epochs=3"], tmp_path)
    assert result.returncode == 1, result.stdout[-2000:]
    [line] = [ln for ln in result.stderr.splitlines() if ln.startswith("Training stopped: ")]
    assert "train: the loss is not finite at epoch 0, batch" in line
    assert "output 'digit' loss nan" in line or "output 'digit' loss inf" in line
    assert "last good checkpoint is none: no epoch had finished" in line
    assert "Traceback" not in result.stderr
    checkpoints = sorted((tmp_path / "checkpoints").glob("*.ckpt")) if (tmp_path / "checkpoints").exists() else []
    assert all(_all_finite(c) for c in checkpoints)  # none non-finite: not kept, not tested as best
    assert "test/" not in result.stdout  # nothing was tested
    assert not (tmp_path / ".plait" / "finished").exists()


def test_a_loss_that_diverges_later_names_the_last_good_checkpoint(run, tmp_path) -> None:
    """Divergence after the first epoch: its checkpoint is named and stays finite."""
    lr = "model.scheduler={_target_: torch.optim.lr_scheduler.StepLR, _partial_: true, step_size: 1, gamma: 1e12}"
    result = run(["experiment=digits", lr, "trainer.max_epochs=3"], tmp_path)
    assert result.returncode == 1, result.stdout[-2000:]
    [line] = [ln for ln in result.stderr.splitlines() if ln.startswith("Training stopped: ")]
    assert "the loss is not finite at epoch 1" in line
    last = tmp_path / "checkpoints" / "last.ckpt"
    assert f"last good checkpoint is {last}" in line
    assert _all_finite(last) and torch.load(last, weights_only=True)["epoch"] == 0
    assert all(_all_finite(c) for c in (tmp_path / "checkpoints").glob("*.ckpt"))
