"""A sweep as one table: per run, the weights and settings swept, each output's metrics and
the objective; and the settings every run shared, said once."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from plait.sweeps.runs import (
    Sweep,
    SweepError,
    SweepRun,
    best_epoch,
    last_epoch,
    last_value,
    run_order,
    setting,
)

LOWER_IS_BETTER = ("loss", "mse", "mae", "rmse", "error")
NOT_RUN = "NOT RUN"  # a job of the grid that has no folder: the sweep stopped before it


def lower_is_better(metric: str) -> bool:
    """Whether smaller is better for a metric name such as `test/age/mae` or `val/loss`."""
    return metric.rsplit("/", 1)[-1] in LOWER_IS_BETTER


def weight_column(output: str) -> str:
    return f"weight/{output}"


def objective_column(sweep: Sweep) -> str:
    return f"best {sweep.objective}"


def metric_stage(sweep: Sweep) -> str:
    """`test` when any run was tested (the checkpoint it tested), else `val` (at its best epoch)."""
    for run in sweep.runs:
        if run.metrics is not None and any(c.startswith("test/") for c in run.metrics):
            return "test"
    return "val"


def sweep_table(sweep: Sweep, split: str | None = None, epoch: str = "best") -> pd.DataFrame:
    """One row per job: run, state, swept settings, each output's weight and the balancing,
    the best objective, each output's metrics (on `split`: `test`, the tested checkpoint's, or
    `val`, at the best epoch, or at the last with `epoch="last"`; None: test when any run
    was tested, else val), the best epoch (counted from 1, as the console counts them: the
    epoch whose weights the best checkpoint holds), epochs validated and seconds. A job of the
    grid that never started is a row too, state `NOT RUN`."""
    stage = split or metric_stage(sweep)
    swept = setting_keys(sweep)
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
        best = best_epoch(run.metrics, sweep.objective, sweep.mode)  # the epoch checkpointing kept
        row[objective_column(sweep)] = math.nan if best is None else float(best[sweep.objective])
        shown = last_epoch(run.metrics, sweep.objective) if epoch == "last" else best
        row.update(_output_metrics(run, sweep, stage, shown))
        logged = best is not None and not pd.isna(best.get("epoch"))
        row["best epoch"] = int(best["epoch"]) + 1 if logged else None  # counted from 1
        row["epochs"] = _epochs(run, sweep.objective)
        row["seconds"] = None if run.seconds is None else round(run.seconds)
        rows.append(row)
    for name, job in (sweep.not_run or {}).items():
        given = _as_dict(job)
        rows.append({"run": name, "state": NOT_RUN, **{key: given.get(key) for key in swept},
                     **{weight_column(o): _number(given.get(setting_key(weight_column(o))))
                        for o in sweep.outputs},
                     "balancing": given.get(setting_key("balancing"))})
    rows.sort(key=lambda row: run_order(row["run"]))
    table = pd.DataFrame(rows)
    last = ["best epoch", "epochs", "seconds"]
    table = table[[c for c in table.columns if c not in last] + last]
    return table.astype(dict.fromkeys(last, "Int64"))  # whole numbers, blank if not run


def setting_keys(sweep: Sweep) -> list[str]:
    """The override keys shown as columns: the grid's axes (from `multirun.yaml`, so a grid
    stopped early keeps every axis), then any other key whose value differs between runs;
    less the weights and the balancing strategy (columns of their own)."""
    axes = sweep.grid.axes if sweep.grid else []
    return [k for k in dict.fromkeys([*axes, *swept_keys(sweep.runs)])
            if not _is_weight_key(k) and k != setting_key("balancing")]


def setting_key(column: str) -> str:
    """The config key a settings column shows: `weight/age` -> `model.outputs.age.weight`."""
    if column.startswith("weight/"):
        return f"model.outputs.{column.split('/', 1)[1]}.weight"
    return "model.loss_balancing" if column == "balancing" else column


def fixed_settings(table: pd.DataFrame, sweep: Sweep) -> tuple[pd.DataFrame, list[str]]:
    """The table less its settings columns with one value in every run, and what every run
    shared: the overrides held fixed (from `multirun.yaml`, else those every run was given),
    then each dropped column as `column=value`. A grid's axes stay columns."""
    fixed = list(sweep.grid.fixed) if sweep.grid else _common_overrides(sweep.runs)
    typed = {f.split("=", 1)[0].lstrip("+~") for f in fixed}
    axes = set(sweep.grid.axes if sweep.grid else [])
    ran = table[table["state"] != NOT_RUN]
    keys = setting_keys(sweep)
    settings = [c for c in table.columns if c in keys or c == "balancing" or c.startswith("weight/")]
    for column in settings:
        if setting_key(column) in axes or ran[column].nunique(dropna=False) > 1:
            continue
        values = ran[column].dropna()
        table = table.drop(columns=column)
        if setting_key(column) not in typed and len(values):
            fixed.append(f"{column}={cell(values.iloc[0])}")
    return table, fixed


def keep_metrics(table: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """The table with only these metrics (`auroc`, `mae`, ...) of each output."""
    return table[[c for c in table.columns if not c.startswith(("test/", "val/"))
                  or c.rsplit("/", 1)[-1] in metrics]]


def swept_keys(runs: Sequence[SweepRun]) -> list[str]:
    """Override keys whose value differs between runs (or that some runs lack)."""
    values: dict[str, set[str]] = {}
    for run in runs:
        for key, value in _overrides(run).items():
            values.setdefault(key, set()).add(value)
    return [k for k, v in values.items() if len(v) > 1 or any(k not in _overrides(r) for r in runs)]


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


def cell(value: object) -> str:
    """A value as the report shows it: numbers to 4 significant digits, blank for none."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def to_markdown(table: pd.DataFrame) -> str:
    """A GitHub markdown table; numbers to 4 significant digits."""
    lines = ["| " + " | ".join(table.columns) + " |",
             "|" + "|".join("---" for _ in table.columns) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |"
              for row in table.itertuples(index=False)]
    return "\n".join(lines)


def _overrides(run: SweepRun) -> dict[str, str]:
    return _as_dict(run.overrides)


def _as_dict(overrides: Sequence[str]) -> dict[str, str]:
    """`key=value` overrides by key, without `+`/`~` and `hydra.*`; a value quoted for Hydra's
    grammar (`"wide_pool(words)"`) without its quotes."""
    pairs = (o.split("=", 1) for o in overrides if "=" in o)
    return {k.lstrip("+~"): _unquoted(v) for k, v in pairs if not k.lstrip("+~").startswith("hydra.")}


def _unquoted(value: str) -> str:
    quoted = len(value) >= 2 and value[0] == value[-1] and value[0] in "'\""
    return value[1:-1] if quoted else value


def _common_overrides(runs: Sequence[SweepRun]) -> list[str]:
    """The overrides every run was given, with one value."""
    return [o for o in runs[0].overrides
            if "=" in o and not o.lstrip("+~").startswith("hydra.")
            and all(o in run.overrides for run in runs)]


def _is_weight_key(key: str) -> bool:
    return key.startswith("model.outputs.") and key.endswith(".weight")


def _number(value: str | None) -> float | None:
    try:
        return None if value is None else float(value)
    except ValueError:
        return None


def _override_value(run: SweepRun, key: str) -> str | None:
    return _overrides(run).get(key)


def _epochs(run: SweepRun, objective: str) -> int:
    """Epochs validated (the rows with the objective)."""
    if run.metrics is None or objective not in run.metrics:
        return 0
    return int(run.metrics[objective].notna().sum())


def mean_over(table: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """The finished runs that differ only in `keys` (e.g. `seed`) as one row each: every
    other setting, `runs` (how many), then the mean of each number (objective, metrics,
    best epoch, seconds). The settings are the columns before the objective's.

    Raises:
        SweepError: a key that is not a column of the table (a setting the sweep varied).
    """
    missing = [k for k in keys if k not in table.columns]
    if missing:
        raise SweepError(f"mean over {missing[0]!r}: not a setting the sweep varied; its columns "
                         f"are {list(table.columns)}")
    done = table[table["state"] == "COMPLETE"]
    first_number = next(i for i, c in enumerate(table.columns) if c.startswith("best "))
    settings = [c for c in table.columns[:first_number] if c not in ("run", "state", *keys)]
    numbers = [c for c in table.columns[first_number:] if c != "epochs"]
    grouped = done.groupby(settings, dropna=False, sort=False) if settings else [((), done)]
    rows = []
    for values, group in grouped:
        values = values if isinstance(values, tuple) else (values,)
        rows.append({**dict(zip(settings, values)), "runs": len(group),
                     **{c: pd.to_numeric(group[c], errors="coerce").mean() for c in numbers}})
    return pd.DataFrame(rows)


def _output_metrics(run: SweepRun, sweep: Sweep, stage: str,
                    shown: pd.Series | None) -> dict[str, float]:
    """Each output's metrics on `stage`: test's last logged values, or val's in the `shown`
    epoch's row (None: the run logged no epoch)."""
    if run.metrics is None:
        return {}
    values = {}
    for output in sweep.outputs:
        for column in run.metrics.columns:
            if not column.startswith(f"{stage}/{output}/") or column.count("/") != 2:
                continue
            if stage == "test":
                values[column] = last_value(run.metrics, column)
            else:
                values[column] = math.nan if shown is None else float(shown[column])
    return values
