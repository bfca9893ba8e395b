"""What `Graph.to_spec` cannot describe, refused with the block named and the reason why."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from tests.spec.user_blocks import (
    Apply,
    Calibrated,
    DropoutHead,
    Gate,
    Halved,
    Lookup,
    Scaled,
    Tempered,
)
from torch import nn
from torch.utils.data import DataLoader

from plait.blocks import Dense
from plait.graph import Graph, GraphError, Input, name_module
from plait.system import GraphSystem


def one_block(module: nn.Module, name: str, features: int = 3) -> Graph:
    x = Input("x", shape=(features,))
    return Graph(x, name_module(module, name)(x))


def test_an_argument_with_no_attribute_of_its_name_asks_for_get_config():
    graph = one_block(Lookup([1.0, 2.0, 3.0]), "lookup")
    with pytest.raises(GraphError, match=r"block 'lookup' \(tests\.spec\.user_blocks\.Lookup\): cannot "
                       r"recover constructor argument 'table' \(no attribute of that name\); give the "
                       r"class a `get_config\(\)`"):
        graph.to_spec()


def test_arguments_kept_changed_are_caught_by_building_the_class_again():
    graph = one_block(Halved(4), "halved", features=4)
    with pytest.raises(GraphError, match=r"block 'halved' .*recovered from its attributes \(size=2\) "
                       r"build Halved\( \(linear\): Linear\(in_features=2, .*not Halved"):
        graph.to_spec()


def test_a_module_kept_under_a_float_arguments_name_is_caught_by_building_the_class_again():
    """`dropout=0.1` kept as `nn.Dropout(0.1)`: the module is tried as the argument (a copy on
    the meta device), where it once was taken on trust and the checkpoint failed to load."""
    head = DropoutHead(3)
    graph = one_block(head, "head")
    with pytest.raises(GraphError, match=r"block 'head' \(tests\.spec\.user_blocks\.DropoutHead\): the arguments "
                       r"recovered from its attributes \(features=3, dropout=Dropout\(p=0\.1, inplace=False\)\) "
                       r"do not build it again \(TypeError: "):
        graph.to_spec()
    assert head.linear.weight.device.type == "cpu"  # the user's module untouched


def test_a_value_derived_from_an_argument_and_kept_under_its_name_is_caught():
    """`temperature=4.0` kept as 2.0 builds a module of the same repr and weights that
    divides by 1.41: it would reload predicting otherwise, silently."""
    graph = one_block(Tempered(3, temperature=4.0), "tempered")
    with pytest.raises(GraphError, match=r"block 'tempered' .*: its attribute 'temperature' holds 2\.0, but built "
                       r"with temperature=2\.0 it holds 1\.414.*: the attribute is not the argument it was "
                       r"built with; give the class a `get_config\(\)`"):
        graph.to_spec()
    one_block(Scaled(nn.Linear(3, 3), factor=4.0), "scaled").to_spec()  # kept as given: described
    one_block(Scaled(nn.Linear(3, 3), factor=float("nan")), "nan_factor").to_spec()  # NaN kept as NaN


def test_a_constructor_that_reads_its_argument_values_is_described():
    """Building it again on the meta device cannot read values: no verdict, so described as
    before the module arguments were tried."""
    spec = one_block(Calibrated(nn.Linear(3, 3)), "calibrated").to_spec()
    assert spec["blocks"]["calibrated"]["_target_"] == "tests.spec.user_blocks.Calibrated"


def test_a_class_defined_inside_a_function_cannot_be_imported():
    class Local(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x

    with pytest.raises(GraphError, match=r"block 'local' .*Local\): class .*<locals>\.Local is "
                       "defined inside a function"):
        one_block(Local(), "local").to_spec()


def test_a_class_defined_in_main_cannot_be_imported():
    script_class = type("Script", (nn.Module,), {"forward": lambda self, x: x, "__module__": "__main__"})
    with pytest.raises(GraphError, match=r"block 'script' \(__main__\.Script\): class Script is "
                       r"defined in __main__"):
        one_block(script_class(), "script").to_spec()


def test_a_lambda_argument_is_no_plain_data():
    with pytest.raises(GraphError, match=r"block 'apply_fn' .*argument 'fn' holds a function <lambda>"):
        one_block(Apply(lambda t: t * 2), "apply_fn").to_spec()


def test_variadic_constructor_arguments_need_get_config():
    class Stack(nn.Sequential):  # a Sequential is described by its layers; its subclass is not
        def __init__(self, *layers: nn.Module) -> None:
            super().__init__(*layers)

    Stack.__qualname__, Stack.__module__ = "Stack", __name__
    globals()["Stack"] = Stack  # importable, so that the arguments are what fails
    try:
        graph = one_block(Stack(nn.ReLU()), "stack")
        with pytest.raises(GraphError, match=r"block 'stack' .*cannot recover constructor argument "
                           r"\*layers \(arguments it does not keep\)"):
            graph.to_spec()
    finally:
        del globals()["Stack"]


def test_a_constant_call_argument_with_no_literal_form_is_refused():
    x, y = Input("x", shape=(3,)), Input("y", shape=(3,))
    for constant in (float("nan"), torch.tensor(1.0)):
        graph = Graph([x, y], name_module(Gate(), "gate")(x, y, offset=constant))
        with pytest.raises(GraphError, match=r"node 'gate': argument (nan|tensor\(1\.\)) cannot be "
                           "written in a node line"):
            graph.to_spec()


def test_a_block_name_that_is_no_identifier_is_refused():
    with pytest.raises(GraphError, match=r"block 'my-relu' \(ReLU\): a node line cannot call it"):
        one_block(nn.ReLU(), "my-relu").to_spec()


def test_one_frozen_weight_cannot_be_recorded():
    linear = nn.Linear(3, 3)
    linear.weight.requires_grad_(False)
    with pytest.raises(GraphError, match=r"'blocks\.frozen_weight\.weight' takes no gradient.*freeze"):
        one_block(linear, "frozen_weight").to_spec()


def test_a_graph_in_double_precision_is_refused():
    graph = one_block(nn.Linear(3, 3), "wide").double()
    with pytest.raises(GraphError, match=r"'blocks\.wide\.weight' is torch\.float64, but a spec "
                       "records no dtype"):
        graph.to_spec()


def test_get_config_must_return_arguments_by_name():
    class Odd(nn.Module):
        def get_config(self) -> list:
            return [1, 2]

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x

    Odd.__qualname__, Odd.__module__ = "Odd", __name__
    globals()["Odd"] = Odd
    try:
        with pytest.raises(GraphError, match=r"block 'odd' .*get_config\(\) returned list; expected a dict"):
            one_block(Odd(), "odd").to_spec()
    finally:
        del globals()["Odd"]


def test_training_names_an_undescribable_block_before_any_step_or_checkpoint(tmp_path):
    """The README: such a block is named when training starts, before any checkpoint is
    written, by Lightning's Trainer with a checkpoint callback, not at the first save."""
    x = Input("x", shape=(3,))
    graph = Graph(x, {"y": Dense(1)(name_module(Lookup([1.0, 2.0, 3.0]), "lookup")(x))})
    rows = DataLoader([{"x": torch.randn(3), "y": torch.randn(1)} for _ in range(8)], batch_size=4)
    trainer = L.Trainer(max_epochs=1, logger=False, enable_progress_bar=False,
                        enable_model_summary=False, default_root_dir=tmp_path,
                        callbacks=[ModelCheckpoint(dirpath=tmp_path / "checkpoints")])
    with pytest.raises(GraphError, match=r"block 'lookup' .*cannot recover constructor argument 'table'"):
        trainer.fit(GraphSystem(graph, loss="mse"), rows)
    assert trainer.global_step == 0
    assert not list(tmp_path.rglob("*.ckpt"))
