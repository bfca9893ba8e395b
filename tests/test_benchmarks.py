"""The benchmark scripts run and print every figure they promise (no figure is asserted:
speed is read from their output, never tested)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def script(name: str, *args: str) -> str:
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / name), *args], cwd=ROOT,
                         capture_output=True, text=True, timeout=900, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_bench_train_prints_each_way_and_its_ratio_to_the_hand_written_loop() -> None:
    out = script("bench_train.py", "--rounds", "1", "--epochs", "1", "--workloads", "w1")
    line = next(line for line in out.splitlines() if line.startswith("W1"))
    rates = re.findall(r"(hand|lightning|plait) ([\d,]+) samples/s \(([\d.]+)x\)", line)
    assert [way for way, _, _ in rates] == ["hand", "lightning", "plait"]
    assert rates[0][2] == "1.00" and all(float(rate.replace(",", "")) > 0 for _, rate, _ in rates)
    assert "ms a step over bare Lightning" in line
    assert re.search(r"best epochs: lightning [\d.]+x, plait [\d.]+x$", line), line


def test_bench_startup_prints_each_way_and_the_differences() -> None:
    out = script("bench_startup.py", "--rounds", "1")
    for way in ("import lightning", "mode=check", "bare Lightning, first step", "train.py, first step",
                "train.py logger=csv, first step"):
        assert re.search(rf"^{re.escape(way)}: \d+\.\d\d s", out, re.M), out
    assert re.search(r"^train\.py, first step over bare Lightning: [+-]\d+\.\d\d s", out, re.M), out


def test_bench_train_compile_adds_the_hand_written_loop_compiled() -> None:
    out = script("bench_train.py", "--rounds", "1", "--epochs", "1", "--workloads", "w1", "--compile")
    line = next(line for line in out.splitlines() if line.startswith("W1"))
    ways = re.findall(r"(hand compiled|hand|lightning|plait) [\d,]+ samples/s", line)
    assert ways == ["hand", "lightning", "plait", "hand compiled"]
