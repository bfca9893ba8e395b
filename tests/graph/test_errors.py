"""Every graph error names the node or input and says what was expected and received."""

import logging

import pytest
import torch
from torch import nn

from plait.blocks import Add, Dense
from plait.graph import Graph, GraphError, Input, name_module, topological_order


def test_output_not_reachable_from_the_inputs_names_the_missing_input():
    a, b = Input("a", shape=(3,)), Input("question", shape=(3,))
    y = nn.Linear(3, 1)(a)
    z = nn.Bilinear(3, 3, 1)(a, b)
    with pytest.raises(GraphError, match=r"output 'answer' depends on input 'question'.*not among the graph's inputs \['a'\]"):
        Graph([a], {"y": y, "answer": z})


def test_an_input_that_reaches_no_output():
    a, b = Input("a", shape=(3,)), Input("aux", shape=(2,))
    with pytest.raises(GraphError, match=r"graph inputs \['aux'\] reach no output"):
        Graph([a, b], nn.Linear(3, 1)(a))


def test_cycles_are_named():
    parents = {"merge": ["b"], "b": ["c"], "c": ["merge"], "a": []}
    with pytest.raises(GraphError, match=r"cycle between nodes: (merge -> b -> c -> merge|b -> c -> merge -> b|c -> merge -> b -> c)"):
        topological_order(parents, parents.__getitem__)
    assert topological_order(["c", "b", "a"], {"a": [], "b": ["a"], "c": ["b"]}.__getitem__) == ["a", "b", "c"]


def test_duplicate_names():
    a, b = Input("x", shape=(3,)), Input("x", shape=(3,))
    with pytest.raises(GraphError, match=r"duplicate names among the graph's inputs: \['x'\]"):
        Graph([a, b], [nn.Linear(3, 1)(a), nn.Linear(3, 1)(b)])
    c = Input("c", shape=(3,))
    one, two = name_module(nn.Linear(3, 3), "enc"), name_module(nn.Linear(3, 3), "enc")
    with pytest.raises(GraphError, match=r"two different modules are both named 'enc'"):
        Graph(c, two(one(c)))
    with pytest.raises(GraphError, match=r"duplicate names among the graph's outputs: \['y'\]"):
        h = nn.Linear(3, 2)(c)
        h.name = "y"
        g = nn.Linear(3, 2)(c)
        g.name = "y"
        Graph(c, [h, g])


def test_a_failing_call_names_the_node_and_its_inputs():
    x = Input("features", shape=(7,))
    lin = name_module(nn.Linear(5, 2), "classifier")
    with pytest.raises(GraphError, match=r"node 'classifier' \(Linear\) cannot be called on input 'features' \(B, 7\) torch.float32"):
        lin(x)


def test_graph_inputs_must_be_inputs():
    x = Input("x", shape=(3,))
    h = nn.Linear(3, 3)(x)
    with pytest.raises(GraphError, match=r"graph input 'linear.*' must be an Input, received output 0 of node"):
        Graph(h, nn.Linear(3, 1)(h))


@pytest.fixture
def two_input_graph() -> Graph:
    img, q = Input("image", shape=(3, 8, 8)), Input("question", shape=(None,), dtype="long")
    v = nn.Flatten()(nn.Conv2d(3, 2, 3)(img))
    e = nn.EmbeddingBag(10, 4)(q)
    return Graph([img, q], nn.Linear(2 * 36 + 4, 5)(torch_cat(v, e)))


class Cat(nn.Module):
    def forward(self, a, b):
        return torch.cat([a, b], dim=-1)


def torch_cat(a, b):
    return Cat()(a, b)


def test_call_time_errors_name_the_input_and_say_expected_and_received(two_input_graph):
    g = two_input_graph
    img, q = torch.randn(2, 3, 8, 8), torch.randint(0, 10, (2, 5))
    assert g(img, q).shape == (2, 5)
    assert g({"image": img, "question": q}).shape == (2, 5)
    with pytest.raises(GraphError, match=r"expects inputs \['image', 'question'\]; received \['image', 'qestion'\] \(missing \['question'\], unknown \['qestion'\]\)"):
        g({"image": img, "qestion": q})
    with pytest.raises(GraphError, match=r"input 'image' expects a float tensor of shape \(B, 3, 8, 8\), received torch.float32 tensor of shape \(B=2, 3, 9, 8\)"):
        g(torch.randn(2, 3, 9, 8), q)
    with pytest.raises(GraphError, match=r"input 'question' expects a int tensor of shape \(B, None\), received torch.float32"):
        g(img, q.float())
    with pytest.raises(GraphError, match=r"expects 2 inputs \['image', 'question'\], received 1"):
        g(img)


def test_unknown_dtype_and_bad_shape():
    with pytest.raises(GraphError, match=r"unknown dtype 'lng'"):
        Input("q", shape=(None,), dtype="lng")
    with pytest.raises(GraphError, match=r"Input 'q': shape must hold positive ints or None, received \(0,\)"):
        Input("q", shape=(0,))


def test_symbolic_tensors_refuse_python_conditions():
    x = Input("x", shape=(3,))
    with pytest.raises(GraphError, match="input 'x' is symbolic"):
        bool(x)


def test_a_shared_block_called_on_another_size_names_its_first_call_quietly(caplog):
    """A Keras user is told the size the layer was built for; torch's log of the failed op
    on fake tensors (a traceback on stderr) is not shown: the error says it all."""
    a, b = Input("a", shape=(4,)), Input("b", shape=(5,))
    dense = name_module(Dense(4), "shared")
    dense(a)
    with caplog.at_level(logging.DEBUG), pytest.raises(
            GraphError, match=r"^node 'shared:1' \(Dense\) cannot be called on input 'b' \(B, 5\) torch.float32 \(its "
                              r"first call, which sized it, was on input 'a' \(B, 4\) torch.float32\): RuntimeError: "):
        dense(b)
    assert not [r for r in caplog.records if "failed while attempting" in r.getMessage()]


@pytest.mark.parametrize("use, what", [
    (lambda a, b: a + b, "Python operators or indexing"), (lambda a, b: 2 * a, "Python operators or indexing"),
    (lambda a, b: a[:, :2], "Python operators or indexing"), (lambda a, b: torch.relu(a), "torch functions"),
    (lambda a, b: torch.cat([b, a], 1), "torch functions"),
])
def test_operators_and_torch_functions_on_symbolic_tensors_point_to_a_module(use, what):
    """Keras records `a + b` and `tf.nn.relu(a)` as layers; plait records module calls only,
    and says so instead of a bare TypeError."""
    a, b = Input("a", shape=(4,)), Input("b", shape=(4,))
    with pytest.raises(GraphError, match=rf"input '(a|b)'.* is symbolic.*not {what}.*; use a block "
                                         r"\(plait.blocks.Add, Multiply, Concat"):
        use(a, b)


def test_a_symbolic_tensor_compares_with_a_tensor_by_identity():
    """`in` and `list.index` over a mixed list work as before torch functions were refused."""
    x, t = Input("x", shape=(3,)), torch.zeros(3)
    assert (t == x) is False and (t != x) is True and x not in [t] and t not in [x] and [t, x].index(x) == 1


def test_a_constant_tensor_given_to_a_merge_is_named_by_its_shape():
    a = Input("a", shape=(4,))
    with pytest.raises(GraphError, match=r"^node 'add(_\d+)?' \(Add\): Add merges tensors of the graph; received a "
                                         r"constant Tensor of shape \(1, 4\): make it an Input, or the output of a module$"):
        Add()(a, torch.ones(1, 4))
