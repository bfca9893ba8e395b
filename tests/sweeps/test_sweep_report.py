"""The sweep report on a sweep folder built here: table, Pareto front, plots, bad folders.
(`tests/sweeps/test_grid_sweep.py` reports on real multiruns.)"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from omegaconf import OmegaConf

from plait.sweeps.plots import pareto_front
from plait.sweeps.report import main, make_report
from plait.sweeps.runs import SweepError, load_sweep
from plait.sweeps.table import lower_is_better

# (age weight, income weight) -> val/age/mae, val/income/auroc over two epochs
RUNS = {"0": ((0.1, 1.0), [0.80, 0.78], [0.88, 0.90]),
        "1": ((1.0, 1.0), [0.66, 0.64], [0.87, 0.88]),
        "2": ((10.0, 1.0), [0.62, 0.60], [0.80, 0.82])}


def write_run(folder: Path, weights: tuple[float, float], mae: list[float],
              auroc: list[float], *overrides: str) -> None:
    """A run folder as plait writes it: `.hydra/` files, `csv/metrics.csv` and, the run
    done, `.plait/finished`."""
    config = {"optimized_metric": "val/income/auroc", "optimized_mode": "max",
              "paths": {"output_dir": "${hydra:runtime.output_dir}"},  # unresolvable here
              "model": {"loss_balancing": "fixed", "outputs": {
                  "age": {"loss": "mse", "weight": weights[0], "metrics": ["mae"]},
                  "income": {"loss": "binary_cross_entropy", "weight": weights[1],
                             "metrics": ["auroc"]}}}}
    (folder / ".hydra").mkdir(parents=True)
    OmegaConf.save(OmegaConf.create(config), folder / ".hydra" / "config.yaml")
    OmegaConf.save(OmegaConf.create(["experiment=adult_multitask",
                                     f"model.outputs.age.weight={weights[0]}", *overrides]),
                   folder / ".hydra" / "overrides.yaml")
    rows = [{"epoch": e, "step": 10 * e, "val/age/mae": m, "val/income/auroc": a}
            for e, (m, a) in enumerate(zip(mae, auroc))]
    rows.append({"epoch": 2, "step": 20, "test/age/mae": mae[-1] + 0.01,
                 "test/income/auroc": max(auroc) - 0.01})
    (folder / "csv").mkdir()
    pd.DataFrame(rows).to_csv(folder / "csv" / "metrics.csv", index=False)
    (folder / ".plait").mkdir()
    (folder / ".plait" / "finished").write_text("fit and test completed\n")


def table_header(markdown: str) -> str:
    return next(line for line in markdown.splitlines() if line.startswith("| run "))


@pytest.fixture
def sweep_dir(tmp_path) -> Path:
    folder = tmp_path / "multiruns" / "2026-01-31_12-00-00"
    folder.mkdir(parents=True)
    (folder / "multirun.yaml").write_text("hydra: {}\n")
    for name, (weights, mae, auroc) in RUNS.items():
        write_run(folder / name, weights, mae, auroc)
    (folder / "3" / ".hydra").mkdir(parents=True)  # a run that failed before logging
    for name in ("config.yaml", "overrides.yaml"):
        (folder / "3" / ".hydra" / name).write_text((folder / "0" / ".hydra" / name).read_text())
    return folder


def test_table_has_weights_objective_and_each_outputs_metrics(sweep_dir) -> None:
    table = make_report(sweep_dir).table
    assert list(table["run"]) == ["0", "1", "2", "3"]
    assert list(table["state"]) == ["COMPLETE"] * 3 + ["FAIL"]
    assert list(table["weight/age"]) == [0.1, 1.0, 10.0, 0.1]
    assert table["best val/income/auroc"].tolist()[:3] == pytest.approx([0.90, 0.88, 0.82])
    assert table["test/age/mae"].tolist()[:3] == pytest.approx([0.79, 0.65, 0.61])
    assert list(table["epochs"]) == [2, 2, 2, 0]
    assert "model.outputs.age.weight" not in table  # shown as weight/age


def test_report_writes_table_and_plots(sweep_dir) -> None:
    report = make_report(sweep_dir)
    names = sorted(p.name for p in report.files)
    assert names == ["metric_vs_weight_age.png", "sweep.csv", "sweep.md",
                     "tradeoff_age_income.png"]
    for path in report.files:
        assert path.parent == sweep_dir / "report" and path.stat().st_size > 0
    assert table_header(report.markdown).startswith("| run | state | weight/age |")


def test_pareto_front_keeps_the_runs_nothing_beats() -> None:
    # lower mae and higher auroc are better: run 1 is beaten by nothing, nor are 0 and 2
    mae, auroc = [0.79, 0.65, 0.61, 0.70], [0.89, 0.87, 0.81, 0.86]
    assert pareto_front(mae, auroc, x_lower=True, y_lower=False) == [2, 1, 0]
    assert lower_is_better("test/age/mae") and not lower_is_better("val/income/auroc")


def test_pair_naming_no_output_is_refused(sweep_dir) -> None:
    with pytest.raises(SweepError, match=r"--pair: 'agee' names no output.*\['age', 'income'\]"):
        make_report(sweep_dir, pairs=[("agee", "income")])


def test_pair_on_the_command_line_chooses_the_tradeoff_plot(sweep_dir, capsys) -> None:
    """The README's `sweep_report.py <folder> --pair income,occupation`, on this sweep's pair
    in the order given; one name alone is refused by the parser."""
    assert main([str(sweep_dir), "--pair", "income,age"]) == 0
    assert (sweep_dir / "report" / "tradeoff_income_age.png").stat().st_size > 0
    assert not (sweep_dir / "report" / "tradeoff_age_income.png").exists()  # the default pair's plot
    with pytest.raises(SystemExit) as exit_info:
        main([str(sweep_dir), "--pair", "age"])
    assert exit_info.value.code == 2
    assert "--pair: expected two output names, e.g. --pair age,income" in capsys.readouterr().err


def test_a_folder_that_is_not_a_sweep_is_named(tmp_path, capsys) -> None:
    with pytest.raises(SweepError, match=rf"^sweep folder {tmp_path}: not a sweep"):
        load_sweep(tmp_path)
    assert main([str(tmp_path)]) == 2
    assert f"sweep_report: sweep folder {tmp_path}: not a sweep" in capsys.readouterr().err
    assert main([str(tmp_path / "missing")]) == 2
    assert "no such folder" in capsys.readouterr().err


def test_a_sweep_without_runs_is_named(tmp_path) -> None:
    (tmp_path / "multirun.yaml").write_text("hydra: {}\n")
    with pytest.raises(SweepError, match=rf"^sweep folder {tmp_path}: holds no runs"):
        load_sweep(tmp_path)


def test_metrics_option_keeps_only_the_named_metrics(sweep_dir, capsys) -> None:
    assert main([str(sweep_dir), "--metrics", "auroc"]) == 0
    header = table_header(capsys.readouterr().out)
    assert "test/income/auroc" in header and "test/age/mae" not in header
    assert "weight/age" in header and "best val/income/auroc" in header


def test_settings_every_run_shared_are_said_once_not_as_columns(sweep_dir) -> None:
    """No `multirun.yaml` overrides here: what every run was given counts as fixed."""
    report = make_report(sweep_dir)
    assert "weight/income" not in report.table and "balancing" not in report.table
    assert report.fixed == ["experiment=adult_multitask", "weight/income=1", "balancing=fixed"]
    assert "Fixed: `experiment=adult_multitask` `weight/income=1` `balancing=fixed`" in report.markdown
    csv = pd.read_csv(sweep_dir / "report" / "sweep.csv")
    assert list(csv["weight/income"]) == [1.0] * 4  # the CSV keeps every column
    assert "(grid, 3 of 4 runs finished: 1 failed)" in report.markdown


def test_a_run_that_logged_but_did_not_finish_is_unfinished(sweep_dir) -> None:
    (sweep_dir / "1" / ".plait" / "finished").unlink()  # stopped after its epochs, before test
    report = make_report(sweep_dir)
    assert list(report.table["state"]) == ["COMPLETE", "UNFINISHED", "COMPLETE", "FAIL"]
    assert "2 of 4 runs finished: 1 failed, 1 unfinished" in report.markdown


def test_split_option_shows_val_at_each_runs_best_epoch_though_runs_were_tested(sweep_dir, capsys) -> None:
    assert main([str(sweep_dir), "--split", "val"]) == 0
    out = capsys.readouterr().out
    header = table_header(out)
    assert "val/age/mae" in header and "test/age/mae" not in header
    assert "output metrics from the best epoch on val" in out
    table = make_report(sweep_dir, split="val").table
    # the epoch of the best val/income/auroc: the last of runs 0-2
    assert table["val/age/mae"].tolist()[:3] == pytest.approx([0.78, 0.64, 0.60])
    with pytest.raises(SweepError, match="split: expected val or test, received 'train'"):
        make_report(sweep_dir, split="train")


def test_epoch_option_shows_val_at_each_runs_last_epoch(sweep_dir, capsys) -> None:
    write_run(sweep_dir / "4", (1.0, 1.0), [0.70, 0.65], [0.90, 0.85])  # best auroc first
    assert main([str(sweep_dir), "--split", "val", "--epoch", "last"]) == 0
    assert "output metrics from the last epoch on val" in capsys.readouterr().out
    last = make_report(sweep_dir, split="val", epoch="last").table.set_index("run")
    best = make_report(sweep_dir, split="val").table.set_index("run")
    assert (last.loc["4", "val/age/mae"], best.loc["4", "val/age/mae"]) == (0.65, 0.70)
    assert last.loc["4", "best val/income/auroc"] == 0.90  # the objective stays the best
    with pytest.raises(SweepError, match="epoch: expected best or last, received 'first'"):
        make_report(sweep_dir, split="val", epoch="first")


def test_the_best_epoch_is_counted_from_one(sweep_dir) -> None:
    write_run(sweep_dir / "4", (1.0, 1.0), [0.70, 0.65], [0.90, 0.85])  # best auroc first
    table = make_report(sweep_dir, split="val").table.set_index("run")
    assert table["best epoch"].fillna(0).tolist() == [2, 2, 2, 0, 1]  # run 3 logged nothing
    assert table["epochs"].tolist() == [2, 2, 2, 0, 2]


def test_mean_over_averages_the_runs_that_differ_only_there(tmp_path, capsys) -> None:
    folder = tmp_path / "multiruns" / "seeds"
    folder.mkdir(parents=True)
    (folder / "multirun.yaml").write_text("hydra: {}\n")
    for i, (weight, seed, mae) in enumerate([(1.0, 1, 0.6), (1.0, 2, 0.8), (2.0, 1, 0.5),
                                             (2.0, 2, 0.7), (2.0, 3, 0.9)]):
        write_run(folder / str(i), (weight, 1.0), [mae + 0.1, mae], [0.8, 0.9], f"seed={seed}")
    assert main([str(folder), "--split", "val", "--mean-over", "seed"]) == 0
    out = capsys.readouterr().out
    assert "Means over `seed`" in out and "sweep_mean.csv" in out
    means = pd.read_csv(folder / "report" / "sweep_mean.csv")
    assert means["weight/age"].tolist() == [1.0, 2.0] and means["runs"].tolist() == [2, 3]
    assert means["val/age/mae"].tolist() == pytest.approx([0.7, 0.7])
    assert "seed" not in means and "run" not in means
    with pytest.raises(SweepError, match="mean over 'sed': not a setting the sweep varied"):
        make_report(folder, split="val", mean_keys=["sed"])


def test_a_quoted_override_shows_without_its_quotes(tmp_path) -> None:
    folder = tmp_path / "multiruns" / "nodes"
    folder.mkdir(parents=True)
    (folder / "multirun.yaml").write_text("hydra: {}\n")
    for i, node in enumerate(['"pool(words)"', "'dense(words)'"]):
        write_run(folder / str(i), (1.0, 1.0), [0.7, 0.6], [0.8, 0.9], f"model.nodes.hour={node}")
    table = make_report(folder, split="val").table
    assert table["model.nodes.hour"].tolist() == ["pool(words)", "dense(words)"]
