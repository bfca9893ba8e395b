"""Turn run folders into the markdown results table of an experiment's README.

For each run: its overrides, the epochs trained, the validation metrics at the best epoch
of the run's `optimized_metric`, and the test metrics.

    python scripts/results_table.py logs/vqa/runs/2026-11-21_23-59-53 [more runs] [--label NAME ...]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import pandas as pd
import yaml


def run_row(run: Path) -> dict[str, str]:
    """One table row of a run folder's metrics."""
    metrics_file = run / "csv" / "metrics.csv"
    if not metrics_file.is_file():
        raise SystemExit(f"{run} is not a run folder: it has no csv/metrics.csv")
    config = yaml.safe_load((run / ".hydra" / "config.yaml").read_text())
    overrides = yaml.safe_load((run / ".hydra" / "overrides.yaml").read_text()) or []
    frame = pd.read_csv(metrics_file)
    target, mode = config["optimized_metric"], config.get("optimized_mode", "min")
    epochs = frame.dropna(subset=[target]) if target in frame else frame.iloc[0:0]
    row = {"run": " ".join(overrides), "epochs": str(epochs_trained(frame))}
    if len(epochs):
        best = epochs[target].idxmax() if mode == "max" else epochs[target].idxmin()
        row |= {c: _fmt(epochs.loc[best, c]) for c in sorted(frame) if c.startswith("val/")}
    tested = frame.filter(like="test/").dropna(how="all")
    if len(tested):
        row |= {c: _fmt(tested[c].dropna().iloc[-1]) for c in sorted(tested) if tested[c].notna().any()}
    return row


def epochs_trained(frame: pd.DataFrame) -> int:
    """1 + the last epoch with a `train/` or `val/` metric: the test step after fit logs the
    epoch index one past the last trained epoch, so it is not counted."""
    fitting = frame.filter(regex=r"^(train|val)/").notna().any(axis=1)
    last = frame.loc[fitting, "epoch"].max()
    return 0 if pd.isna(last) else int(last) + 1


def _fmt(value: float) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.4f}"


def markdown(rows: list[dict[str, str]], labels: list[str]) -> str:
    columns = ["run", "epochs"] + sorted({c for r in rows for c in r} - {"run", "epochs"})
    lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    for label, row in zip(labels, rows):
        row = {**row, "run": label or row["run"]}
        lines.append("| " + " | ".join(row.get(c, "") for c in columns) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--label", action="append", default=[], help="a name per run, in order")
    args = parser.parse_args(argv)
    labels = args.label + [""] * (len(args.runs) - len(args.label))
    table = markdown([run_row(r) for r in args.runs], labels)
    print(table)
    return table


if __name__ == "__main__":
    main()
