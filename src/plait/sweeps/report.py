"""`python scripts/sweep_report.py <sweep folder>`: a sweep as a table and plots.

Writes into `<sweep folder>/report/` (or `--out`): `sweep.csv` and `sweep.md` (weights ->
each output's metrics and the objective), `metric_vs_<weight>.png` for every weight that
varies, and `tradeoff_<a>_<b>.png` (two outputs' metrics, run by run, with the Pareto front).
`sweep.md` counts the runs that finished against every job (a grid's not yet run too),
says once what every run shared (`Fixed: trainer.max_epochs=30 ...`), and leaves out of the
table the settings with one value throughout; `sweep.csv` keeps every column. With
`--mean-over seed`, runs that differ only in the seed are also averaged, one row each
(`sweep_mean.csv`, and a second table in `sweep.md`): what a choice between settings
should rest on when one run's figures move with its initialisation.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from plait.sweeps.plots import metric_vs_weight, tradeoff
from plait.sweeps.runs import Sweep, SweepError, load_sweep
from plait.sweeps.table import (
    fixed_settings,
    keep_metrics,
    lower_is_better,
    mean_over,
    objective_column,
    primary_metric,
    sweep_table,
    to_markdown,
    weight_column,
)


@dataclass
class Report:
    """What a report wrote, and its table."""

    table: pd.DataFrame  # as sweep.md shows it: no column with one value throughout
    markdown: str
    files: list[Path]
    fixed: list[str]  # what every run shared, `key=value`


def make_report(folder: str | Path, out: str | Path | None = None,
                pairs: Sequence[tuple[str, str]] | None = None,
                metrics: Sequence[str] | None = None, split: str | None = None,
                epoch: str = "best", mean_keys: Sequence[str] = ()) -> Report:
    """Read a sweep folder and write its table and plots.

    Args:
        folder: the sweep folder (`logs/<task>/multiruns/<time>` or `logs/<task>/optuna/<study>`).
        out: where to write; `<folder>/report` if None.
        pairs: output pairs to plot against each other; the first two outputs if None.
        metrics: the metric names the table keeps (`auroc`, `mae`); all if None. The plots
            use each output's first configured metric.
        split: whose metrics the table shows: `val` (each run's best epoch, what a choice
            should rest on) or `test` (the checkpoint each run tested); None: test when any run
            was tested, else val.
        epoch: which val epoch: `best` (the best objective's, what checkpointing kept) or
            `last` (the weights a run ends with, what a run that tests them is tested on).
        mean_keys: settings to average over (`seed`): the finished runs that differ only in
            them become one row of means, in `sweep_mean.csv` and under the table.

    Raises:
        SweepError: not a sweep folder, a pair naming no output, an unknown split or epoch,
            or a mean over a setting the sweep did not vary.
    """
    sweep = load_sweep(folder)
    if split not in (None, "val", "test"):
        raise SweepError(f"split: expected val or test, received {split!r}")
    if epoch not in ("best", "last"):
        raise SweepError(f"epoch: expected best or last, received {epoch!r}")
    table = sweep_table(sweep, split, epoch)
    out = Path(out) if out is not None else sweep.folder / "report"
    out.mkdir(parents=True, exist_ok=True)
    kept = keep_metrics(table, metrics) if metrics else table
    shown, fixed = fixed_settings(kept, sweep)
    markdown = _markdown(sweep, shown, fixed, epoch)
    files = [out / "sweep.csv", out / "sweep.md"]
    kept.to_csv(files[0], index=False)
    if mean_keys:
        means = mean_over(shown, mean_keys)
        files.append(out / "sweep_mean.csv")
        means.to_csv(files[-1], index=False)
        markdown += (f"\n\nMeans over {', '.join(f'`{k}`' for k in mean_keys)} (finished runs "
                     f"alike in every other setting):\n\n{to_markdown(means)}")
    files[1].write_text(markdown + "\n")
    metrics = [m for m in (primary_metric(table, sweep, o) for o in sweep.outputs) if m]
    metrics.append(objective_column(sweep))
    for output in sweep.outputs:
        weight = weight_column(output)
        if table[weight].nunique() > 1:
            files.append(metric_vs_weight(table, weight, metrics, out / f"metric_vs_weight_{output}.png"))
    for a, b in _pairs(sweep, pairs):
        x, y = primary_metric(table, sweep, a), primary_metric(table, sweep, b)
        if x and y:
            files.append(tradeoff(table, x, y, out / f"tradeoff_{a}_{b}.png"))
    return Report(shown, markdown, files, fixed)


STATE_WORDS = {"FAIL": "failed", "UNFINISHED": "unfinished", "PRUNED": "pruned",
               "RUNNING": "running", "NOT RUN": "not run"}


def run_count(table: pd.DataFrame) -> str:
    """`9 of 12 runs finished: 1 failed, 2 not run`, from the table's states."""
    states = table["state"].value_counts()
    order = [*STATE_WORDS, *sorted(set(states.index) - set(STATE_WORDS) - {"COMPLETE"})]
    others = [f"{states[s]} {STATE_WORDS.get(s, s.lower())}" for s in order if s in states]
    return (f"{states.get('COMPLETE', 0)} of {len(table)} runs finished"
            + (f": {', '.join(others)}" if others else ""))


def _markdown(sweep: Sweep, table: pd.DataFrame, fixed: Sequence[str], epoch: str) -> str:
    best_is = "max" if sweep.mode == "max" else "min"
    tested = any(c.startswith("test/") for c in table)
    source = ("the test split (the checkpoint each run tested: the best, or with `test=last` "
              "the last weights)" if tested else f"the {epoch} epoch on val")
    lines = [f"Sweep `{sweep.folder}` ({sweep.kind}, {run_count(table)}). Objective: "
             f"{best_is} of `{sweep.objective}` over epochs; output metrics from {source}."]
    if fixed:
        lines.append("Fixed: " + " ".join(f"`{f}`" for f in fixed))
    if lower_is_better(sweep.objective) and sweep.objective.endswith("/loss") and \
            sweep.objective.count("/") == 1 and table.filter(like="weight/").nunique().max() > 1:
        lines.append(f"Note: `{sweep.objective}` is the weighted sum of the losses, so it is not "
                     "comparable across weights; compare the per-output metrics.")
    return "\n\n".join([*lines, to_markdown(table)])


def _pairs(sweep: Sweep, pairs: Sequence[tuple[str, str]] | None) -> list[tuple[str, str]]:
    if pairs is None:
        return [tuple(sweep.outputs[:2])] if len(sweep.outputs) >= 2 else []
    for pair in pairs:
        for name in pair:
            if name not in sweep.outputs:
                raise SweepError(f"--pair: {name!r} names no output of the sweep's model; "
                                 f"outputs are {sweep.outputs}")
    return list(pairs)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: print the markdown table and the files written; exit 2 on a bad folder."""
    parser = argparse.ArgumentParser(prog="sweep_report.py", description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="a sweep folder: logs/<task>/multiruns/<time> or "
                                       "logs/<task>/optuna/<study>")
    parser.add_argument("--out", help="where to write (default: <folder>/report)")
    parser.add_argument("--pair", action="append", metavar="A,B",
                        help="two outputs to plot against each other (repeatable)")
    parser.add_argument("--metrics", metavar="M,N", help="the metrics the table keeps, "
                        "e.g. auroc,mae (default: all)")
    parser.add_argument("--split", choices=("val", "test"), help="show each output's metrics "
                        "on val (at the best epoch) or test (default: test when runs were tested)")
    parser.add_argument("--epoch", choices=("best", "last"), default="best",
                        help="the val epoch shown: the best objective's (default) or the last")
    parser.add_argument("--mean-over", metavar="KEY[,KEY]", help="also average the runs that "
                        "differ only in these settings, e.g. seed")
    args = parser.parse_args(argv)
    pairs = [tuple(p.split(",", 1)) for p in args.pair] if args.pair else None
    if pairs and any(len(p) != 2 for p in pairs):
        parser.error("--pair: expected two output names, e.g. --pair age,income")
    try:
        mean_keys = [k.strip() for k in args.mean_over.split(",")] if args.mean_over else ()
        report = make_report(args.folder, args.out, pairs,
                             args.metrics.split(",") if args.metrics else None, args.split,
                             args.epoch, mean_keys)
    except SweepError as err:
        print(f"sweep_report: {err}", file=sys.stderr)
        return 2
    print(report.markdown)
    print("\nwritten: " + ", ".join(str(p) for p in report.files))
    return 0
