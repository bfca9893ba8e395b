"""A sweep as one table: per run, the weights and settings swept, each output's metrics and
the objective."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from plait.sweeps.runs import Sweep, SweepRun, best_epoch, last_value, setting

LOWER_IS_BETTER = ("loss", "mse", "mae", "rmse", "error")


def lower_is_better(metric: str) -> bool:
    """Whether smaller is better for a metric name such as `test/age/mae` or `val/loss`."""
    return metric.rsplit("/", 1)[-1] in LOWER_IS_BETTER


def weight_column(output: str) -> str:
    return f"weight/{output}"


def objective_column(sweep: Sweep) -> str:
    return f"best {sweep.objective}"


def metric_stage(sweep: Sweep) -> str:
    """`test` when any run was tested (its best checkpoint), else `val` (at its best epoch)."""
    for run in sweep.runs:
        if run.metrics is not None and any(c.startswith("test/") for c in run.metrics):
            return "test"
    return "val"


def sweep_table(sweep: Sweep) -> pd.DataFrame:
    """One row per run: run, state, swept settings, each output's weight, the best objective,
    each output's metrics (test, else val at the best epoch), epochs and seconds."""
    stage = metric_stage(sweep)
    swept = swept_keys(sweep.runs)
    rows = []
    for run in sweep.runs:
        row: dict[str, object] = {"run": run.name, "state": run.state}
        row.update({key: _override_value(run, key) for key in swept})
        row.update({weight_column(o): setting(run.config, f"model.outputs.{o}.weight")
                    for o in sweep.outputs})
        row["balancing"] = setting(run.config, "model.loss_balancing")
        if row["balancing"] not in ("fixed", None):  # learned weights: the last in force
            row.update({f"final {weight_column(o)}": last_value(run.metrics, f"train/{o}/weight")
                        for o in sweep.outputs})
        row[objective_column(sweep)] = _best(run, sweep)
        row.update(_output_metrics(run, sweep, stage))
        row["epochs"] = _epochs(run, sweep.objective)
        row["seconds"] = None if run.seconds is None else round(run.seconds)
        rows.append(row)
    table = pd.DataFrame(rows)
    table = table[[c for c in table.columns if c not in ("epochs", "seconds")] + ["epochs", "seconds"]]
    if table["balancing"].nunique(dropna=False) == 1 and table["balancing"].iloc[0] == "fixed":
        table = table.drop(columns="balancing")
    return table


def keep_metrics(table: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """The table with only these metrics (`auroc`, `mae`, ...) of each output."""
    return table[[c for c in table.columns if not c.startswith(("test/", "val/"))
                  or c.rsplit("/", 1)[-1] in metrics]]


def swept_keys(runs: Sequence[SweepRun]) -> list[str]:
    """Override keys whose value differs between runs, less the weights and the balancing
    strategy (shown from the config)."""
    values: dict[str, set[str]] = {}
    for run in runs:
        for key, value in _overrides(run).items():
            values.setdefault(key, set()).add(value)
    return [k for k, v in values.items()
            if (len(v) > 1 or any(k not in _overrides(r) for r in runs))
            and not (k.startswith("model.outputs.") and k.endswith(".weight"))
            and k != "model.loss_balancing"]  # shown as `balancing`


def metric_columns(table: pd.DataFrame, output: str) -> list[str]:
    """The table's metric columns of one output (`test/age/mae`, ...), loss last."""
    columns = [c for c in table.columns if c.startswith(("test/", "val/"))
               and c.split("/")[1:2] == [output] and c.count("/") == 2]
    return sorted(columns, key=lambda c: c.endswith("/loss"))


def primary_metric(table: pd.DataFrame, sweep: Sweep, output: str) -> str | None:
    """The output's first configured metric (e.g. `test/income/auroc`), else its loss."""
    columns = metric_columns(table, output)
    configured = setting(sweep.runs[0].config, f"model.outputs.{output}.metrics") or []
    for name in configured:
        for column in columns:
            if column.endswith(f"/{name}"):
                return column
    return columns[-1] if columns else None


def to_markdown(table: pd.DataFrame) -> str:
    """A GitHub markdown table; numbers to 4 significant digits."""
    def cell(value: object) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ""
        return f"{value:.4g}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(table.columns) + " |",
             "|" + "|".join("---" for _ in table.columns) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |"
              for row in table.itertuples(index=False)]
    return "\n".join(lines)


def _overrides(run: SweepRun) -> dict[str, str]:
    pairs = (o.split("=", 1) for o in run.overrides if "=" in o)
    return {k.lstrip("+~"): v for k, v in pairs if not k.lstrip("+~").startswith("hydra.")}


def _override_value(run: SweepRun, key: str) -> str | None:
    return _overrides(run).get(key)


def _epochs(run: SweepRun, objective: str) -> int:
    """Epochs validated (the rows with the objective)."""
    if run.metrics is None or objective not in run.metrics:
        return 0
    return int(run.metrics[objective].notna().sum())


def _best(run: SweepRun, sweep: Sweep) -> float:
    row = best_epoch(run.metrics, sweep.objective, sweep.mode)
    return math.nan if row is None else float(row[sweep.objective])


def _output_metrics(run: SweepRun, sweep: Sweep, stage: str) -> dict[str, float]:
    if run.metrics is None:
        return {}
    best = best_epoch(run.metrics, sweep.objective, sweep.mode)
    values = {}
    for output in sweep.outputs:
        for column in run.metrics.columns:
            if not column.startswith(f"{stage}/{output}/") or column.count("/") != 2:
                continue
            if stage == "test":
                values[column] = last_value(run.metrics, column)
            else:
                values[column] = math.nan if best is None else float(best[column])
    return values
