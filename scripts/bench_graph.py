"""Graph vs. the same model written by hand as an nn.Module: forward + backward time.

Each pair is timed in the same process, in short alternating rounds, and the ratio of
medians is printed (graph / hand). The hand-written models use plain torch layers only.

    python scripts/bench_graph.py [--rounds 20] [--steps 2]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from plait.blocks import CNNTower, Concat, Dense, LSTMEncoder
from plait.graph import Graph, Input


def dense_graph() -> Graph:
    x = Input("pixels", shape=(784,))
    h = Dense(64, activation="relu")(Dense(64, activation="relu")(x))
    return Graph(x, Dense(10)(h))


class DenseByHand(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2, self.out = nn.Linear(784, 64), nn.Linear(64, 64), nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(F.relu(self.fc2(F.relu(self.fc1(x)))))


def vqa_graph(vocab: int, answers: int) -> Graph:
    image = Input("image", shape=(3, 64, 64))
    question = Input("question", shape=(None,), dtype=torch.long)
    merged = Concat()([LSTMEncoder(128, vocab_size=vocab, embedding_dim=64)(question),
                       CNNTower(channels=(32, 64, 128))(image)])
    return Graph([image, question], {"answer": Dense(answers)(merged)})


class VQAByHand(nn.Module):
    def __init__(self, vocab: int, answers: int) -> None:
        super().__init__()
        layers, size = [], 3
        for out in (32, 64, 128):
            layers += [nn.Conv2d(size, out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            size = out
        self.vision = nn.Sequential(*layers)
        self.embedding = nn.Embedding(vocab, 64, padding_idx=0)
        self.lstm = nn.LSTM(64, 128, batch_first=True)
        self.answer = nn.Linear(256, answers)

    def forward(self, image: torch.Tensor, question: torch.Tensor) -> dict[str, torch.Tensor]:
        last = ((question != 0).sum(1) - 1).clamp(min=0)
        states, _ = self.lstm(self.embedding(question))
        encoded = states[torch.arange(len(question)), last]
        seen = self.vision(image).mean(dim=(2, 3))
        return {"answer": self.answer(torch.cat([encoded, seen], dim=-1))}


def time_steps(model: nn.Module, inputs: tuple, steps: int) -> float:
    """Seconds per forward + backward step."""
    start = time.perf_counter()
    for _ in range(steps):
        out = model(*inputs)
        loss = sum(v.sum() for v in out.values()) if isinstance(out, dict) else out.sum()
        loss.backward()
    return (time.perf_counter() - start) / steps


def compare(name: str, graph: nn.Module, hand: nn.Module, inputs: tuple, rounds: int, steps: int) -> float:
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(graph) == count(hand), f"{name}: {count(graph)} vs {count(hand)} parameters"
    for model in (graph, hand):
        time_steps(model, inputs, max(3, steps // 5))  # warm up
    graph_times, hand_times = [], []
    for i in range(rounds):  # alternate who goes first: load on a shared machine drifts
        pairs = [(graph, graph_times), (hand, hand_times)]
        for model, times in pairs if i % 2 == 0 else pairs[::-1]:
            times.append(time_steps(model, inputs, steps))
    g, h = statistics.median(graph_times), statistics.median(hand_times)
    print(f"{name:<38} graph {g * 1e3:8.3f} ms   hand {h * 1e3:8.3f} ms   ratio {g / h:.3f}")
    return g / h


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--steps", type=int, default=2)
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    question = torch.randint(1, 40, (64, 12))
    question[::3, 8:] = 0  # padded questions
    cases: list[tuple[str, Callable[[], nn.Module], Callable[[], nn.Module], tuple, int]] = [
        ("dense 784-64-64-10, batch 32", dense_graph, DenseByHand, (torch.randn(32, 784),), args.steps * 200),
        ("vqa cnn tower + lstm, batch 64", lambda: vqa_graph(40, 13), lambda: VQAByHand(40, 13),
         (torch.randn(64, 3, 64, 64), question), args.steps),
    ]
    return {name: compare(name, make_graph(), make_hand(), inputs, args.rounds, steps)
            for name, make_graph, make_hand, inputs, steps in cases}


if __name__ == "__main__":
    main()
