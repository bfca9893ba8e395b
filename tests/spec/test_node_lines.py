"""Node lines: every call a Python graph records can be written, read and compiled back."""

from __future__ import annotations

import pytest
import torch

from plait.spec import SpecError, build_graph
from plait.spec.expressions import Const, Ref, parse_call


def test_a_line_reads_names_picks_constants_and_containers():
    call = parse_call("gate((a, b[2]), {'w': c}, [d], -1.5, mode='mul', offset=None, flag=True)", "k")
    assert call.block == "gate"
    assert call.args == ((Ref("a"), Ref("b", 2)), {"w": Ref("c")}, [Ref("d")], Const(-1.5))
    assert call.kwargs == (("mode", Const("mul")), ("offset", Const(None)), ("flag", Const(True)))
    assert [str(r) for r in call.refs()] == ["a", "b[2]", "c", "d"]


@pytest.mark.parametrize(("line", "message"), [
    ("merge(a.b)", r"`a\.b` is not an argument a node line takes"),
    ("merge(*xs)", r"`\*` and `\*\*` are not supported"),
    ("merge(**xs)", r"`\*` and `\*\*` are not supported"),
    ("merge(a) + 1", r"expected `block\(tensor, \.\.\.\)`"),
])
def test_a_line_that_is_no_call_of_names_is_refused(line: str, message: str):
    with pytest.raises(SpecError, match=r"model\.nodes\.x: .*" + message):
        parse_call(line, "model.nodes.x")


def test_constants_and_keywords_reach_the_block():
    spec = {
        "inputs": {"x": {"shape": [3]}, "y": {"shape": [3]}},
        "blocks": {"gate": {"_target_": "tests.spec.user_blocks.Gate"},
                   "mix": {"_target_": "tests.spec.user_blocks.Mix"}},
        "nodes": {"g": "gate(x, other=y, mode='mul', offset=None)",
                  "h": "gate(g, y, 'add', -1.5)",
                  "m": "mix((g, h), {'w': y})"},
        "outputs": {"m": None},
    }
    graph = build_graph(spec)
    x, y = torch.randn(2, 3), torch.randn(2, 3)
    g = x * y
    torch.testing.assert_close(graph(x, y)["m"], g - (g + y - 1.5) + y)


def test_an_index_counts_a_node_s_outputs_flattened_as_the_summary_does():
    spec = {
        "inputs": {"x": {"shape": [None, 4]}},
        "blocks": {"lstm": {"_target_": "torch.nn.LSTM", "input_size": 4, "hidden_size": 5,
                            "batch_first": True},
                   "head": {"_target_": "plait.blocks.Dense", "units": 2}},
        "nodes": {"enc": "lstm(x)", "cell": "head(enc[2])"},  # (out, (h, c)): c is output 2
        "outputs": {"cell": None},
    }
    graph = build_graph(spec)
    assert "lstm[2]" in graph.summary(print_fn=None)  # the same count, under the block's name
    steps = torch.randn(2, 6, 4)
    _, (_, c) = graph.get_block("lstm")(steps)
    torch.testing.assert_close(graph(steps)["cell"], graph.get_block("head")(c))
    spec["nodes"]["cell"] = "head(enc[3])"
    with pytest.raises(SpecError, match=r"'enc\[3\]' is out of range: 'enc' gives 3 tensor"):
        build_graph(spec)


def test_a_block_config_passes_args_positionally():
    spec = {
        "inputs": {"x": {"shape": [4]}},
        "blocks": {"mlp": {"_target_": "torch.nn.Sequential", "_args_": [
            {"_target_": "torch.nn.Linear", "in_features": 4, "out_features": 3}, {"_target_": "torch.nn.ReLU"}]}},
        "nodes": {"h": "mlp(x)"},
        "outputs": ["h"],
    }
    mlp = build_graph(spec).get_block("mlp")
    assert [type(m).__name__ for m in mlp] == ["Linear", "ReLU"]


def _nested(outputs: dict) -> dict:
    branch = {"inputs": {"x": {"shape": [4]}}, "blocks": {"enc": {"_target_": "plait.blocks.Dense", "units": 3}},
              "nodes": {"h": "enc(x)"}, "outputs": outputs}
    return {"inputs": {"x": {"shape": [4]}}, "blocks": {"branch": branch}, "nodes": {"y": "branch(x)"},
            "outputs": {"y": {"loss": "mse"}}}


def test_a_nested_graphs_outputs_take_only_a_node():
    """A loss or weight there would be ignored: only the model's own outputs are trained."""
    assert build_graph(_nested({"z": {"node": "h"}})).output_specs["y"].shape == (3,)
    with pytest.raises(SpecError, match=r"^model.blocks.branch.outputs.z: a nested graph's output takes only "
                                        r"`node`, received \['loss', 'weigth'\]; a loss, weight or metrics go "
                                        r"under the model's own outputs"):
        build_graph(_nested({"z": {"node": "h", "loss": "mse", "weigth": 3}}))
