"""Every experiment's model, built from its config, written with `to_spec` and built again.

A model config is a graph spec, or names a Python function that returns the graph
(`graph: {_target_: ...}`). What `to_spec` writes for a graph from YAML is that YAML with
every default filled in: the same node keys and lines, blocks, weights and outputs (less
what no output needs, which the graph leaves out).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf
from tests.spec.test_to_spec import outputs, structure

from plait.graph import Graph
from plait.spec import build_graph

CONF = Path(__file__).resolve().parents[2] / "conf"
EXPERIMENTS = sorted(p.stem for p in (CONF / "experiment").glob("*.yaml"))


def model_spec(experiment: str) -> dict:
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("train", overrides=[f"experiment={experiment}"])
    return OmegaConf.to_container(cfg.model, resolve=True)


def example(spec) -> torch.Tensor:
    shape = [2, *(40 if d is None else d for d in spec.shape)]
    if spec.dtype.is_floating_point:
        return torch.randn(shape)
    return torch.randint(0, 2, shape, dtype=spec.dtype)  # ids valid for any vocabulary


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_an_experiment_model_is_its_own_spec(experiment: str):
    original = model_spec(experiment)
    if "graph" in original:  # written in Python
        graph = instantiate(original["graph"])
        assert isinstance(graph, Graph)
    else:
        graph = build_graph(original, load_checkpoints=False)
    spec = graph.to_spec()
    if "nodes" in original:
        assert spec["nodes"] == {k: original["nodes"][k] for k in spec["nodes"]}
    again = build_graph(spec)
    assert structure(again) == structure(graph)
    again.load_state_dict(graph.state_dict())
    inputs = [example(s) for s in graph.input_specs.values()]
    expected, got = outputs(graph, inputs), outputs(again, inputs)
    for name, value in expected.items():
        torch.testing.assert_close(got[name], value)
