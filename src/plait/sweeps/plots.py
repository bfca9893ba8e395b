"""PNG plots of a sweep: each output's metric against a weight, and the trade-off between
two outputs with its Pareto front."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure  # no pyplot: no display, no global figure state

from plait.sweeps.table import lower_is_better


def pareto_front(x: Sequence[float], y: Sequence[float], *, x_lower: bool,
                 y_lower: bool) -> list[int]:
    """Indices of the points no other point beats on both axes, ordered along x.

    A point is dominated when another is at least as good on both axes and better on one;
    `x_lower`/`y_lower` say whether smaller is better on each axis. NaNs are left out.
    """
    sx = np.asarray(x, float) * (1 if x_lower else -1)  # as costs: smaller is better
    sy = np.asarray(y, float) * (1 if y_lower else -1)
    keep = [i for i in range(len(sx)) if np.isfinite(sx[i]) and np.isfinite(sy[i])]
    front = [i for i in keep if not any(
        sx[j] <= sx[i] and sy[j] <= sy[i] and (sx[j] < sx[i] or sy[j] < sy[i]) for j in keep)]
    return sorted(front, key=lambda i: (x[i], y[i]))


def metric_vs_weight(table: pd.DataFrame, weight: str, metrics: Sequence[str], path: Path) -> Path:
    """One panel per metric, against `weight` on a log axis; one point per run."""
    fig = Figure(figsize=(4 * len(metrics), 3.4))
    axes = fig.subplots(1, len(metrics), squeeze=False)
    ordered = table.sort_values(weight)
    for ax, metric in zip(axes[0], metrics):
        done = ordered[ordered[metric].notna()]
        ax.plot(done[weight], done[metric], "o-" if table[weight].nunique() <= 12 else "o",
                color="tab:blue")
        for _, row in done.iterrows():
            ax.annotate(str(row["run"]), (row[weight], row[metric]), fontsize=7,
                        textcoords="offset points", xytext=(3, 3))
        ax.set_xscale("log")
        ax.set_xlabel(weight)
        ax.set_ylabel(metric)
        ax.set_title(f"{metric} ({'lower' if lower_is_better(metric) else 'higher'} is better)",
                     fontsize=9)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path


def tradeoff(table: pd.DataFrame, x: str, y: str, path: Path) -> Path:
    """Every run's `x` against its `y`; the Pareto front marked and joined."""
    fig = Figure(figsize=(5, 4.2))
    ax = fig.subplots()
    done = table[table[x].notna() & table[y].notna()].reset_index(drop=True)
    ax.scatter(done[x], done[y], color="tab:gray", label="run")
    front = pareto_front(done[x].tolist(), done[y].tolist(),
                         x_lower=lower_is_better(x), y_lower=lower_is_better(y))
    ax.plot(done.loc[front, x], done.loc[front, y], "o-", color="tab:red", label="Pareto front")
    for _, row in done.iterrows():
        ax.annotate(str(row["run"]), (row[x], row[y]), fontsize=7, textcoords="offset points",
                    xytext=(3, 3))
    ax.set_xlabel(f"{x} ({'lower' if lower_is_better(x) else 'higher'} is better)")
    ax.set_ylabel(f"{y} ({'lower' if lower_is_better(y) else 'higher'} is better)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path
