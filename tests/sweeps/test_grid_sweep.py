"""Grid sweeps with Hydra's multirun, as a user runs them: one folder, one result, one wandb
run per combination, the wandb runs grouped by sweep; and the sweep report on the result."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf
from tests.sweeps.conftest import ROOT

from plait.sweeps.report import main as report_main
from plait.sweeps.report import make_report


@pytest.fixture(scope="module")
def grid(train_cli, tiny, tmp_path_factory) -> Path:
    """`python train.py -m experiment=digits model.outputs.digit.weight=0.5,2` (tiny budget)."""
    log_dir = tmp_path_factory.mktemp("grid")
    result = train_cli(["-m", *tiny, "model.outputs.digit.weight=0.5,2"], log_dir)
    assert result.returncode == 0, result.stderr[-3000:]
    sweeps = list((log_dir / "digits" / "multiruns").iterdir())
    assert len(sweeps) == 1, sweeps
    return sweeps[0]


def test_one_folder_per_combination(grid) -> None:
    assert (grid / "multirun.yaml").is_file()
    weights = {}
    for job in ("0", "1"):
        config = OmegaConf.load(grid / job / ".hydra" / "config.yaml")
        weights[job] = config.model.outputs.digit.weight
        assert "model.outputs.digit.weight=" in " ".join(
            OmegaConf.load(grid / job / ".hydra" / "overrides.yaml"))
    assert weights == {"0": 0.5, "1": 2}


def test_each_run_logs_per_output_metrics_and_its_weight(grid) -> None:
    for job, weight in (("0", 0.5), ("1", 2.0)):
        with open(grid / job / "csv" / "metrics.csv") as f:
            rows = list(csv.DictReader(f))
        assert {"val/digit/acc", "val/digit/loss", "test/digit/acc"} <= set(rows[0])
        logged = {float(r["train/digit/weight"]) for r in rows if r.get("train/digit/weight")}
        assert logged == {weight}


def test_one_wandb_run_each_grouped_by_sweep(grid) -> None:
    group = f"digits/multiruns/{grid.name}".encode()
    for job in ("0", "1"):
        runs = list((grid / job / "wandb").glob("offline-run-*"))
        assert len(runs) == 1, runs  # offline: no key on this machine
        record = next(runs[0].glob("*.wandb")).read_bytes()
        assert group in record  # the run's group, as wandb stored it


def test_report_tables_and_plots_the_grid(grid, tmp_path) -> None:
    report = make_report(grid, tmp_path)
    table = report.table
    assert list(table["weight/digit"]) == [0.5, 2]
    assert list(table["state"]) == ["COMPLETE", "COMPLETE"]
    assert table["best val/digit/acc"].notna().all()
    assert {"test/digit/acc", "test/digit/loss"} <= set(table.columns)
    names = {p.name for p in report.files}
    assert {"sweep.csv", "sweep.md", "metric_vs_weight_digit.png"} <= names
    assert (tmp_path / "metric_vs_weight_digit.png").read_bytes()[:4] == b"\x89PNG"
    assert "| weight/digit |" in (tmp_path / "sweep.md").read_text()  # the grid's axis
    assert "(grid, 2 of 2 runs finished)" in report.markdown


def test_report_cli_prints_the_table(grid, tmp_path, capsys) -> None:
    assert report_main([str(grid), "--out", str(tmp_path)]) == 0
    assert "best val/digit/acc" in capsys.readouterr().out


def test_a_grid_over_a_weight_of_no_output_stops_before_any_run(train_cli, tmp_path) -> None:
    result = train_cli(["-m", "experiment=digits", "model.outputs.agee.weight=0.5,2"], tmp_path)
    assert result.returncode == 1
    assert "Could not override 'model.outputs.agee.weight'" in result.stderr  # Hydra's message
    assert not list(tmp_path.glob("digits/multiruns/*/0"))  # no run started


# A callback that sends SIGTERM during validation, as a scheduler stopping the job would.
TERM = "+callbacks.term._target_=tests.train.interrupt.TermDuringValidation"


@pytest.fixture(scope="module")
def stopped_grid(train_cli, tiny, tmp_path_factory) -> Path:
    """A 2 x 2 grid stopped by SIGTERM in its third job: the second, a learning rate of -1,
    fails with a config error and the grid goes on; SIGTERM (in the first epoch where
    `callbacks.term.epoch` is 0) stops the whole sweep, so the fourth job never runs."""
    log_dir = tmp_path_factory.mktemp("stopped")
    result = train_cli(["-m", *tiny, "logger=csv", TERM, "+callbacks.term.epoch=99,0",
                        "model.optimizer.lr=0.003,-1"], log_dir)
    assert result.returncode == 143 and "Invalid learning rate" in result.stderr, result.stderr[-3000:]
    (sweep,) = (log_dir / "digits" / "multiruns").iterdir()
    return sweep


def test_a_grid_goes_on_past_a_diverging_job_then_exits_1_naming_it(train_cli, tiny, tmp_path) -> None:
    """As the README's grid, default loggers: the learning rate of 1e12 makes the loss
    infinite; that job fails, the next one trains and tests, and the multirun ends with
    code 1, Hydra naming the failed job's overrides and plait its folder and error."""
    result = train_cli(["-m", *tiny, "model.optimizer.lr=1e12,0.003"], tmp_path)
    assert result.returncode == 1, result.stderr[-3000:]
    (sweep,) = (tmp_path / "digits" / "multiruns").iterdir()
    lines = result.stderr.splitlines()
    end = lines.index(next(ln for ln in lines if ln.startswith("Error executing job with overrides")))
    assert "'model.optimizer.lr=1000000000000.0'" in lines[end]  # Hydra names the job, after it
    assert lines[end + 1].startswith(f"Training stopped in job 0 of the multirun ({sweep / '0'}): "
                                     "train: the loss is not finite at epoch 0"), lines[end + 1]
    assert "Consider using tensor.detach()" not in result.stderr
    assert not (sweep / "0" / ".plait" / "finished").exists()
    assert (sweep / "1" / ".plait" / "finished").exists()
    with open(sweep / "1" / "csv" / "metrics.csv") as f:
        assert any(row.get("test/digit/acc") for row in csv.DictReader(f))
    assert "(grid, 1 of 2 runs finished: 1 failed)" in make_report(sweep, tmp_path / "report").markdown


def test_a_job_that_diverges_after_logging_its_objective_reports_as_failed(train_cli, tiny, tmp_path) -> None:
    """The README: a job that fails is recorded as failed, also when it had logged val
    figures first (a learning rate that grows 1e30-fold after epoch 0), not as unfinished,
    which is what a job stopped by a signal is."""
    result = train_cli(["-m", *tiny, "scheduler=step", "model.scheduler.step_size=1",
                        "model.scheduler.gamma=1e30,1"], tmp_path)
    assert result.returncode == 1, result.stderr[-3000:]
    (sweep,) = (tmp_path / "digits" / "multiruns").iterdir()
    assert (sweep / "0" / ".plait" / "failed").read_text().startswith("Training stopped: train: the loss is not finite")
    report = make_report(sweep, tmp_path / "report")
    assert list(report.table["state"]) == ["FAIL", "COMPLETE"]
    assert "(grid, 1 of 2 runs finished: 1 failed)" in report.markdown


def markdown_rows(text: str) -> list[dict[str, str]]:
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    return [dict(zip(header, (c.strip() for c in line.strip("|").split("|")))) for line in lines[1:]]


def test_report_of_a_stopped_grid_keeps_its_axes_says_what_was_fixed_and_counts_the_grid(
        stopped_grid, tiny, tmp_path) -> None:
    """The real script: every job of the grid a row, the jobs never run marked, the fixed
    overrides and the single-output weight said once above the table, not as columns."""
    result = subprocess.run([sys.executable, "scripts/sweep_report.py", str(stopped_grid),
                             "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "(grid, 1 of 4 runs finished: 1 failed, 1 unfinished, 1 not run)" in out
    typed = [*tiny, "logger=csv", TERM, f"paths.log_dir={stopped_grid.parents[2]}"]
    assert "Fixed: " + " ".join(f"`{o}`" for o in typed) + " `weight/digit=1` `balancing=fixed`" in out
    rows = markdown_rows(out)
    assert [(r["run"], r["state"], r["callbacks.term.epoch"], r["model.optimizer.lr"]) for r in rows] == [
        ("0", "COMPLETE", "99", "0.003"), ("1", "FAIL", "99", "-1"),
        ("2", "UNFINISHED", "0", "0.003"), ("3", "NOT RUN", "0", "-1")]
    assert "weight/digit" not in rows[0] and "trainer.max_epochs" not in rows[0]
    assert rows[0]["best val/digit/acc"] and not rows[3]["best val/digit/acc"]
    assert (tmp_path / "sweep.md").read_text().strip() == out.split("\n\nwritten: ")[0].strip()
