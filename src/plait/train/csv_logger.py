"""Lightning's CSV logger, except that a run restarted in its own folder keeps its rows."""

from __future__ import annotations

import csv
from pathlib import Path

from lightning.pytorch.loggers import CSVLogger as LightningCSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter
from lightning.pytorch.loggers.logger import rank_zero_experiment


class CSVLogger(LightningCSVLogger):
    """`metrics.csv` in the run folder, kept across restarts of the run.

    Lightning's writer deletes an existing `metrics.csv` when it starts. A SLURM job that is
    requeued after preemption runs again in the same folder and resumes from its checkpoint,
    so the rows of the epochs before the preemption would be lost; this logger reads them
    first and writes them back ahead of the new ones. Arguments are Lightning's.
    """

    resume_step: int | None = None

    def resume_at(self, step: int) -> None:
        """Keep only the rows logged before global step `step`, where a resumed run takes up:
        rows a killed run logged after its last checkpoint are logged again, not twice."""
        self.resume_step = step

    @property
    @rank_zero_experiment
    def experiment(self) -> ExperimentWriter:
        if self._experiment is None:
            kept = _rows(Path(self.log_dir) / ExperimentWriter.NAME_METRICS_FILE)
            if self.resume_step is not None:
                kept = [row for row in kept if float(row.get("step", 0)) < self.resume_step]
            super().experiment.metrics[:0] = kept  # the writer deleted the file; the next save writes them
        return self._experiment


def _rows(path: Path) -> list[dict[str, str]]:
    """The rows of a metrics file, each without its empty cells; none when there is no file."""
    if not path.is_file():
        return []
    with path.open(newline="") as file:
        return [{k: v for k, v in row.items() if v != ""} for row in csv.DictReader(file)]
