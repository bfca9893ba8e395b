"""Whole training steps: a hand-written PyTorch loop, a bare LightningModule, and plait as
`train.py` builds it (default loggers and callbacks, per-output metrics, checkpoints).

All three train the same module on the same batches (one `ArrayDataModule`'s loader), so
the differences are the training machinery alone. Rounds alternate between them, so a
drifting load on a shared machine hits each alike; each round trains whole epochs and the
median samples per second is reported, with the ratio to the hand-written loop and the
milliseconds per step plait adds over bare Lightning; then the same ratios from each way's
fastest epoch ("best"), which a noisy machine (one whose load only ever adds time) moves
less than the medians.

    python scripts/bench_train.py [--rounds 3] [--epochs 2] [--workloads w1,w2,w3] [--loader] [--device cuda] [--compile]

`--epochs` counts the timed epochs of each run; one more runs first, untimed. `--compile`
compiles plait's graph (`model.compile: true`) and adds a fourth way, the hand-written loop
with its forward and losses through `torch.compile`: what compiling gives without plait.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import lightning as L
import numpy as np
import torch
from hydra import compose, initialize_config_dir

from plait.blocks import CNNTower, Concat, Conv1D, Dense, Embedding, GlobalMaxPool1D, LSTMEncoder
from plait.data import ArrayDataModule
from plait.graph import Graph, Input
from plait.system import GraphSystem
from plait.train.build import build_callbacks, build_loggers, build_trainer

CONF = Path(__file__).resolve().parents[1] / "conf"
DEVICE = torch.device("cpu")  # --device cuda trains all three on the GPU
COMPILE = False  # --compile: plait's graph with model.compile, beside the hand-written loop
# compiled (`torch.compile` of its forward and losses); each run's first epoch compiles, untimed


@dataclass
class Workload:
    """A graph, its outputs' losses, and arrays to train on."""

    name: str
    graph: Callable[[], Graph]
    outputs: dict
    arrays: Callable[[np.random.Generator], tuple[dict, dict]]
    batch_size: int


def dense() -> Graph:
    pixels = Input("pixels", shape=(784,))
    hidden = Dense(64, activation="relu")(Dense(64, activation="relu")(pixels))
    return Graph(pixels, {"digit": Dense(10)(hidden)})


def vqa() -> Graph:
    image = Input("image", shape=(3, 64, 64))
    question = Input("question", shape=(12,), dtype=torch.long)
    merged = Concat()([CNNTower(channels=(32, 64, 128))(image),
                       LSTMEncoder(hidden_size=128, vocab_size=30, embedding_dim=64)(question)])
    return Graph([image, question], {"answer": Dense(10)(merged)})


def posts() -> Graph:
    text = Input("text", shape=(64,), dtype=torch.long)
    steps = Conv1D(128, 5, padding="same", activation="relu")(Embedding(5000, 128)(text))
    steps = Conv1D(128, 5, padding="same", activation="relu")(steps)
    hidden = Dense(128, activation="relu")(GlobalMaxPool1D()(steps))
    return Graph(text, {"favorites": Dense(1)(hidden), "android": Dense(1)(hidden),
                        "hour": Dense(6)(hidden)})


WORKLOADS = {
    "w1": Workload("W1 dense 784-64-64-10, batch 32", dense,
                   {"digit": {"loss": "cross_entropy", "metrics": ["acc"]}},
                   lambda rng: ({"pixels": rng.random((16384, 784), dtype=np.float32)},
                                {"digit": rng.integers(0, 10, 16384)}), 32),
    "w2": Workload("W2 VQA-size CNN + LSTM, batch 64", vqa,
                   {"answer": {"loss": "cross_entropy", "metrics": ["acc"]}},
                   lambda rng: ({"image": rng.random((2048, 3, 64, 64), dtype=np.float32),
                                 "question": rng.integers(1, 30, (2048, 12))},
                                {"answer": rng.integers(0, 10, 2048)}), 64),
    "w3": Workload("W3 posts, three heads, batch 64", posts,
                   {"favorites": {"loss": "mse", "weight": 0.25, "metrics": ["mae"]},
                    "android": {"loss": "binary_cross_entropy", "weight": 10.0, "metrics": ["acc"]},
                    "hour": {"loss": "cross_entropy", "weight": 1.0, "metrics": ["acc"]}},
                   lambda rng: ({"text": rng.integers(1, 5000, (8192, 64))},
                                {"favorites": rng.random(8192, dtype=np.float32),
                                 "android": rng.integers(0, 2, 8192).astype(np.float32),
                                 "hour": rng.integers(0, 6, 8192)}), 64),
}


def hand_loop(system: GraphSystem, data: ArrayDataModule, epochs: int, compiled: bool = False
              ) -> list[float]:
    """The loop a user writes by hand: forward, the same weighted losses, backward, step
    (`compiled`: forward and losses through `torch.compile`). Returns each epoch's seconds."""
    system.to(DEVICE)
    graph, loss = system.graph, system.loss
    optimizer = torch.optim.Adam(graph.parameters(), lr=1e-3)
    graph.train()

    def forward(batch: dict) -> torch.Tensor:
        return loss(graph({n: batch[n] for n in graph.input_names}), batch)[0]

    if compiled:
        torch._dynamo.config.allow_rnn = True  # as plait's model.compile does
        forward = torch.compile(forward)
    took = []
    for _ in range(epochs):
        start = time.perf_counter()
        for batch in data.train_dataloader():
            batch = {k: v.to(DEVICE, non_blocking=True) for k, v in batch.items()}
            optimizer.zero_grad(set_to_none=True)
            total = forward(batch)
            total.backward()
            optimizer.step()
        if DEVICE.type == "cuda":
            torch.cuda.synchronize()
        took.append(time.perf_counter() - start)
    return took


class EpochTimes(L.Callback):
    """The seconds of each training epoch, from its first batch to its end."""

    def __init__(self) -> None:
        self.took: list[float] = []

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._start = time.perf_counter()

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if DEVICE.type == "cuda":
            torch.cuda.synchronize()
        self.took.append(time.perf_counter() - self._start)


class Bare(L.LightningModule):
    """The smallest LightningModule for the same module and losses: it logs nothing, so the
    milliseconds plait adds over it are all of plait's logging, metrics and callbacks."""

    def __init__(self, system: GraphSystem) -> None:
        super().__init__()
        self.graph, self.loss = system.graph, system.loss

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        return self.loss(self.graph({n: batch[n] for n in self.graph.input_names}), batch)[0]

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=1e-3)


def bare_lightning(system: GraphSystem, data: ArrayDataModule, epochs: int, out: Path) -> list[float]:
    timer = EpochTimes()
    trainer = L.Trainer(max_epochs=epochs, accelerator=DEVICE.type, devices=1, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, callbacks=[timer], default_root_dir=out)
    trainer.fit(Bare(system), data)
    return timer.took


def plait_run(system: GraphSystem, data: ArrayDataModule, epochs: int, out: Path) -> list[float]:
    """plait's trainer from the default configs: CSV and wandb (offline) loggers, best and
    last checkpoints, the epoch line, plus a timer."""
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("train", overrides=[f"paths.output_dir={out}", f"trainer.max_epochs={epochs}",
                                          "optimized_metric=train/loss", "trainer.limit_val_batches=0",
                                          f"trainer={'gpu' if DEVICE.type == 'cuda' else 'cpu'}"])
    timer = EpochTimes()  # first, so the epoch's end is timed after every other callback's
    trainer = build_trainer(cfg, [timer, *build_callbacks(cfg)], build_loggers(cfg))
    trainer.fit(system, data)
    return timer.took


def measure(workload: Workload, rounds: int, epochs: int) -> tuple[dict[str, float], dict[str, float]]:
    """Median and best samples per second of each way, over alternating rounds; the first
    epoch of every run is left out (start-up: wandb's first log, shape checks, allocator
    warm-up)."""
    inputs, targets = workload.arrays(np.random.default_rng(0))
    rows = len(next(iter(inputs.values())))
    data = ArrayDataModule(inputs, targets, batch_size=workload.batch_size, val_fraction=0.0)
    data.setup("fit")
    seconds: dict[str, list[float]] = {"hand": [], "lightning": [], "plait": []}
    if COMPILE:
        seconds["hand compiled"] = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            for way in seconds:
                torch.manual_seed(r)
                system = GraphSystem(workload.graph(), outputs=workload.outputs,
                                     compile=COMPILE and way == "plait")
                out = Path(tmp) / f"{way}{r}"
                if way.startswith("hand"):
                    took = hand_loop(system, data, epochs + 1, compiled=way == "hand compiled")
                elif way == "lightning":
                    took = bare_lightning(system, data, epochs + 1, out)
                else:
                    took = plait_run(system, data, epochs + 1, out)
                seconds[way].extend(took[1:])
    return ({way: rows / statistics.median(s) for way, s in seconds.items()},
            {way: rows / min(s) for way, s in seconds.items()})


def loader_throughput(batch_size: int = 64, seconds: float = 3.0) -> float:
    """Samples per second that the VQA data module's train loader alone delivers."""
    from plait.data import EasyVQADataModule

    data = EasyVQADataModule(batch_size=batch_size)
    data.prepare_data()
    data.setup("fit")
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for batch in data.train_dataloader():
            count += len(batch["answer"])
            if time.perf_counter() - start > seconds:
                break
    return count / (time.perf_counter() - start)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--workloads", default="w1,w2,w3")
    parser.add_argument("--loader", action="store_true", help="also the VQA loader's throughput")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--compile", action="store_true",
                        help="plait with model.compile: true, and the hand-written loop compiled")
    args = parser.parse_args(argv)
    global DEVICE, COMPILE
    DEVICE, COMPILE = torch.device(args.device), args.compile
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{args.rounds} rounds of {args.epochs} epochs")
    for key in args.workloads.split(","):
        workload = WORKLOADS[key]
        rates, best = measure(workload, args.rounds, args.epochs)
        extra = (1 / rates["plait"] - 1 / rates["lightning"]) * workload.batch_size * 1000
        print(f"{workload.name}: " + ", ".join(
            f"{way} {rate:,.0f} samples/s ({rate / rates['hand']:.2f}x)" for way, rate in rates.items())
            + f"; plait adds {extra:.2f} ms a step over bare Lightning; best epochs: "
            + ", ".join(f"{way} {rate / best['hand']:.2f}x" for way, rate in best.items() if way != "hand"),
            flush=True)
    if args.loader:
        print(f"VQA train loader alone: {loader_throughput():,.0f} samples/s")


if __name__ == "__main__":
    main(sys.argv[1:])
