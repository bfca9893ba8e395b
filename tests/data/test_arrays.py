"""ArrayDataModule: Keras's `fit(x, y)` arrays as a plait DataModule."""

from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch

from plait import Graph, Input
from plait.blocks import Concat, Dense
from plait.data import SAMPLE_WEIGHT, ArrayDataModule, DataError
from plait.system import GraphSystem
from plait.train.check import check_data
from plait.train.errors import ConfigError

N = 100


def arrays(n: int = N, seed: int = 0) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Two inputs, a class target and a regression target that the inputs determine."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(n, 3)), rng.normal(size=(n, 2))
    label = (a[:, 0] + b[:, 0] > 0).astype(np.int32) + (a[:, 1] > 1)
    return {"a": a, "b": b}, {"label": label, "score": a.sum(axis=1)}


def graph() -> Graph:
    a, b = Input("a", shape=(3,)), Input("b", shape=(2,))
    features = Concat()(a, b)
    return Graph({"a": a, "b": b}, {"label": Dense(3)(features), "score": Dense(1)(features)})


def rows(data: ArrayDataModule, split: str) -> dict[str, torch.Tensor]:
    loader = getattr(data, f"{split}_dataloader")()
    batches = list(loader)
    return {k: torch.cat([b[k] for b in batches]) for k in batches[0]} if batches else {}


def test_dict_list_and_single_array_agree():
    inputs, targets = arrays()
    by_dict = ArrayDataModule(inputs, targets, seed=3)
    by_list = ArrayDataModule([inputs["a"], inputs["b"]], [targets["label"], targets["score"]],
                              input_names=["a", "b"], target_names=["label", "score"], seed=3)
    by_graph = ArrayDataModule([inputs["a"], inputs["b"]], [targets["label"], targets["score"]],
                               graph=graph(), seed=3)
    batches = []
    for data in (by_dict, by_list, by_graph):
        assert data.provides == {"a", "b", "label", "score"}
        data.setup()
        batches.append(rows(data, "val"))
    for batch in batches[1:]:
        assert all(torch.equal(batch[k], batches[0][k]) for k in batches[0])
    single = ArrayDataModule(inputs["a"], targets["label"], input_names=["a"], target_names=["label"])
    single.setup()
    assert next(iter(single.train_dataloader()))["a"].shape == (32, 3)


def test_dtypes():
    n = 10
    data = ArrayDataModule(
        {"f64": np.zeros((n, 2)), "i32": np.zeros(n, np.int32), "u8": np.zeros((n, 4), np.uint8),
         "flag": np.zeros(n, bool), "t64": torch.zeros(n, dtype=torch.float64),
         "t16": torch.zeros(n, dtype=torch.float16), "tbf16": torch.zeros(n, dtype=torch.bfloat16),
         "tint": torch.zeros(n, dtype=torch.int16), "tbool": torch.zeros(n, dtype=torch.bool)},
        {"y": np.zeros(n, np.float16)}, val_fraction=0.0)
    data.setup()
    batch = next(iter(data.train_dataloader()))
    dtypes = {k: v.dtype for k, v in batch.items()}
    assert dtypes == {"f64": torch.float32, "i32": torch.int64, "u8": torch.int64,
                      "flag": torch.float32, "t64": torch.float64, "t16": torch.float16,
                      "tbf16": torch.float32, "tint": torch.int64, "tbool": torch.float32,
                      "y": torch.float32}


def test_lengths_must_agree():
    inputs, targets = arrays()
    targets["score"] = targets["score"][:90]
    with pytest.raises(DataError, match=r"target 'score' has 90 rows, but input 'a' has 100"):
        ArrayDataModule(inputs, targets)
    with pytest.raises(DataError, match=r"val_data: input 'b' has 9 rows, but input 'a' has 10"):
        ArrayDataModule(*arrays(), val_data=({"a": np.zeros((10, 3)), "b": np.zeros((9, 2))},
                                             arrays(10)[1]))


def test_nan_and_inf_rows_are_named():
    inputs, targets = arrays()
    inputs["b"][[7, 40], 1] = np.nan
    inputs["b"][50, 0] = np.inf
    with pytest.raises(DataError, match=r"input 'b' has 3 rows with NaN or Inf \(first at row 7"):
        ArrayDataModule(inputs, targets)
    inputs, targets = arrays()
    targets["score"] = torch.as_tensor(targets["score"])
    targets["score"][12] = float("nan")
    with pytest.raises(DataError, match=r"target 'score' has 1 row with NaN or Inf \(first at row 12"):
        ArrayDataModule(inputs, targets)


@pytest.mark.parametrize(("value", "message"), [
    (np.array(["cat"] * N), r"input 'a' has dtype <U3, e\.g\. 'cat' at row 0; expected numbers"),
    (np.array([1.0] * 50 + ["x"] * 50, dtype=object), r"dtype object, e\.g\. 'x' at row 50"),
    (np.array([1.0] * N, dtype=object), r"numbers held as Python objects"),
    ([[1, 2], [3]] * 50, r"input 'a' cannot become one array .*pad ragged sequences"),
    (torch.zeros(N, dtype=torch.complex64), r"input 'a' has dtype torch.complex64"),
    (np.float32(1.0), r"input 'a' has shape \(\); expected one row per example"),
])
def test_arrays_that_are_not_numbers(value, message):
    with pytest.raises(DataError, match=message):
        ArrayDataModule({"a": value}, {"y": np.zeros(N)})


def test_names_must_fit_the_arrays():
    inputs, targets = arrays()
    with pytest.raises(DataError, match=r"inputs is a list of 2 items without names; pass a dict"):
        ArrayDataModule([inputs["a"], inputs["b"]], targets)
    with pytest.raises(DataError, match=r"inputs is a list of 2 arrays, but the names are \['a', 'b', 'c'\]"):
        ArrayDataModule([inputs["a"], inputs["b"]], targets, input_names=["a", "b", "c"])
    with pytest.raises(DataError, match=r"inputs is one array, but there are 2 names \['a', 'b'\]"):
        ArrayDataModule(inputs["a"], targets, graph=graph())
    with pytest.raises(DataError, match=r"targets has keys \['label'\]; expected \['label', 'score'\] "
                                        r"\(missing \['score'\], unknown \[\]\)"):
        ArrayDataModule(inputs, {"label": targets["label"]}, graph=graph())
    with pytest.raises(DataError, match=r"pass graph= or input_names=, not both"):
        ArrayDataModule(inputs, targets, graph=graph(), input_names=["a", "b"])
    with pytest.raises(DataError, match=r"\['a'\] name both an input and a target"):
        ArrayDataModule(inputs, {"a": targets["label"]})


def test_val_and_test_data_take_precedence():
    inputs, targets = arrays()
    val, test = arrays(10, seed=1), arrays(7, seed=2)
    data = ArrayDataModule(inputs, targets, val_fraction=0.3, test_fraction=0.2, val_data=val,
                           test_data=(list(test[0].values()), list(test[1].values())))
    data.setup()
    assert {k: len(v) for k, v in data.splits.items()} == {"train": N, "val": 10, "test": 7,
                                                            "predict": N}
    assert torch.equal(rows(data, "val")["a"], torch.as_tensor(val[0]["a"], dtype=torch.float32))
    assert rows(data, "val")["label"].dtype == torch.int64
    with pytest.raises(DataError, match=r"val_data: input 'a' has rows of shape \(4,\), but the "
                                        r"training array's rows have shape \(3,\)"):
        ArrayDataModule(inputs, targets, val_data=({"a": np.zeros((5, 4)), "b": np.zeros((5, 2))},
                                                   arrays(5)[1]))
    with pytest.raises(DataError, match=r"val_data: target 'label' has dtype float32, but the "
                                        r"training array has int64"):
        ArrayDataModule(inputs, targets, val_data=(val[0], {**val[1], "label": np.zeros(10)}))
    with pytest.raises(DataError, match=r"val_data must be \(inputs, targets\) .*got a dict"):
        ArrayDataModule(inputs, targets, val_data={"a": 1})


def test_fractions_split_by_seed():
    inputs, targets = arrays()
    inputs["id"] = np.arange(N)

    def ids(seed: int, **fractions: float) -> dict[str, set[int]]:
        data = ArrayDataModule(inputs, targets, seed=seed, **fractions)
        data.setup()
        return {split: set(data.splits[split].columns["id"].tolist()) for split in data.splits}

    split = ids(0, val_fraction=0.2, test_fraction=0.1)
    assert [len(split[s]) for s in ("train", "val", "test")] == [70, 20, 10]
    assert split["train"] | split["val"] | split["test"] == set(range(N))
    assert split == ids(0, val_fraction=0.2, test_fraction=0.1)
    assert split["val"] != ids(1, val_fraction=0.2, test_fraction=0.1)["val"]
    no_val = ids(0, val_fraction=0.0)
    assert len(no_val["train"]) == N and not no_val["val"]
    with pytest.raises(DataError, match=r"data.val_fraction must lie in \[0, 1\), got 1.5"):
        ArrayDataModule(inputs, targets, val_fraction=1.5)


def test_no_validation_skips_the_loader():
    data = ArrayDataModule(*arrays(), val_fraction=0.0)
    data.setup()
    assert data.val_dataloader() == [] and data.test_dataloader() == []


def test_predict_only_serves_every_row_in_order():
    inputs, _ = arrays(50)
    data = ArrayDataModule(inputs, batch_size=16)
    assert data.provides == {"a", "b"}
    data.setup()
    batches = list(data.predict_dataloader())
    assert [len(b["a"]) for b in batches] == [16, 16, 16, 2] and set(batches[0]) == {"a", "b"}
    assert torch.equal(torch.cat([b["a"] for b in batches]), torch.as_tensor(inputs["a"]).float())
    with pytest.raises(DataError, match=r"targets is None, so this data is predict-only"):
        data.train_dataloader()
    with pytest.raises(DataError, match=r"val_data and test_data need targets"):
        ArrayDataModule(inputs, val_data=arrays(5))


def test_sample_weight_rides_in_every_split():
    inputs, targets = arrays()
    weights = np.linspace(0, 2, N)
    data = ArrayDataModule(inputs, targets, sample_weight=weights, val_data=arrays(10),
                           test_fraction=0.1)
    assert data.provides == {"a", "b", "label", "score", SAMPLE_WEIGHT}
    data.setup()
    assert torch.equal(rows(data, "val")[SAMPLE_WEIGHT], torch.ones(10))  # val_data gave none
    test = rows(data, "test")[SAMPLE_WEIGHT]
    assert test.dtype == torch.float32 and len(test) == 10 and not torch.equal(test, torch.ones(10))
    check_data(graph(), data)  # the graph leaving the weights unread is no error
    weighted_val = ArrayDataModule(inputs, targets, val_data=(*arrays(10), np.full(10, 2)))
    weighted_val.setup()
    assert torch.equal(rows(weighted_val, "val")[SAMPLE_WEIGHT], torch.full((10,), 2.0))
    assert torch.equal(rows(weighted_val, "train")[SAMPLE_WEIGHT], torch.ones(N))
    with pytest.raises(DataError, match=r"sample_weight has shape \(100, 1\); expected \(100,\).*"
                                        r"reshape\(-1\)"):
        ArrayDataModule(inputs, targets, sample_weight=weights[:, None])
    with pytest.raises(DataError, match=r"sample_weight has 1 negative weights \(first at row 3"):
        ArrayDataModule(inputs, targets, sample_weight=np.where(np.arange(N) == 3, -1.0, 1.0))
    with pytest.raises(DataError, match=r"sample_weight has 90 rows, but input 'a' has 100"):
        ArrayDataModule(inputs, targets, sample_weight=weights[:90])


def test_an_unread_array_is_a_config_error():
    inputs, targets = arrays()
    data = ArrayDataModule({**inputs, "extra": np.zeros(N)}, targets)
    with pytest.raises(ConfigError, match=r"the data provides \['extra'\], which the model does not read"):
        check_data(graph(), data)


def test_one_epoch_with_a_lightning_trainer(tmp_path: Path):
    spec = {
        "inputs": {"a": {"shape": [3]}, "b": {"shape": [2]}},
        "blocks": {"merge": {"_target_": "plait.blocks.Concat"},
                   "trunk": {"_target_": "plait.blocks.Dense", "units": 8, "activation": "relu"},
                   "label_head": {"_target_": "plait.blocks.Dense", "units": 3},
                   "score_head": {"_target_": "plait.blocks.Dense", "units": 1}},
        "nodes": {"features": "merge(a, b)", "hidden": "trunk(features)",
                  "label": "label_head(hidden)", "score": "score_head(hidden)"},
        "outputs": {"label": {"loss": "cross_entropy", "metrics": ["accuracy"]},
                    "score": {"loss": "mse", "metrics": ["mae"]}},
    }
    inputs, targets = arrays(200)
    data = ArrayDataModule(inputs, targets, batch_size=32, val_fraction=0.25)
    system = GraphSystem(spec)
    trainer = L.Trainer(max_epochs=1, accelerator="cpu", devices=1, default_root_dir=tmp_path,
                        logger=False, enable_progress_bar=False, enable_model_summary=False,
                        enable_checkpointing=False)
    trainer.fit(system, datamodule=data)
    metrics = trainer.callback_metrics
    assert {"val/loss", "val/label/accuracy", "val/score/mae"} <= set(metrics)
    assert all(torch.isfinite(metrics[k]) for k in ("val/loss", "val/label/accuracy"))
    predictions = trainer.predict(system, datamodule=ArrayDataModule(inputs, batch_size=64))
    assert [len(p["label"]) for p in predictions] == [64, 64, 64, 8]
