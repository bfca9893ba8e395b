"""FileDataModule: a user's csv, parquet or npz columns mapped to graph names."""

import numpy as np
import pandas as pd
import pytest
import torch

from plait.data import DataError, FileDataModule


def frame(n: int = 100, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"age": rng.integers(18, 80, n), "height": rng.normal(170, 10, n),
                         "weight": rng.normal(70, 5, n), "income": rng.integers(0, 2, n),
                         "job": rng.integers(0, 5, n), "name": [f"p{i}" for i in range(n)]})


@pytest.fixture(params=["csv", "parquet"])
def table_path(request, tmp_path):
    path = tmp_path / f"people.{request.param}"
    df = frame()
    df.to_csv(path, index=False) if request.param == "csv" else df.to_parquet(path)
    return path


def test_columns_become_typed_batches(table_path):
    data = FileDataModule(train_path=str(table_path), batch_size=8,
                          inputs={"body": ["height", "weight"], "age": "age"},
                          targets={"income": "income", "job": "job", "height": "height"},
                          dtypes={"income": "float32"}, num_classes={"job": 5})
    assert data.provides == {"body", "age", "income", "job", "height"}
    data.setup()
    batch = next(iter(data.train_dataloader()))
    assert set(batch) == data.provides
    assert batch["body"].dtype == torch.float32 and batch["body"].shape == (8, 2)
    assert batch["age"].dtype == torch.int64 and batch["age"].shape == (8,)
    assert batch["income"].dtype == torch.float32  # 0/1 for binary cross-entropy
    assert batch["job"].dtype == torch.int64 and batch["height"].dtype == torch.float32
    assert {k: len(v) for k, v in data.splits.items()} == {"train": 80, "val": 10, "test": 10}


def test_one_file_per_split_and_limit(tmp_path):
    for split, seed in (("train", 0), ("val", 1), ("test", 2)):
        frame(30, seed).to_csv(tmp_path / f"{split}.csv", index=False)
    data = FileDataModule(train_path=str(tmp_path / "train.csv"), val_path=str(tmp_path / "val.csv"),
                          test_path=str(tmp_path / "test.csv"), inputs={"x": ["height"]},
                          targets={"job": "job"}, limit=20)
    data.setup()
    assert {k: len(v) for k, v in data.splits.items()} == {"train": 20, "val": 20, "test": 20}
    expected = frame(30, 2)["job"].to_numpy()
    got = torch.cat([b["job"] for b in data.test_dataloader()]).numpy()
    assert np.isin(got, expected).all()


def test_npz_keeps_array_shapes(tmp_path):
    path = tmp_path / "images.npz"
    rng = np.random.default_rng(0)
    np.savez(path, images=rng.random((40, 3, 8, 8)), labels=rng.integers(0, 3, 40),
             extra=rng.random((40, 2)), more=rng.random(40))
    data = FileDataModule(train_path=str(path), inputs={"image": "images", "v": ["extra", "more"]},
                          targets={"label": "labels"}, val_fraction=0.25, test_fraction=0.0)
    data.setup()
    batch = next(iter(data.val_dataloader()))
    assert batch["image"].shape == (10, 3, 8, 8) and batch["image"].dtype == torch.float32
    assert batch["v"].shape == (10, 3) and batch["label"].dtype == torch.int64
    assert data.test_dataloader() == []  # no test split: Lightning skips testing


def test_splits_are_seeded(table_path):
    def val_ages(seed):
        data = FileDataModule(train_path=str(table_path), inputs={"a": "age"},
                              targets={"j": "job"}, seed=seed)
        data.setup()
        return next(iter(data.val_dataloader()))["a"]

    assert torch.equal(val_ages(0), val_ages(0)) and not torch.equal(val_ages(0), val_ages(1))


def test_missing_column_lists_the_available_ones(table_path):
    data = FileDataModule(train_path=str(table_path), inputs={"x": ["height", "hieght"]},
                          targets={"job": "job"})
    with pytest.raises(DataError, match=r"column 'hieght' \(for 'x'\) is not in .*available: "
                                        r"\['age', 'height', 'weight', 'income', 'job', 'name'\]"):
        data.setup()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"inputs": {"n": "name"}}, r"column 'name' \(for 'n'\) .* has dtype"),
    ({"dtypes": {"job": "float99"}}, r"data\.dtypes\.job=float99 is not a torch dtype"),
    ({"dtypes": {"nope": "float32"}}, r"data\.dtypes names \['nope'\]"),
    ({"targets": {"x": "age"}}, r"\['x'\] named in both"),
    ({"train_path": "people.xlsx"}, r"data\.train_path=people\.xlsx must end in one of"),
    ({"num_classes": {"job": 4}}, r"labels 0\.\.4, but data\.num_classes\.job is 4"),
    ({"num_classes": {"age": 4}}, r"data\.num_classes names \['age'\], which are not targets"),
])
def test_bad_config_is_named(table_path, kwargs, message):
    args = {"train_path": str(table_path), "inputs": {"x": "age"}, "targets": {"job": "job"}}
    with pytest.raises(DataError, match=message):
        FileDataModule(**{**args, **kwargs}).setup()
