"""`param_groups`: a block's parameters take optimizer settings of their own."""

from __future__ import annotations

import pytest
import torch
from sklearn.datasets import load_digits
from tests.system.conftest import trainer

from plait import Graph, Input
from plait.blocks import MLP, Dense
from plait.data import ArrayDataModule
from plait.spec import SpecError
from plait.system import GraphSystem


def two_headed() -> Graph:
    pixels = Input("pixels", shape=(64,))
    features = MLP(hidden=[32])(pixels)
    return Graph(pixels, {"digit": Dense(10)(features), "odd": Dense(1)(features)})


def nested() -> tuple[Graph, str, str]:
    """A graph holding `two_headed` as one block; that block's name and its MLP's."""
    inner = two_headed()
    x = Input("pixels", shape=(64,))
    outer = Graph(x, inner(x))
    return outer, next(iter(outer.blocks)), next(iter(inner.blocks))


def system(graph: Graph, groups) -> GraphSystem:
    return GraphSystem(graph, loss=["cross_entropy", "binary_cross_entropy"], param_groups=groups)


def test_a_block_trains_at_its_own_rate_and_the_rest_at_the_optimizers(tmp_path) -> None:
    graph = two_headed()
    trunk, digit_head = list(graph.blocks)[:2]
    model = system(graph, {trunk: {"lr": 0.0}, digit_head: {"weight_decay": 0.5}})
    groups = model.configure_optimizers().param_groups
    assert [(len(g["params"]), g["lr"], g["weight_decay"]) for g in groups] == [
        (2, 1e-3, 0), (2, 0.0, 0), (2, 1e-3, 0.5)]  # the odd head; the trunk; the digit head
    before = {k: v.clone() for k, v in graph.state_dict().items()}
    digits = load_digits()
    data = ArrayDataModule({"pixels": (digits.data / 16).astype("float32")},
                           {"digit": digits.target, "odd": (digits.target % 2).astype("float32")},
                           batch_size=64)
    trainer(tmp_path, epochs=1).fit(model, data)
    after = graph.state_dict()
    changed = {k.split(".")[1] for k in after if not torch.equal(after[k], before[k])}
    assert trunk not in changed and digit_head in changed and len(changed) == 2


def test_a_block_of_a_nested_graph_by_its_dotted_name() -> None:
    outer, nested_name, trunk = nested()
    groups = system(outer, {f"{nested_name}.{trunk}": {"lr": 0.5}}).configure_optimizers().param_groups
    assert [g["lr"] for g in groups] == [1e-3, 0.5] and len(groups[1]["params"]) == 2


@pytest.mark.parametrize(("groups", "message"), [
    ({"nope": {"lr": 1.0}}, r"model\.param_groups\.nope: graph '\w+' has no block 'nope'; blocks are \["),
    ({"{1}": {"weight_decy": 1.0}}, r"model\.param_groups\.\w+\.weight_decy: Adam has no setting 'weight_decy'; "
                                     r"its settings are \[.*'weight_decay'"),
    ({"{1}": 0.1}, r"model\.param_groups\.\w+: expected optimizer settings such as \{weight_decay: "
                   r"0\.1\}, received 0\.1"),
    ({"{0}": {"lr": 1.0}, "{0}.dense": {"lr": 2.0}}, r"MLP, not a graph, so it has no block 'dense'"),
])
def test_a_wrong_group_is_named(groups, message) -> None:
    graph = two_headed()
    names = list(graph.blocks)
    groups = {key.format(*names): value for key, value in groups.items()}
    with pytest.raises(SpecError, match=message):
        system(graph, groups).configure_optimizers()


def test_a_block_in_two_groups_or_without_trainable_parameters_is_refused() -> None:
    outer, name, trunk = nested()
    with pytest.raises(SpecError, match=rf"model\.param_groups\.{name}: block '{name}' holds "
                                        rf"parameters of model\.param_groups\.{name}\.{trunk} too"):
        system(outer, {f"{name}.{trunk}": {"lr": 0.5}, name: {"lr": 0.1}})
    graph = two_headed()
    trunk = list(graph.blocks)[0]
    graph.get_block(trunk).requires_grad_(False)
    with pytest.raises(SpecError, match=rf"block '{trunk}' has no trainable parameters"):
        system(graph, {trunk: {"lr": 0.5}})


def test_groups_follow_the_models_order_whatever_order_they_are_written_in() -> None:
    graph = two_headed()
    trunk, digit_head, odd_head = graph.blocks
    model = system(graph, {odd_head: {"lr": 0.3}, trunk: {"lr": 0.1}})
    assert model.param_group_names == ["", trunk, odd_head]  # the digit head: no group
    assert [g["lr"] for g in model.configure_optimizers().param_groups] == [1e-3, 0.1, 0.3]
    other = two_headed()
    everything = system(other, {name: {"lr": 0.1} for name in reversed(list(other.blocks))})
    assert "" not in everything.param_group_names  # no parameter left for the optimizer's own


def test_the_command_lines_nested_form_names_a_block_of_a_nested_graph() -> None:
    """`+model.param_groups.outer.inner.lr=0.5` composes to `{outer: {inner: {lr: 0.5}}}`."""
    outer, name, trunk = nested()
    groups = system(outer, {name: {trunk: {"lr": 0.5}}}).configure_optimizers().param_groups
    assert [g["lr"] for g in groups] == [1e-3, 0.5] and len(groups[1]["params"]) == 2


def test_a_balancers_own_parameters_stay_with_the_optimizers_settings() -> None:
    graph = two_headed()
    trunk = next(iter(graph.blocks))
    model = GraphSystem(graph, loss=["cross_entropy", "binary_cross_entropy"],
                        loss_balancing="uncertainty", param_groups={trunk: {"lr": 0.0}})
    rest = model.configure_optimizers().param_groups[0]["params"]
    assert {id(p) for p in model.loss.parameters()} <= {id(p) for p in rest}


def test_a_setting_of_the_wrong_type_is_named_before_the_first_step() -> None:
    graph = two_headed()
    trunk = next(iter(graph.blocks))
    with pytest.raises(SpecError, match=rf"model\.param_groups\.{trunk}\.lr: expected a number, as "
                                        r"Adam's default 0\.001; received '1e-4'"):
        system(graph, {trunk: {"lr": "1e-4"}}).configure_optimizers()
