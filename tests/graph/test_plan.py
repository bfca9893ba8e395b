"""The compiled plan: named steps over value slots, and what it answers about the graph."""

import pickle

import torch
from torch import nn

from plait.graph import Graph, Input, name_module
from plait.graph.arguments import LIST, POSITIONAL, TENSOR, TREE, Arguments


class _Pair(nn.Module):
    def forward(self, x: torch.Tensor, *, scale: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        return x * scale, x


class _Sum(nn.Module):
    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        return xs[0] + xs[1]


def two_heads() -> Graph:
    """x -> trunk -> pair -> (sum -> head_a, pair[1] -> head_b); y -> side -> head_b only."""
    x, y = Input("x", shape=(4,)), Input("y", shape=(4,))
    trunk = name_module(nn.Linear(4, 4), "trunk")(x)
    a, b = name_module(_Pair(), "pair")(trunk, scale=2.0)
    side = name_module(nn.Linear(4, 4), "side")(y)
    head_a = name_module(nn.Linear(4, 1), "head_a")(name_module(_Sum(), "sum")([a, b]))
    head_b = name_module(nn.Linear(4, 1), "head_b")(name_module(_Sum(), "join")([b, side]))
    return Graph([x, y], {"a": head_a, "b": head_b})


def test_steps_name_the_slots_they_read_and_write():
    plan = two_heads().plan
    steps = {step.node.name: step for step in plan.steps}
    assert len(plan.specs) == 2 + sum(len(step.writes) for step in plan.steps)
    assert steps["trunk"].reads == (0,) and steps["side"].reads == (1,)
    assert steps["pair"].reads == steps["trunk"].writes and len(steps["pair"].writes) == 2
    assert steps["sum"].reads == steps["pair"].writes
    assert [step.style for step in (steps["trunk"], steps["pair"], steps["sum"])] == [POSITIONAL, TREE, LIST]
    assert steps["trunk"].returns_tensor and not steps["pair"].returns_tensor
    assert plan.output_slots == [steps["head_a"].writes[0], steps["head_b"].writes[0]]
    assert plan.producer(steps["sum"].writes[0]) == plan.steps.index(steps["sum"])
    assert plan.producer(0) is None


def test_nodes_feeding_every_output_are_the_shared_trunk_in_order():
    graph = two_heads()
    assert [n.name for n in graph.nodes_feeding_every_output()] == ["trunk", "pair"]
    x = Input("x", shape=(4,))
    assert Graph(x, {"same": x, "dense": nn.Linear(4, 2)(x)}).nodes_feeding_every_output() == []


def test_a_pickled_graph_runs_its_plan_alike():
    graph = two_heads()
    x, y = torch.randn(3, 4), torch.randn(3, 4)
    again = pickle.loads(pickle.dumps(graph))
    for name, value in graph(x, y).items():
        torch.testing.assert_close(again(x, y)[name], value)


def test_arguments_put_other_tensors_where_the_tensors_stood():
    arguments, tensors = Arguments.split(("a", None, ["b", 3]), {"axis": 1, "other": "c"}, str)
    assert tensors == ["a", "b", "c"]
    assert arguments.leaves == (TENSOR, None, TENSOR, 3, 1, TENSOR)
    assert arguments.fill([1, 2, 3]) == ((1, None, [2, 3]), {"axis": 1, "other": 3})
    assert arguments.call(lambda *args, **kwargs: (args, kwargs), "xyz") == (("x", None, ["y", 3]),
                                                                           {"axis": 1, "other": "z"})
    assert arguments.style == TREE
    assert Arguments.split(("a", "b"), {}, str)[0].style == POSITIONAL
    assert Arguments.split((["a", "b"],), {}, str)[0].style == LIST
