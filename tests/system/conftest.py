"""Digits as a three-output task in a parquet file, read by the user-files DataModule."""

from pathlib import Path

import lightning as L
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits

from plait.data import FileDataModule

PIXELS = [f"p{i}" for i in range(64)]


@pytest.fixture(scope="session")
def digits_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    digits = load_digits()
    frame = pd.DataFrame(digits.data / 16.0, columns=PIXELS)
    frame["digit"] = digits.target
    frame["odd"] = (digits.target % 2).astype("float32")
    frame["ink"] = (digits.data > 8).mean(axis=1).astype("float32") * 10
    path = tmp_path_factory.mktemp("digits") / "digits.parquet"
    frame.to_parquet(path)
    return path


@pytest.fixture
def data(digits_file: Path) -> FileDataModule:
    return FileDataModule(train_path=str(digits_file), inputs={"pixels": PIXELS},
                          targets={"digit": "digit", "odd": "odd", "ink": "ink"}, batch_size=64, seed=0)


def spec(**outputs: dict) -> dict:
    """An MLP trunk shared by one head per output."""
    heads = {"digit": 10, "odd": 1, "ink": 1}
    names = list(outputs) or ["digit"]
    return {
        "inputs": {"pixels": {"shape": [64]}},
        "blocks": {"trunk": {"_target_": "plait.blocks.MLP", "hidden": [64, 32]},
                   **{f"{n}_head": {"_target_": "plait.blocks.Dense", "units": heads[n]} for n in names}},
        "nodes": {"features": "trunk(pixels)", **{n: f"{n}_head(features)" for n in names}},
        "outputs": outputs or {"digit": {"loss": "cross_entropy", "metrics": ["accuracy"]}},
    }


def trainer(tmp_path: Path, epochs: int = 3, **kwargs) -> L.Trainer:
    return L.Trainer(max_epochs=epochs, accelerator="cpu", devices=1, default_root_dir=tmp_path,
                     logger=L.pytorch.loggers.CSVLogger(tmp_path), enable_progress_bar=False,
                     enable_model_summary=False, enable_checkpointing=False, log_every_n_steps=5, **kwargs)


THREE = {
    "digit": {"loss": "cross_entropy", "weight": 1.0, "metrics": ["accuracy", "f1"]},
    "odd": {"loss": "binary_cross_entropy", "weight": 0.5, "metrics": ["accuracy", "auroc"]},
    "ink": {"loss": "mse", "weight": 0.1, "metrics": ["mae"]},
}


@pytest.fixture
def three_outputs() -> dict:
    return spec(**THREE)


np.seterr(all="ignore")
