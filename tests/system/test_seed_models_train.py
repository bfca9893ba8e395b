"""Every seed model of the Keras guide, written in Python, goes the whole way: trained a few
steps by `GraphSystem` on arrays through a Lightning `Trainer`, checkpointed, and reloaded
by `plait.load_checkpoint` in a fresh process that never imports these tests, which predicts
the same values."""

from __future__ import annotations

import subprocess
import sys

import lightning as L
import numpy as np
import pytest
import torch
from tests.graph.test_seed_models import SEED_MODELS

from plait import Graph
from plait.data import ArrayDataModule
from plait.system import GraphSystem

ROWS = 24
LENGTH = {"posts": 300}  # of variable-length inputs: 7, or what a model's convolutions need


def _inputs(graph: Graph, rng: np.random.Generator, length: int) -> dict[str, np.ndarray]:
    arrays = {}
    for name, spec in graph.input_specs.items():
        shape = (ROWS, *(length if d is None else d for d in spec.shape))
        floating = spec.dtype.is_floating_point
        arrays[name] = rng.random(shape, dtype=np.float32) if floating else rng.integers(1, 10, shape)
    return arrays


def _targets(graph: Graph, rng: np.random.Generator, length: int
             ) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Class indices for a wide output (cross entropy), 0/1 for a single logit."""
    targets, losses = {}, {}
    for name, spec in graph.output_specs.items():
        shape = tuple(length if d is None else d for d in spec.shape)
        if shape[-1] > 1:
            targets[name], losses[name] = rng.integers(0, shape[-1], (ROWS, *shape[:-1])), "cross_entropy"
        else:
            targets[name] = rng.integers(0, 2, (ROWS, *shape)).astype(np.float32)
            losses[name] = "binary_cross_entropy"
    return targets, losses


def _train_and_save(name: str, folder) -> dict[str, np.ndarray]:
    """Train the seed model a few steps, save its checkpoint and inputs; its predictions."""
    rng = np.random.default_rng(0)
    graph = SEED_MODELS[name]()
    inputs = _inputs(graph, rng, LENGTH.get(name, 7))
    targets, losses = _targets(graph, rng, LENGTH.get(name, 7))
    system = GraphSystem(graph, loss=losses)
    trainer = L.Trainer(max_epochs=1, limit_train_batches=2, limit_val_batches=1, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, default_root_dir=folder)
    before = {k: v.detach().clone() for k, v in system.state_dict().items()}
    trainer.fit(system, ArrayDataModule(inputs, targets, batch_size=8, val_fraction=0.25))
    assert any(not torch.equal(before[k], v) for k, v in system.state_dict().items())  # it trained
    trainer.save_checkpoint(folder / f"{name}.ckpt")
    np.savez(folder / f"{name}.inputs.npz", **inputs)
    return system.predict(inputs)


# Run in a fresh process: loads each checkpoint with nothing but plait, predicts its inputs.
RELOAD = """
import sys, numpy as np
from pathlib import Path
from plait import load_checkpoint
folder = Path(sys.argv[1])
for name in sys.argv[2:]:
    model = load_checkpoint(folder / f"{name}.ckpt")
    np.savez(folder / f"{name}.out.npz", **model.predict(dict(np.load(folder / f"{name}.inputs.npz"))))
assert not any(m.startswith("tests") for m in sys.modules)
"""


@pytest.fixture(scope="module")
def reloaded(tmp_path_factory) -> tuple[dict, dict]:
    """Every seed model's predictions before saving, and after reloading in a fresh process."""
    folder = tmp_path_factory.mktemp("seed_models")
    expected = {name: _train_and_save(name, folder) for name in SEED_MODELS}
    run = subprocess.run([sys.executable, "-c", RELOAD, str(folder), *SEED_MODELS], cwd=folder,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    return expected, {name: dict(np.load(folder / f"{name}.out.npz")) for name in SEED_MODELS}


@pytest.mark.parametrize("name", list(SEED_MODELS))
def test_a_seed_model_trains_saves_and_reloads_without_its_script(name, reloaded) -> None:
    expected, again = reloaded[0][name], reloaded[1][name]
    assert sorted(again) == sorted(expected)
    for output, values in expected.items():
        np.testing.assert_allclose(again[output], values, rtol=1e-5, atol=1e-6)
