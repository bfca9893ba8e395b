"""Training throughput at 1 and N processes on this machine, and the speed-up.

Runs `train.py` as a user would (trainer=cpu, then trainer=ddp_cpu with N devices, each
process on 1/N of the batch), reads the per-epoch times the runs print, and reports
samples per second from the epochs after the first (which includes start-up costs).

    python scripts/bench_ddp.py [--experiment vqa] [--samples 2048] [--epochs 3] [--processes 2]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EPOCH = re.compile(r"^epoch \d+/\d+ .*\((\d+\.\d+)s\)$", re.MULTILINE)


def samples_per_second(args: argparse.Namespace, processes: int) -> float:
    trainer = ["trainer=cpu"] if processes == 1 else ["trainer=ddp_cpu", f"trainer.devices={processes}"]
    with tempfile.TemporaryDirectory() as run:
        result = subprocess.run(
            [sys.executable, "train.py", f"experiment={args.experiment}", *trainer, "logger=csv", "test=false",
             f"data.limit={args.samples}", f"data.batch_size={args.batch // processes}",
             f"trainer.max_epochs={args.epochs}", "trainer.limit_val_batches=0", "optimized_metric=null", f"hydra.run.dir={run}"],
            cwd=ROOT, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    if result.returncode != 0:
        raise SystemExit(result.stderr[-3000:])
    seconds = [float(s) for s in EPOCH.findall(result.stdout)][1:]
    return args.samples / statistics.median(seconds)


def main(argv: list[str] | None = None) -> dict[int, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", default="vqa")
    parser.add_argument("--samples", type=int, default=2048, help="training samples per epoch")
    parser.add_argument("--batch", type=int, default=64, help="global batch, split over the processes")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args(argv)
    rates = {n: samples_per_second(args, n) for n in (1, args.processes)}
    print(f"{args.experiment}: {args.samples} samples/epoch, global batch {args.batch}, 1 thread per process")
    for n, rate in rates.items():
        print(f"  {n} process{'es' if n > 1 else ''}: {rate:8.1f} samples/s")
    print(f"  speed-up {rates[args.processes] / rates[1]:.2f}x on {args.processes} processes")
    return rates


if __name__ == "__main__":
    main()
