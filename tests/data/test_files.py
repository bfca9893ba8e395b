"""FileDataModule: a user's csv, parquet or npz columns mapped to graph names."""

import os

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


def test_missing_column_names_the_key_the_file_and_the_closest(table_path):
    data = FileDataModule(train_path=str(table_path), inputs={"x": ["height", "hieght"]},
                          targets={"job": "job"})
    with pytest.raises(DataError) as info:
        data.setup()
    assert str(info.value) == (
        f"data.inputs.x: column 'hieght' is not in data.train_path ({table_path}); closest: "
        "['height', 'weight']; the file's columns: ['age', 'height', 'weight', 'income', 'job', "
        "'name'].")


def test_missing_npz_array_is_named_in_the_val_file(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "train.npz", images=rng.random((8, 2)), labels=np.arange(8))
    np.savez(tmp_path / "val.npz", image=rng.random((8, 2)), labels=np.arange(8))
    data = FileDataModule(train_path=str(tmp_path / "train.npz"),
                          val_path=str(tmp_path / "val.npz"), inputs={"image": "images"},
                          targets={"label": "labels"})
    with pytest.raises(DataError, match=r"^data\.inputs\.image: array 'images' is not in "
                                        r"data\.val_path \(.*val\.npz\); closest: \['image'\]"):
        data.setup()


def test_provides_is_exactly_the_named_keys(table_path):
    """The train layer compares these with the graph; an unused key must show, not vanish."""
    data = FileDataModule(train_path=str(table_path), inputs={"x": "age", "unused": "height"},
                          targets={"job": "job", "spare": ["weight", "income"]})
    assert data.provides == {"x", "unused", "job", "spare"}
    data.setup()
    assert set(next(iter(data.train_dataloader()))) == data.provides


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"inputs": {"n": "name"}},
     r"column 'name' \(input 'n'\) has dtype object, e\.g\. 'p0' at row 0; expected numbers"),
    ({"dtypes": {"job": "float99"}}, r"data\.dtypes\.job=float99 is not a torch dtype"),
    ({"dtypes": {"nope": "float32"}}, r"data\.dtypes names \['nope'\]"),
    ({"targets": {"x": "age"}}, r"\['x'\] named in both"),
    ({"train_path": "people.xlsx"}, r"^data\.train_path: people\.xlsx: expected a file ending in "
                                    r"one of \('\.csv', '\.parquet', '\.npz'\); got suffix '\.xlsx'"),
    ({"num_classes": {"job": 4}}, r"labels 0\.\.4, but data\.num_classes\.job is 4"),
    ({"num_classes": {"age": 4}}, r"data\.num_classes names \['age'\], which are not targets"),
])
def test_bad_config_is_named(table_path, kwargs, message):
    args = {"train_path": str(table_path), "inputs": {"x": "age"}, "targets": {"job": "job"}}
    with pytest.raises(DataError, match=message):
        FileDataModule(**{**args, **kwargs}).setup()


# Bad files: each raises a DataError that names the config key and the file, and says what
# was expected. `write(path)` makes the file; the module reads columns `x` (input) and `y`.
CSV = "a CSV with a header row and at least one data row"
PARQUET = "a Parquet file with at least one row"
NPZ = r"an \.npz archive of named arrays \(as np\.savez writes\)"
XY = pd.DataFrame({"x": [0.5, 1.5], "y": [0, 1]})
BAD_FILES = {
    "empty csv": ("csv", lambda p: p.write_bytes(b""), rf"is empty \(0 bytes\); expected {CSV}\.$"),
    "header-only csv": ("csv", lambda p: p.write_text("x,y\n"),
                        rf"expected {CSV}; this file has a header and 0 rows\.$"),
    "binary csv": ("csv", lambda p: p.write_bytes(bytes(range(256)) * 4),
                   rf"expected {CSV}; this file is binary data, not text\.$"),
    "parquet named csv": ("csv", lambda p: XY.to_parquet(p), rf"expected {CSV}; this file is a "
                          r"Parquet file, not text \(rename it to \.parquet\?\)\.$"),
    "latin-1 csv": ("csv", lambda p: p.write_bytes("x,y\ncafé,1\n".encode("latin-1")),
                    r"expected UTF-8 text; byte 0xe9 on line 2 is not UTF-8 \(save the file as CSV "
                    r"UTF-8\)\.$"),
    "ragged csv": ("csv", lambda p: p.write_text("x,y\n1,2\n3,4,5\n"),
                   rf"expected {CSV}; pandas cannot parse it: Error tokenizing data\. C error: "
                   r"Expected 2 fields in line 3, saw 3$"),
    "text parquet": ("parquet", lambda p: XY.to_csv(p, index=False),
                     rf"expected {PARQUET}; this file is text \(rename it to \.csv\?\)\.$"),
    "empty parquet": ("parquet", lambda p: p.write_bytes(b""), rf"is empty \(0 bytes\); expected "
                      rf"{PARQUET}\.$"),
    "cut-off parquet": ("parquet", lambda p: p.write_bytes(b"PAR1 and no more"),
                        rf"expected {PARQUET}; it cannot be read: .*Parquet"),
    "0-row parquet": ("parquet", lambda p: XY.iloc[:0].to_parquet(p),
                      rf"expected {PARQUET}; this file has columns \['x', 'y'\] and 0 rows\.$"),
    "text npz": ("npz", lambda p: XY.to_csv(p, index=False), rf"expected {NPZ}; this file is text"),
    "npy named npz": ("npz", lambda p: p.write_bytes(b"\x93NUMPY" + bytes(100)),
                      rf"expected {NPZ}; this file is a single \.npy array\.$"),
    "broken zip npz": ("npz", lambda p: p.write_bytes(b"PK\x03\x04 and no more"),
                       rf"expected {NPZ}; it cannot be read: File is not a zip file$"),
    "empty npz": ("npz", lambda p: np.savez(p), rf"expected {NPZ}; this file is an empty zip archive\.$"),
    "object npz": ("npz", lambda p: np.savez(p, x=np.array([1, "a"], dtype=object), y=[0, 1]),
                   r"array 'x' cannot be read \(Object arrays cannot be loaded .*\); expected "
                   r"numeric arrays\.$"),
    "0-row npz": ("npz", lambda p: np.savez(p, x=np.zeros((0, 3)), y=np.zeros(0)),
                  r"array 'x' \(input 'x'\) has shape \(0, 3\); expected at least one row\.$"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_names_key_file_and_expectation(case, tmp_path):
    suffix, write, message = BAD_FILES[case]
    path = tmp_path / f"my.{suffix}"
    write(path)
    data = FileDataModule(train_path=str(path), inputs={"x": "x"}, targets={"y": "y"})
    with pytest.raises(DataError, match=rf"^data\.train_path: {path}: {message}"):
        data.setup()


@pytest.mark.parametrize("split", ["val", "test"])
def test_bad_split_file_names_its_own_key(split, tmp_path):
    XY.to_csv(tmp_path / "train.csv", index=False)
    (tmp_path / f"{split}.csv").write_text("x,y\n")
    data = FileDataModule(train_path=str(tmp_path / "train.csv"), inputs={"x": "x"},
                          targets={"y": "y"}, **{f"{split}_path": str(tmp_path / f"{split}.csv")})
    with pytest.raises(DataError, match=rf"^data\.{split}_path: .*{split}\.csv: expected {CSV}; "
                                        "this file has a header and 0 rows"):
        data.setup()


def test_missing_file_is_named_when_the_module_is_built(tmp_path, monkeypatch):
    args = {"inputs": {"x": "x"}, "targets": {"y": "y"}}
    with pytest.raises(DataError, match=rf"^data\.train_path: {tmp_path}/nope\.csv: no such file; "
                                        rf"expected {CSV}\.$"):
        FileDataModule(train_path=str(tmp_path / "nope.csv"), **args)
    monkeypatch.chdir(tmp_path)
    XY.to_csv("train.csv", index=False)
    with pytest.raises(DataError, match=rf"^data\.val_path: val\.npz: no such file \(looked in "
                                        rf"{tmp_path}\); expected {NPZ}\.$"):
        FileDataModule(train_path="train.csv", val_path="val.npz", **args)
    (tmp_path / "dir.parquet").mkdir()
    with pytest.raises(DataError, match=rf"^data\.test_path: dir\.parquet: is a directory; "
                                        rf"expected {PARQUET}\.$"):
        FileDataModule(train_path="train.csv", test_path="dir.parquet", **args)


def locked(path):
    XY.to_csv(path, index=False)
    path.chmod(0)
    return "Permission denied"


def failing(path):
    path.symlink_to("/proc/self/mem")  # opens, but reading its first page is an I/O error
    return "Input/output error"


@pytest.mark.parametrize("make", [
    pytest.param(locked, marks=pytest.mark.skipif(os.geteuid() == 0, reason="root reads any mode")),
    pytest.param(failing, marks=pytest.mark.skipif(not os.path.exists("/proc/self/mem"),
                                                   reason="needs Linux /proc")),
])
def test_unreadable_file_is_named(make, tmp_path):
    path = tmp_path / "locked.csv"
    reason = make(path)
    data = FileDataModule(train_path=str(path), inputs={"x": "x"}, targets={"y": "y"})
    with pytest.raises(DataError, match=rf"^data\.train_path: {path}: cannot be read "
                                        rf"\({reason}\); expected {CSV}\.$"):
        data.setup()


# NaN or Inf, in any split's file, in an input or a target: named with the column and rows.
def features_frame(n: int = 20) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n),
                         "species": rng.integers(0, 3, n)})


@pytest.mark.parametrize("split", ["train", "val", "test"])
def test_nan_or_inf_in_an_input_names_file_column_and_rows(split, tmp_path):
    paths = {}
    for name in ("train", "val", "test"):
        frame = features_frame()
        if name == split:
            frame.loc[[7, 9], "x2"] = np.nan
            frame.loc[12, "x2"] = -np.inf
        paths[f"{name}_path"] = str(tmp_path / f"{name}.csv")
        frame.to_csv(paths[f"{name}_path"], index=False)
    data = FileDataModule(**paths, inputs={"features": ["x1", "x2"]}, targets={"label": "species"})
    with pytest.raises(DataError) as info:
        data.setup()
    assert str(info.value) == (
        f"data.{split}_path: {paths[f'{split}_path']}: column 'x2' (input 'features') has 3 rows "
        "with NaN or Inf (first at row 7, counting from 0); clean or impute them first.")


def test_missing_labels_in_an_int_column_are_refused(tmp_path):
    path = tmp_path / "my.csv"
    text = features_frame().to_csv(index=False).splitlines()
    text[4] = text[4].rsplit(",", 1)[0] + ","  # row 3 loses its label: pandas reads a float
    path.write_text("\n".join(text))
    data = FileDataModule(train_path=str(path), inputs={"f": "x1"}, targets={"label": "species"})
    with pytest.raises(DataError, match=r"column 'species' \(target 'label'\) has 1 row with "
                                        r"NaN or Inf \(first at row 3, counting from 0\)"):
        data.setup()


@pytest.mark.parametrize("dtype", ["Int64", "boolean"])
def test_nullable_parquet_column_with_missing_values_is_refused(dtype, tmp_path):
    path = tmp_path / "my.parquet"
    frame = features_frame(6).assign(flag=pd.array([1, 0, None, 1, None, 0], dtype=dtype))
    frame.to_parquet(path)
    data = FileDataModule(train_path=str(path), inputs={"f": "flag"}, targets={"label": "species"})
    with pytest.raises(DataError, match=r"column 'flag' \(input 'f'\) has 2 rows with NaN or Inf "
                                        r"\(first at row 2"):
        data.setup()


def test_nan_in_an_npz_image_counts_rows(tmp_path):
    images = np.random.default_rng(0).random((10, 3, 4, 4))
    images[4, 1, 2, 2] = images[6, 0, 0, 0] = np.nan
    images[6, 2, 0, 0] = np.inf
    np.savez(tmp_path / "images.npz", images=images, labels=np.arange(10) % 2)
    data = FileDataModule(train_path=str(tmp_path / "images.npz"), inputs={"image": "images"},
                          targets={"label": "labels"})
    with pytest.raises(DataError, match=r"array 'images' \(input 'image'\) has 2 rows with NaN "
                                        r"or Inf \(first at row 4"):
        data.setup()
