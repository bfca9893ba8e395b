"""scripts/results_table.py on run folders built here: the epochs column counts trained epochs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from scripts.results_table import run_row


def write_run(folder: Path, epochs: int, tested: bool) -> Path:
    """A run folder as plait writes it, its metrics.csv laid out as Lightning's CSVLogger does."""
    (folder / ".hydra").mkdir(parents=True)
    (folder / ".hydra" / "config.yaml").write_text("optimized_metric: val/loss\n")
    (folder / ".hydra" / "overrides.yaml").write_text("- experiment=dense\n")
    rows = [{"step": 0, "lr-Adam": 0.001}]  # a row without an epoch, as LearningRateMonitor logs
    for epoch in range(epochs):
        rows += [{"epoch": epoch, "step": 10 * epoch + 9, "train/loss_step": 1.0},
                 {"epoch": epoch, "step": 10 * epoch + 9, "val/loss": 1.0 / (epoch + 1)},
                 {"epoch": epoch, "step": 10 * epoch + 9, "train/loss_epoch": 1.0}]
    if tested:  # after fit, the test step is logged at epoch index == epochs trained
        rows.append({"epoch": epochs, "step": 10 * epochs, "test/loss": 0.5})
    (folder / "csv").mkdir()
    pd.DataFrame(rows).to_csv(folder / "csv" / "metrics.csv", index=False)
    return folder


@pytest.mark.parametrize("tested", [True, False])
def test_epochs_counts_trained_epochs_not_the_test_step(tmp_path, tested) -> None:
    row = run_row(write_run(tmp_path / "run", epochs=3, tested=tested))
    assert row["epochs"] == "3"
    assert row["val/loss"] == "0.3333"
    assert row.get("test/loss") == ("0.5000" if tested else None)
