"""Start-up: seconds from a process's start to its first training step, and to `mode=check`'s end.

Each round runs, as fresh processes and in turn: `python -c "import lightning"`;
`train.py experiment=vqa mode=check`; bare Lightning fitting the VQA graph on the same data
module (no loggers, no callbacks); `train.py experiment=vqa` with its default loggers and
callbacks; and the same with `logger=csv`. A training run stops at its first step, which a
callback reports. Medians over the rounds are printed, with the differences the targets
name (check against the import, first step against bare Lightning).

    python scripts/bench_startup.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARK = "first training step at"


def first_step_callback():
    """A Lightning callback that prints the seconds since `BENCH_T0` at the first training
    step, then ends the process: what comes after the first step is not start-up."""
    import lightning as L

    class FirstStep(L.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
            print(f"{MARK} {time.time() - float(os.environ['BENCH_T0']):.3f}", flush=True)
            os._exit(0)

    return FirstStep()


def bare_lightning() -> None:
    """The child of the bare-Lightning way: the VQA-size graph on the VQA data module."""
    import lightning as L

    from bench_train import Bare, vqa  # beside this script, so on sys.path
    from plait.data import EasyVQADataModule
    from plait.system import GraphSystem

    system = GraphSystem(vqa(), outputs={"answer": {"loss": "cross_entropy"}})
    trainer = L.Trainer(max_steps=1, accelerator="cpu", logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, callbacks=[first_step_callback()])
    trainer.fit(Bare(system), EasyVQADataModule(batch_size=64))


def seconds(command: list[str]) -> float:
    """Wall seconds of a process, or the time its first training step reported."""
    env = {**os.environ, "BENCH_T0": repr(time.time()), "WANDB_MODE": "offline",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "scripts"), os.environ.get("PYTHONPATH")]))}
    start = time.perf_counter()
    out = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    for line in out.stdout.splitlines():
        if line.startswith(MARK):
            return float(line.split()[-1])
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{out.stderr[-2000:]}")
    return took


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bare-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bare_child:
        return bare_lightning()
    python, train = sys.executable, str(ROOT / "train.py")
    first_step = ["trainer.max_steps=1", "+callbacks.first_step._target_=bench_startup.first_step_callback"]
    ways = {
        "import lightning": lambda tmp: [python, "-c", "import lightning"],
        "mode=check": lambda tmp: [python, train, "experiment=vqa", "mode=check", f"hydra.run.dir={tmp}"],
        "bare Lightning, first step": lambda tmp: [python, __file__, "--bare-child"],
        "train.py, first step": lambda tmp: [python, train, "experiment=vqa", *first_step, f"hydra.run.dir={tmp}"],
        "train.py logger=csv, first step": lambda tmp: [python, train, "experiment=vqa", "logger=csv",
                                                        *first_step, f"hydra.run.dir={tmp}"],
    }
    times: dict[str, list[float]] = {way: [] for way in ways}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for i, (way, command) in enumerate(ways.items()):
                times[way].append(seconds(command(f"{tmp}/run{r}_{i}")))
    median = {way: statistics.median(t) for way, t in times.items()}
    for way, value in median.items():
        print(f"{way}: {value:.2f} s (median of {args.rounds})")
    print(f"mode=check over import lightning: {median['mode=check'] - median['import lightning']:+.2f} s")
    bare = median["bare Lightning, first step"]
    for way in ("train.py, first step", "train.py logger=csv, first step"):
        print(f"{way} over bare Lightning: {median[way] - bare:+.2f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
