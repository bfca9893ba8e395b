"""A graph written in Python trains like a YAML one: `GraphSystem(graph, ...)` with arrays in
an `ArrayDataModule`, a real Lightning `Trainer`, Keras-style losses and weights."""

from __future__ import annotations

import lightning as L
import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from tests.system.conftest import trainer

from plait import Graph, Input
from plait.blocks import MLP, Dense
from plait.data import ArrayDataModule
from plait.losses import LossError
from plait.spec import SpecError
from plait.system import GraphSystem


def two_headed() -> Graph:
    pixels = Input("pixels", shape=(64,))
    features = MLP(hidden=[64, 32])(pixels)
    return Graph(pixels, {"digit": Dense(10)(features), "odd": Dense(1)(features)})


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    data = load_digits()
    return (data.data / 16.0).astype("float32"), {"digit": data.target,
                                                  "odd": (data.target % 2).astype("float32")}


def test_a_python_graph_trains_in_three_lines(tmp_path, digits) -> None:
    pixels, targets = digits
    system = GraphSystem(two_headed(), loss=["cross_entropy", "binary_cross_entropy"],
                         loss_weights=[1.0, 0.2], metrics=["acc"])
    trainer(tmp_path, epochs=3).fit(system, ArrayDataModule({"pixels": pixels}, targets, batch_size=64))
    logged = pd.read_csv(next(tmp_path.rglob("metrics.csv")))
    assert logged["val/digit/acc"].dropna().iloc[-1] > 0.6  # chance: 0.1
    assert {"val/odd/acc", "val/odd/loss", "train/odd/weight"} <= set(logged.columns)
    assert np.allclose(logged["train/odd/weight"].dropna(), 0.2)


def test_keras_style_and_outputs_style_are_one_configuration() -> None:
    keras = GraphSystem(two_headed(), loss={"digit": "cross_entropy", "odd": "binary_cross_entropy"},
                        loss_weights={"odd": 0.2}, metrics={"digit": ["acc"], "odd": ["auroc"]})
    spelled = GraphSystem(two_headed(), outputs={
        "digit": {"loss": "cross_entropy", "metrics": ["acc"]},
        "odd": {"loss": "binary_cross_entropy", "weight": 0.2, "metrics": ["auroc"]}})
    assert keras.outputs == spelled.outputs


@pytest.mark.parametrize("kwargs, message", [
    ({"outputs": {"digit": {"loss": "cross_entropy"}, "odd": {"loss": "mse"}, "even": {"loss": "mse"}}},
     r"model.outputs.even: names no output of the graph; its outputs are \['digit', 'odd'\]"),
    ({"loss": {"digit": "cross_entropy", "odd": "mse", "digits": "mse"}},
     r"loss has 'digits', which names no output"),
    ({"loss": ["cross_entropy"]}, r"loss has 1 entries for 2 outputs"),
    ({"loss": "cross_entropy", "loss_weights": [1.0, 2.0, 3.0]}, r"loss_weights has 3 entries for 2 outputs"),
    ({"loss": ["cross_entropy", "mse"], "outputs": {"odd": {"loss": "mse"}}},
     r"model.outputs.odd.loss: given twice, in outputs and as loss="),
    ({"outputs": {"digit": {"loss": "cross_entropy"}}}, r"model.outputs.odd: no loss"),
    ({"loss": "cross_entropy", "loss_balancing": "magic"}, r"model.loss_balancing: unknown strategy 'magic'"),
])
def test_a_bad_call_names_what_is_wrong(kwargs, message) -> None:
    with pytest.raises(LossError, match=message):
        GraphSystem(two_headed(), **kwargs)


def test_something_else_than_a_graph_is_refused() -> None:
    with pytest.raises(SpecError, match="expected a plait Graph or a graph spec, received Linear"):
        GraphSystem(torch.nn.Linear(2, 3), loss="mse")


@pytest.mark.parametrize("loss", [
    {"name": "cross_entropy", "label_smoothing": 0.1},
    {"_target_": "plait.losses.named_loss", "name": "cross_entropy", "label_smoothing": 0.1},
])
def test_a_loss_config_with_arguments(loss) -> None:
    system = GraphSystem(two_headed(), outputs={"digit": {"loss": loss}, "odd": {"loss": "binary_cross_entropy"}})
    logits, target = torch.randn(8, 10), torch.randint(0, 10, (8,))
    expected = F.cross_entropy(logits, target, label_smoothing=0.1)
    _, losses = system.loss({"digit": logits, "odd": torch.randn(8, 1)},
                            {"digit": target, "odd": torch.ones(8)})
    torch.testing.assert_close(losses["digit"], expected)


def test_a_loss_module_by_target_and_class_weights() -> None:
    weights = [1.0] * 9 + [5.0]
    system = GraphSystem(two_headed(), outputs={
        "digit": {"loss": {"name": "cross_entropy", "weight": weights}},
        "odd": {"loss": {"_target_": "torch.nn.BCEWithLogitsLoss"}}})
    logits, target = torch.randn(8, 10), torch.randint(0, 10, (8,))
    odd, odd_target = torch.randn(8, 1), torch.ones(8, 1)
    _, losses = system.loss({"digit": logits, "odd": odd}, {"digit": target, "odd": odd_target})
    torch.testing.assert_close(losses["digit"], F.cross_entropy(logits, target, weight=torch.tensor(weights)))
    torch.testing.assert_close(losses["odd"], F.binary_cross_entropy_with_logits(odd, odd_target))


def test_a_bad_loss_config_names_the_output() -> None:
    with pytest.raises(LossError, match=r"model.outputs.digit.loss: .*torch.nn.NoSuchLoss"):
        GraphSystem(two_headed(), outputs={"digit": {"loss": {"_target_": "torch.nn.NoSuchLoss"}},
                                           "odd": {"loss": "mse"}})
    with pytest.raises(LossError, match=r"model.outputs.digit.loss: loss cross_entropy takes no argument 'smoothing'"):
        GraphSystem(two_headed(), outputs={"digit": {"loss": {"name": "cross_entropy", "smoothing": 0.1}},
                                           "odd": {"loss": "mse"}})


def test_sample_weights_weight_each_examples_loss(digits, tmp_path) -> None:
    """Keras's `fit(sample_weight=...)`: the weights come from a data column."""
    pixels, targets = digits
    weights = np.where(targets["digit"] == 3, 4.0, 1.0).astype("float32")
    system = GraphSystem(two_headed(), outputs={
        "digit": {"loss": "cross_entropy", "sample_weight": "sample_weight"},
        "odd": {"loss": "binary_cross_entropy"}})
    logits = torch.randn(6, 10)
    batch = {"digit": torch.tensor([3, 1, 3, 0, 2, 5]), "odd": torch.ones(6),
             "sample_weight": torch.tensor([4.0, 1.0, 4.0, 1.0, 1.0, 1.0])}
    _, losses = system.loss({"digit": logits, "odd": torch.zeros(6, 1)}, batch)
    expected = (F.cross_entropy(logits, batch["digit"], reduction="none") * batch["sample_weight"]).mean()
    torch.testing.assert_close(losses["digit"], expected)
    data = ArrayDataModule({"pixels": pixels}, targets, sample_weight=weights, batch_size=64)
    trainer(tmp_path, epochs=1).fit(system, data)  # the weights reach the loss from the batches


def test_a_configured_balancer_trains_and_its_checkpoint_loads(digits, tmp_path) -> None:
    from plait import load_checkpoint

    pixels, targets = digits
    config = {"_target_": "plait.losses.GradNorm", "alpha": 0.5}
    system = GraphSystem(two_headed(), loss=["cross_entropy", "binary_cross_entropy"], loss_balancing=config)
    run = L.Trainer(max_epochs=1, logger=False, enable_progress_bar=False, default_root_dir=tmp_path)
    run.fit(system, ArrayDataModule({"pixels": pixels}, targets, batch_size=64))
    assert system.loss.balancer.alpha == 0.5
    run.save_checkpoint(tmp_path / "gradnorm.ckpt")
    restored = load_checkpoint(tmp_path / "gradnorm.ckpt")
    assert restored.loss_balancing == config and restored.loss.balancer.alpha == 0.5
    x = torch.from_numpy(pixels[:5])
    torch.testing.assert_close(restored.predict({"pixels": x})["digit"], system.predict({"pixels": x})["digit"])


def test_a_trained_system_pickles_whole(digits, tmp_path) -> None:
    """`torch.save(model)` as PyTorch users save a whole module: named losses, class weights,
    metrics and all; the copy predicts alike and trains on (spawned processes pickle it too)."""
    pixels, targets = digits
    system = GraphSystem(two_headed(), loss={"digit": {"name": "cross_entropy", "weight": [1.0] * 10},
                                             "odd": "binary_cross_entropy"}, metrics=["acc"])
    data = ArrayDataModule({"pixels": pixels}, targets, batch_size=64)
    trainer(tmp_path / "first", epochs=1).fit(system, data)
    torch.save(system, tmp_path / "system.pt")
    again = torch.load(tmp_path / "system.pt", weights_only=False)
    x = {"pixels": torch.from_numpy(pixels[:5])}
    torch.testing.assert_close(again.predict(x)["digit"], system.predict(x)["digit"])
    trainer(tmp_path / "again", epochs=1).fit(again, data)
    logged = pd.read_csv(next((tmp_path / "again").rglob("metrics.csv")))
    assert logged["val/digit/acc"].dropna().iloc[-1] > 0.6


@pytest.mark.parametrize("balancing", ["uncertainty", "gradnorm", "dwa"])
def test_a_system_pickles_whole_with_any_balancer(balancing) -> None:
    import pickle

    system = GraphSystem(two_headed(), loss=["cross_entropy", "binary_cross_entropy"],
                         metrics={"digit": ["acc", "f1"], "odd": ["auroc"]}, loss_balancing=balancing)
    again = pickle.loads(pickle.dumps(system))
    x = {"pixels": torch.rand(4, 64)}
    torch.testing.assert_close(again.predict(x)["odd"], system.predict(x)["odd"])
    assert type(again.loss.balancer) is type(system.loss.balancer)


def test_a_checkpoint_whose_block_class_does_not_import_names_the_file_and_the_path(tmp_path, monkeypatch) -> None:
    """A block class of one's own, saved by import path: where its module is not on the
    path, loading names the checkpoint and says where the class must be."""
    import sys

    from plait import load_checkpoint
    from plait.system import CheckpointError

    (tmp_path / "my_scaler.py").write_text(
        "from torch import nn\n\nclass Scaler(nn.Module):\n"
        "    def __init__(self, factor: float = 2.0):\n        super().__init__()\n        self.factor = factor\n\n"
        "    def forward(self, x):\n        return x * self.factor\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from my_scaler import Scaler

    x = Input("x", shape=(3,))
    system = GraphSystem(Graph(x, {"y": Dense(1)(Scaler(3.0)(x))}), loss="mse")
    run = L.Trainer(max_epochs=1, logger=False, enable_progress_bar=False, default_root_dir=tmp_path)
    rows = torch.randn(8, 3)
    run.fit(system, torch.utils.data.DataLoader([{"x": r, "y": r.sum(0, keepdim=True)} for r in rows], batch_size=4))
    path = tmp_path / "scaled.ckpt"
    run.save_checkpoint(path)
    assert load_checkpoint(path).graph.blocks["scaler"].factor == 3.0
    monkeypatch.delitem(sys.modules, "my_scaler")
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(tmp_path)])
    with pytest.raises(CheckpointError, match=rf"^path: '{path}' holds a graph whose blocks do not import here: "
                       r"model.blocks.scaler: _target_ 'my_scaler.Scaler' does not exist \(ModuleNotFoundError: .*\)\. "
                       r"A block class of your own must import where the checkpoint loads: its package installed, "
                       r"or its folder on PYTHONPATH$"):
        load_checkpoint(path)
