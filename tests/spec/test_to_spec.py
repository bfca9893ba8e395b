"""`Graph.to_spec`: a graph written in Python, described as plain data and rebuilt from it.

A round trip goes through YAML text, as a checkpoint's spec does: the rebuilt graph must
have the same summary, the same state dict keys (so weights load with strict=True), the
same outputs once loaded, and describe itself with the very same spec.
"""

from __future__ import annotations

import copy

import pytest
import torch
import yaml
from omegaconf import OmegaConf
from tests.graph.test_seed_models import SEED_MODELS
from tests.spec.user_blocks import Gate, Mix, Pair, Scaled, Scorer, Twice
from torch import nn

from plait.blocks import Add, Concat, Dense, GlobalMaxPool1D, TimeDistributed
from plait.graph import Graph, Input, freeze, is_frozen
from plait.spec import build_graph


def example_inputs(graph: Graph, length: int = 300) -> list[torch.Tensor]:
    """A batch of 2 for every input; `length` for variable sizes; ids in 1..49."""
    batch = []
    for spec in graph.input_specs.values():
        shape = [2, *(length if d is None else d for d in spec.shape)]
        batch.append(torch.randn(shape) if spec.dtype.is_floating_point
                     else torch.randint(1, 50, shape, dtype=spec.dtype))
    return batch


def outputs(graph: Graph, inputs: list[torch.Tensor]) -> dict[str, torch.Tensor]:
    """The graph's outputs in eval mode, keyed by output name whatever their structure."""
    graph.eval()
    with torch.no_grad():
        out = graph(*inputs)
    if isinstance(out, dict):
        return out
    return dict(zip(graph.output_names, out if isinstance(out, list) else [out]))


def structure(graph: Graph) -> list[str]:
    """The summary without its title (the graph's own name), nested graphs' included."""
    lines = graph.summary(print_fn=None).splitlines()[1:]
    for name, block in graph.blocks.items():
        if isinstance(block, Graph):
            lines += [f"{name}:", *structure(block)]
    return lines


def round_trip(graph: Graph, inputs: list[torch.Tensor] | None = None) -> tuple[dict, Graph]:
    """Spec -> YAML -> graph, loaded with the original's weights; checks it is the same graph."""
    spec = graph.to_spec()
    text = yaml.safe_dump(spec, sort_keys=False)
    assert OmegaConf.to_container(OmegaConf.create(spec)) == spec
    again = build_graph(yaml.safe_load(text))
    assert structure(again) == structure(graph)
    assert list(again.state_dict()) == list(graph.state_dict())
    again.load_state_dict(graph.state_dict())  # strict
    inputs = example_inputs(graph) if inputs is None else inputs
    expected, got = outputs(graph, inputs), outputs(again, inputs)
    assert list(got) == list(expected)
    for name, value in expected.items():
        torch.testing.assert_close(got[name], value)
    assert again.to_spec() == spec
    return spec, again


@pytest.mark.parametrize("name", SEED_MODELS)
def test_every_seed_model_rebuilds_from_its_spec(name: str):
    round_trip(SEED_MODELS[name]())


def test_a_spec_reads_like_the_yaml_a_user_writes():
    image, question = Input("image", shape=(3, 8, 8)), Input("question", shape=(5,))
    vision = nn.Sequential(nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten())
    merged = Concat()([vision(image), question])
    spec, _ = round_trip(Graph([image, question], {"answer": Dense(3, activation="tanh")(merged)}))
    assert spec["inputs"] == {"image": {"shape": [3, 8, 8], "dtype": "float32"},
                              "question": {"shape": [5], "dtype": "float32"}}
    blocks = list(spec["blocks"].values())
    assert blocks[0]["_target_"] == "torch.nn.Sequential"
    assert blocks[0]["_args_"][0] == {"_target_": "torch.nn.Conv2d", "in_channels": 3, "out_channels": 4,
                                      "kernel_size": [3, 3], "stride": [1, 1], "padding": [0, 0],
                                      "dilation": [1, 1], "groups": 1, "bias": False,
                                      "padding_mode": "zeros"}
    assert blocks[2] == {"_target_": "plait.blocks.Dense", "units": 3, "activation": "tanh", "use_bias": True,
                         "bias_init": None}
    assert list(spec["nodes"].values())[1] == f"{list(spec['blocks'])[1]}([{list(spec['nodes'])[0]}, question])"
    assert list(spec["outputs"]) == ["answer"]


def test_torch_layers_are_recovered_from_their_attributes():
    x = Input("x", shape=(6, 8))
    h = nn.LayerNorm(8, elementwise_affine=False)(nn.LeakyReLU(0.2)(x))
    h, _ = nn.GRU(8, 5, num_layers=2, batch_first=True, bidirectional=True)(h)
    attention = nn.MultiheadAttention(10, 2, bias=False, add_bias_kv=True, batch_first=True)
    h, weights = attention(h, h, h, need_weights=True)
    h = nn.Softmax(dim=-1)(nn.Dropout(0.3)(h))
    ids = Input("ids", shape=(6,), dtype=torch.long)
    e = nn.Embedding(50, 10, padding_idx=0, max_norm=None)(ids)
    named = nn.Sequential()
    named.add_module("pool", nn.AdaptiveAvgPool1d(3))
    named.add_module("flat", nn.Flatten())
    out = named(Add()(h, e))
    spec, _ = round_trip(Graph([x, ids], {"out": out, "weights": weights}))
    mha = next(c for c in spec["blocks"].values() if c["_target_"] == "torch.nn.MultiheadAttention")
    assert mha["bias"] is False and mha["add_bias_kv"] is True
    assert "need_weights=True" in " ".join(spec["nodes"].values())


def test_a_module_called_at_several_nodes_stays_one_block():
    shared = nn.Linear(8, 8)
    x, y = Input("x", shape=(8,)), Input("y", shape=(8,))
    u = Input("u", shape=(8,))
    inner = Graph(u, nn.ReLU()(shared(u)), name="inner")  # the outer graph calls `shared` too
    model = Graph([x, y], Add()([shared(x), shared(y), inner(x)]))
    spec, again = round_trip(model)
    name = next(n for n, c in spec["blocks"].items() if c.get("_target_") == "torch.nn.Linear")
    assert name not in spec["blocks"]["inner"]["blocks"]  # called there by name
    assert sum(line.startswith(f"{name}(") for line in spec["nodes"].values()) == 2
    assert again.get_block(f"inner.{name}") is again.get_block(name)


def test_a_module_shared_by_two_nested_graphs_is_written_once_where_both_see_it():
    shared = nn.Linear(4, 4)
    a, b = Input("a", shape=(4,)), Input("b", shape=(4,))
    left = Graph(a, nn.Tanh()(shared(a)), name="left")
    right = Graph(b, nn.Sigmoid()(shared(b)), name="right")
    x = Input("x", shape=(4,))
    spec, again = round_trip(Graph(x, Add()(left(x), right(x))))
    name = next(n for n, c in spec["blocks"].items() if c.get("_target_") == "torch.nn.Linear")
    assert name not in spec["blocks"]["left"]["blocks"] and name not in spec["blocks"]["right"]["blocks"]
    assert again.get_block(f"left.{name}") is again.get_block(f"right.{name}")


def test_a_module_given_twice_to_a_constructor_is_shared_by_reference():
    inner = nn.Linear(3, 3)
    x = Input("x", shape=(3,))
    spec, again = round_trip(Graph(x, Pair(inner, inner)(x)))
    pair = next(c for c in spec["blocks"].values() if c.get("_target_", "").endswith("Pair"))
    assert pair["first"] == pair["second"] and set(pair["first"]) == {"_block_"}
    assert spec["blocks"][pair["first"]["_block_"]]["_target_"] == "torch.nn.Linear"
    rebuilt = next(m for m in again.blocks.values() if type(m).__name__ == "Pair")
    assert rebuilt.first is rebuilt.second


def test_time_distributed_holds_a_graph_by_reference_and_a_block_inline():
    frame = Input("frame", shape=(6,))
    per_frame = Graph(frame, Dense(4, activation="relu")(frame), name="per_frame")
    video = Input("video", shape=(5, 6))
    steps = TimeDistributed(per_frame)(video)
    spec, _ = round_trip(Graph(video, TimeDistributed(Dense(2))(steps)))
    first, second = [c for c in spec["blocks"].values() if c.get("_target_") == "plait.blocks.TimeDistributed"]
    assert first["module"] == {"_block_": "per_frame"} and "nodes" in spec["blocks"]["per_frame"]
    assert second["module"] == {"_target_": "plait.blocks.Dense", "units": 2, "activation": None,
                                "use_bias": True, "bias_init": None}


def test_one_output_of_a_multi_output_block_is_picked_by_index():
    x = Input("x", shape=(None, 4))
    lstm = nn.LSTM(4, 6, batch_first=True)
    sequence, (h, c) = lstm(x)
    pooled, last = GlobalMaxPool1D()(sequence), Dense(2)(c)
    spec, _ = round_trip(Graph(x, {"pooled": pooled, "cell": last}), [torch.randn(2, 7, 4)])
    key = next(k for k, line in spec["nodes"].items() if line.startswith("lstm"))
    lines = list(spec["nodes"].values())
    assert any(f"({key}[0])" in line for line in lines) and any(f"({key}[2])" in line for line in lines)


def test_every_call_style_round_trips():
    x, y = Input("x", shape=(4,)), Input("y", shape=(4,))
    gate, mix = Gate(), Mix()
    a = gate(x, other=y, mode="mul", offset=None)
    b = gate(a, y, "add", -1.5)
    c = mix((a, b), {"w": y})
    d = Concat()([a, b, c])
    spec, _ = round_trip(Graph([x, y], {"d": d, "sum": Add()(a, c)}))
    lines = list(spec["nodes"].values())
    assert lines[0].endswith("(x, other=y, mode='mul', offset=None)")
    assert lines[1].endswith("(gate, y, 'add', -1.5)")
    assert lines[2].endswith("((gate, gate_1), {'w': y})")


def test_user_classes_are_recorded_by_import_path_and_arguments():
    x = Input("x", shape=(8,))
    scores = Scorer(8, 3, scale=0.5)(x)
    scaled = Scaled(nn.Linear(3, 3), factor=3.0)(scores)
    spec, again = round_trip(Graph(x, Twice(2, gain=-1.0)(scaled)))
    configs = list(spec["blocks"].values())
    assert configs[0] == {"_target_": "tests.spec.user_blocks.Scorer", "features": 8, "classes": 3, "scale": 0.5}
    assert configs[1]["factor"] == 3.0 and configs[1]["inner"]["_target_"] == "torch.nn.Linear"
    assert configs[2] == {"_target_": "tests.spec.user_blocks.Twice", "units": 2, "gain": -1.0}


def test_frozen_blocks_are_rebuilt_frozen():
    x = Input("x", shape=(4,))
    tower = freeze(Graph(x, nn.ReLU()(nn.Linear(4, 4)(x)), name="tower"))
    y = Input("y", shape=(4,))
    spec, again = round_trip(Graph(y, Scaled(freeze(nn.Linear(4, 4)))(tower(y))))
    assert spec["blocks"]["tower"]["_freeze_"] is True
    scaled = next(c for c in spec["blocks"].values() if c.get("_target_", "").endswith("Scaled"))
    assert spec["blocks"][scaled["inner"]["_block_"]]["_freeze_"] is True  # named, to be frozen
    assert is_frozen(again.get_block("tower"))
    assert is_frozen(next(m for m in again.blocks.values() if isinstance(m, Scaled)).inner)


def test_plait_blocks_record_their_constructor_arguments():
    dense = Dense(5, activation="relu", use_bias=False)
    assert dense.get_config() == {"units": 5, "activation": "relu", "use_bias": False, "bias_init": None}
    again = type(dense)(**dense.get_config())
    assert again.get_config() == dense.get_config()
    assert copy.deepcopy(dense).get_config() == dense.get_config()
    assert Concat().get_config() == {"axis": -1}
