"""`mode=predict` on data without targets: a file of inputs only, predicted as a table."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import open_dict
from tests.train.conftest import CONF

from plait.data import FileDataModule
from plait.data.base import DataError
from plait.train import main, train
from plait.train.entry import run as run_mode
from plait.train.predictions import prediction_table
from plait.train.progress import progress

COLUMNS = ["x1", "x2", "x3", "x4"]


def _people(rows: int, seed: int) -> pd.DataFrame:
    x = np.random.default_rng(seed).normal(size=(rows, 4))
    return pd.DataFrame(x, columns=COLUMNS)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """my.csv (features and species) to train on; new.csv: an `id` and the features, no species."""
    folder = tmp_path_factory.mktemp("files")
    train_rows = _people(300, 0)
    train_rows["species"] = (train_rows.x1 + train_rows.x2 > 0).astype(int) + (train_rows.x3 > 1).astype(int)
    train_rows.to_csv(folder / "my.csv", index=False)
    new = _people(7, 1)
    new.insert(0, "id", [f"p{i}" for i in range(7)])
    new.to_csv(folder / "new.csv", index=False)
    return {"train": folder / "my.csv", "new": folder / "new.csv", "folder": folder}


def table_overrides(train_path: Path | str) -> list[str]:
    """The README's table classifier on a CSV (`Your own data`)."""
    return ["data=files", "model=table_classifier", f"data.train_path={train_path}",
            "data.inputs={features: [x1, x2, x3, x4]}", "data.targets={label: species}",
            "model.inputs.features.shape=[4]", "model.blocks.head.units=3"]


@pytest.fixture(scope="module")
def checkpoint(files) -> Path:
    out = files["folder"] / "run"
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("train", overrides=[*table_overrides(files["train"]), "trainer.max_epochs=2",
                                          "logger=csv", "test=false", f"paths.output_dir={out}"])
    train(cfg)
    return out / "checkpoints" / "last.ckpt"


def test_predicts_a_file_without_targets_as_a_table_with_its_ids(files, checkpoint, compose_cfg,
                                                                 tmp_path) -> None:
    # No training file and no targets at all: the inputs are all a prediction needs.
    overrides = [o for o in table_overrides("null") if not o.startswith("data.targets")]
    cfg = compose_cfg(*overrides, "data.targets=null", f"data.predict_path={files['new']}",
                      f"ckpt_path={checkpoint}", config_name="predict")
    run_mode(cfg)
    table = pd.read_csv(tmp_path / "predictions.csv")
    assert list(table.columns) == ["id", "label_0", "label_1", "label_2", "label_class"]
    assert list(table["id"]) == [f"p{i}" for i in range(7)]
    probabilities = np.load(tmp_path / "predictions.npz")["label"]
    np.testing.assert_allclose(table[["label_0", "label_1", "label_2"]].to_numpy(), probabilities, rtol=1e-6)
    assert list(table["label_class"]) == list(probabilities.argmax(axis=1))
    assert not (tmp_path / "targets.npz").exists()


def test_parquet_table_and_another_id_column(files, checkpoint, compose_cfg, tmp_path) -> None:
    new = pd.read_csv(files["new"]).rename(columns={"id": "person"})
    new.to_parquet(tmp_path / "new.parquet")
    cfg = compose_cfg(*table_overrides(files["train"]), f"data.predict_path={tmp_path / 'new.parquet'}",
                      "data.id_column=person", "table=parquet", f"ckpt_path={checkpoint}",
                      config_name="predict")
    run_mode(cfg)
    table = pd.read_parquet(tmp_path / "predictions.parquet")
    assert list(table.columns[:2]) == ["person", "label_0"] and len(table) == 7


@pytest.mark.parametrize(("change", "message"), [
    ({"drop": "x3"}, "Config error: data.inputs.features: column 'x3' is not in data.predict_path "
                     "({path}); the file's columns: ['id', 'x1', 'x2', 'x4']."),
    ({"id_column": "person"}, "Config error: data.predict_path: {path}: data.id_column names 'person', "
                              "which the file lacks"),
    ({"table": "xlsx"}, "Config error: table: expected one of ['csv', 'parquet'] or null"),
])
def test_bad_input_is_one_named_line(change, message, files, checkpoint, compose_cfg, capsys,
                                     tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    path = tmp_path / "new.csv"
    pd.read_csv(files["new"]).drop(columns=[change.get("drop", "id")]).to_csv(path, index=False)
    extra = [f"{k if k == 'table' else 'data.' + k}={v}" for k, v in change.items() if k != "drop"]
    cfg = compose_cfg(*table_overrides(files["train"]), f"data.predict_path={path}",
                      f"ckpt_path={checkpoint}", *extra, config_name="predict")
    with pytest.raises(SystemExit):
        main(cfg)
    assert capsys.readouterr().err.startswith(message.format(path=path))


def test_file_data_without_a_training_file_serves_its_predict_split(files) -> None:
    data = FileDataModule(predict_path=str(files["new"]), inputs={"features": COLUMNS}, batch_size=4)
    data.setup("predict")
    batches = list(data.predict_dataloader())
    assert [set(b) for b in batches] == [{"features"}, {"features"}]
    assert list(data.predict_ids) == [f"p{i}" for i in range(7)]
    with pytest.raises(DataError, match=r"no train data: data\.train_path is null"):
        data.train_dataloader()
    with pytest.raises(DataError, match=r"data\.train_path is required \(or data\.test_path"):
        FileDataModule(inputs={"features": COLUMNS})


def test_table_columns_per_kind_of_output() -> None:
    outputs = {"spam": np.array([[0.2], [0.9]]), "price": np.array([1.5, 2.5]),
               "xy": np.array([[1.0, 2.0], [3.0, 4.0]]), "tags": np.zeros((2, 5, 3))}
    activations = {"spam": "sigmoid", "price": "identity", "xy": "identity", "tags": "softmax"}
    table, left_out = prediction_table(outputs, activations, ids=np.array([10, 11]))
    assert list(table.columns) == ["id", "spam", "spam_class", "price", "xy_0", "xy_1"]
    assert list(table["spam_class"]) == [0, 1]
    assert left_out == ["tags"]  # a value per step does not fit a row per example


def test_progress_logs_a_line_now_and_then_when_not_on_a_terminal(caplog) -> None:
    with caplog.at_level(logging.INFO, logger="plait.train.progress"):
        assert list(progress(range(3), 3, "batch", every_s=0.0)) == [0, 1, 2]
    assert [r.getMessage().split(",")[0] for r in caplog.records] == [
        "batch 1 of 3 (33%)", "batch 2 of 3 (67%)", "batch 3 of 3 (100%)"]


def test_predicts_arrays_without_targets(checkpoint, compose_cfg, tmp_path) -> None:
    cfg = compose_cfg(f"ckpt_path={checkpoint}", config_name="predict")
    with open_dict(cfg):  # arrays in memory, as a Python caller configures them
        cfg.data = {"_target_": "plait.data.ArrayDataModule", "_convert_": "all", "batch_size": 2,
                    "inputs": {"features": _people(5, 3).to_numpy().tolist()}}
    run_mode(cfg)
    table = pd.read_csv(tmp_path / "predictions.csv")
    assert list(table.columns) == ["label_0", "label_1", "label_2", "label_class"] and len(table) == 5


def test_a_limited_test_split_predicts_with_the_ids_of_the_rows_it_keeps(tmp_path) -> None:
    """`data.limit` cuts the test split predicted without `predict_path`: the table's ids
    are those of the rows kept, in their order (the ids of every row were dropped before)."""
    frame = _people(60, 2)
    frame.insert(0, "id", [f"r{i}" for i in range(60)])
    frame["species"] = np.arange(60) % 3
    frame.to_csv(tmp_path / "my.csv", index=False)
    data = FileDataModule(train_path=str(tmp_path / "my.csv"), inputs={"features": COLUMNS},
                          targets={"label": "species"}, batch_size=4, limit=5, seed=0)
    data.setup("predict")
    features = np.concatenate([b["features"].numpy() for b in data.predict_dataloader()])
    assert len(features) == len(data.predict_ids) == 5
    np.testing.assert_allclose(frame.set_index("id").loc[data.predict_ids, COLUMNS].to_numpy(), features, rtol=1e-6)
