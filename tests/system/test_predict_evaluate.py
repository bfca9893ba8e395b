"""`system.predict(x)` and `system.evaluate(x, y)` take inputs as Keras's do (a dict by name,
a list in input order, or one array for a one-input model) and refuse, by name, inputs that
do not fit the graph instead of reading the wrong column or dropping one."""

from __future__ import annotations

import lightning as L
import numpy as np
import pytest
import torch

from plait import Graph, Input
from plait.blocks import Concat, Dense, Dropout, Embedding, GlobalAveragePool1D
from plait.graph import GraphError, name_module
from plait.system import GraphSystem

ROWS = 10


def two_inputs() -> GraphSystem:
    a, b = Input("a", shape=(3,)), Input("b", shape=(2,))
    hidden = Dropout(0.5)(Dense(4, activation="relu")(Concat()(a, b)))
    graph = Graph([a, b], {"odd": Dense(1)(hidden), "size": Dense(1)(hidden)})
    return GraphSystem(graph, loss={"odd": "binary_cross_entropy", "size": "mse"},
                       metrics={"odd": ["acc"], "size": ["mae"]})


@pytest.fixture()
def arrays() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    inputs = {"a": rng.normal(size=(ROWS, 3)).astype("float32"), "b": rng.normal(size=(ROWS, 2)).astype("float32")}
    targets = {"odd": rng.integers(0, 2, ROWS).astype("float32"), "size": rng.normal(size=ROWS).astype("float32")}
    return inputs, targets


def test_predict_reads_a_dict_or_a_list_in_input_order_alike_in_eval_mode(arrays) -> None:
    inputs, _ = arrays
    system = two_inputs().train()
    by_name = system.predict({**inputs, "unused": np.zeros(ROWS)}, batch_size=3)
    in_order = system.predict([inputs["a"], inputs["b"]], batch_size=ROWS)
    assert system.training  # put back as it was
    for name in ("odd", "size"):
        assert by_name[name].shape == (ROWS, 1)
        np.testing.assert_allclose(by_name[name], in_order[name], rtol=1e-6)  # no dropout: eval mode
    assert ((by_name["odd"] > 0) & (by_name["odd"] < 1)).all()  # the sigmoid applied


def test_predict_under_bfloat16_autocast_gives_float32_arrays(arrays) -> None:
    """numpy has no bfloat16: outputs computed in it come back as float32."""
    inputs, _ = arrays
    system = two_inputs()
    expected = system.predict(inputs)["size"]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        predicted = system.predict(inputs)["size"]
    assert predicted.dtype == np.float32
    np.testing.assert_allclose(predicted, expected, atol=0.05)


def test_predict_takes_one_array_for_a_one_input_model() -> None:
    x = Input("x", shape=(3,))
    system = GraphSystem(Graph(x, {"y": Dense(2)(x)}), loss="cross_entropy")
    probabilities = system.predict(np.ones((4, 3), dtype="float32"))["y"]
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("call", ["predict", "evaluate"])
@pytest.mark.parametrize("inputs, message", [
    (lambda i: {"a": i["a"]}, r"{call}: inputs lack \['b'\]; expected \['a', 'b'\], received \['a'\]"),
    (lambda i: [i["a"]], r"{call}: 1 inputs given, expected 2: \['a', 'b'\]"),
    (lambda i: [i["a"], i["b"], i["b"]], r"{call}: 3 inputs given, expected 2: \['a', 'b'\]"),
    (lambda i: [], r"{call}: 0 inputs given, expected 2: \['a', 'b'\]"),
    (lambda i: i["a"], r"{call}: one array given as inputs, expected 2: \['a', 'b'\]"),
    (lambda i: {"a": i["a"], "b": i["b"][:4]}, r"{call}: every array needs one row per example; got rows "
                                               r"\{'a': 10, 'b': 4"),
])
def test_inputs_that_do_not_fit_the_graph_are_refused_by_name(arrays, call, inputs, message) -> None:
    given, targets = arrays
    args = (inputs(given),) if call == "predict" else (inputs(given), targets)
    with pytest.raises(ValueError, match=message.replace("{call}", call)):
        getattr(two_inputs(), call)(*args)


@pytest.mark.parametrize("call", ["predict", "evaluate"])
def test_no_rows_are_refused_by_name(arrays, call) -> None:
    given, targets = arrays
    empty = {n: a[:0] for n, a in given.items()}
    args = (empty,) if call == "predict" else (empty, {n: t[:0] for n, t in targets.items()})
    with pytest.raises(ValueError, match=f"{call}: no rows to {call} on"):
        getattr(two_inputs(), call)(*args)


def test_evaluate_refuses_targets_that_lack_an_output(arrays) -> None:
    inputs, targets = arrays
    with pytest.raises(ValueError, match=r"evaluate: targets lack \['size'\]; expected \['odd', 'size'\]"):
        two_inputs().evaluate(inputs, {"odd": targets["odd"]})


def test_evaluate_gives_the_loss_of_the_predictions(arrays) -> None:
    inputs, targets = arrays
    system = two_inputs()
    predicted = system.predict(inputs)
    scores = system.evaluate(inputs, targets, batch_size=4)
    size_mse = np.mean((predicted["size"].reshape(-1) - targets["size"]) ** 2)
    assert scores["test/size/loss"] == pytest.approx(size_mse, rel=1e-5)
    odd = torch.as_tensor(predicted["odd"].reshape(-1))
    bce = torch.nn.functional.binary_cross_entropy(odd, torch.as_tensor(targets["odd"]))
    assert scores["test/odd/loss"] == pytest.approx(float(bce), rel=1e-4)
    assert scores["test/loss"] == pytest.approx(scores["test/odd/loss"] + scores["test/size/loss"], rel=1e-5)


@pytest.mark.parametrize("call", ["predict", "evaluate"])
@pytest.mark.parametrize("size", [0, -1, 2.5, True])
def test_a_batch_size_below_one_is_refused_by_name(arrays, call, size) -> None:
    given, targets = arrays
    args = (given,) if call == "predict" else (given, targets)
    with pytest.raises(ValueError, match=rf"^{call}: batch_size is the rows per forward pass, a whole number "
                                         rf"from 1; received {size}$"):
        getattr(two_inputs(), call)(*args, batch_size=size)


def test_a_numpy_batch_size_is_a_batch_size(arrays) -> None:
    inputs, targets = arrays
    system = two_inputs()
    assert system.evaluate(inputs, targets, batch_size=np.int64(4)) == system.evaluate(inputs, targets)


def test_sample_weight_for_a_model_that_weights_no_examples_is_refused(arrays) -> None:
    """It would change nothing: the numbers would read as weighted and not be."""
    inputs, targets = arrays
    with pytest.raises(ValueError, match=r"^evaluate: sample_weight given, but no output of this model weights "
                                         r"its examples \(model.outputs.<name>.sample_weight"):
        two_inputs().evaluate(inputs, targets, sample_weight=np.ones(3))


def test_class_indices_as_a_column_evaluate_as_a_vector_does() -> None:
    """(N, 1) class indices, as the loss takes them, score alike in the metrics."""
    x = Input("x", shape=(3,))
    system = GraphSystem(Graph(x, {"label": Dense(4)(x)}), loss="cross_entropy", metrics=["acc", "f1"])
    rows = np.random.default_rng(0).normal(size=(ROWS, 3)).astype("float32")
    labels = np.arange(ROWS) % 4
    assert system.evaluate(rows, labels[:, None]) == system.evaluate(rows, labels)


def _words(nested: bool) -> GraphSystem:
    text = Input("text", shape=(None,), dtype=torch.long)
    if nested:  # the embedding inside a shared encoder, a nested graph
        inner = Input("tokens", shape=(None,), dtype=torch.long)
        encoder = Graph(inner, GlobalAveragePool1D()(name_module(Embedding(50, 8), "embedding")(inner)))
        features = encoder(text)
    else:
        features = GlobalAveragePool1D()(name_module(Embedding(50, 8), "embedding")(text))
    return GraphSystem(Graph(text, {"label": Dense(2)(features)}), loss="cross_entropy")


@pytest.mark.parametrize("nested", [False, True], ids=["embedding", "in_a_nested_graph"])
def test_ids_outside_an_embeddings_table_are_refused_by_input_and_block(tmp_path, nested) -> None:
    """New data tokenized with another vocabulary: predict, evaluate and a Trainer (fit and
    predict) refuse it naming the input, the block and the ids, where torch raised a bare
    IndexError (and a GPU stops in a device-side assert)."""
    system = _words(nested)
    ids = np.array([[1, 2, 49], [3, 50, 0], [77, 4, 5]])
    message = (r"^input 'text': block 'embedding' looks up ids 0 to 49 \(a table of 50\), received 50, 77 "
               r"\(2 of 9 values\): ids from another vocabulary, or a table too small for this data$")
    with pytest.raises(GraphError, match=message):
        system.predict(ids)
    with pytest.raises(GraphError, match=message):
        system.evaluate(ids, np.array([0, 1, 0]))
    system.predict(ids.clip(0, 49))  # within the table: predicts
    rows = [{"text": torch.as_tensor(row), "label": torch.tensor(i % 2)} for i, row in enumerate(ids)]
    batches = torch.utils.data.DataLoader(rows, batch_size=3)
    trainer = L.Trainer(max_epochs=1, accelerator="cpu", logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path)
    with pytest.raises(GraphError, match=message):
        trainer.fit(system, batches)
    assert trainer.global_step == 0
    with pytest.raises(GraphError, match=message):
        trainer.predict(system, batches)


@pytest.mark.parametrize("call, where, column", [("predict", "inputs", "a"), ("evaluate", "inputs", "b"),
                                                 ("evaluate", "targets", "size")])
def test_nan_in_an_input_or_target_is_refused_naming_it_and_the_row(arrays, call, where, column) -> None:
    """As the file-data path refuses it: predictions or scores of NaN would read as results."""
    given = {"inputs": dict(arrays[0]), "targets": dict(arrays[1])}
    given[where][column] = given[where][column].copy()
    given[where][column][3] = np.nan
    kind = "input" if where == "inputs" else "target"
    args = (given["inputs"],) if call == "predict" else (given["inputs"], given["targets"])
    with pytest.raises(ValueError, match=rf"^{call}: {kind} '{column}' has 1 row with NaN or Inf \(first at row 3, "
                                         r"counting from 0\); clean or impute them first\.$"):
        getattr(two_inputs(), call)(*args)
