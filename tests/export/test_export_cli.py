"""`python export.py ...` as a user runs it: a digits checkpoint to ONNX and torch.export,
checked on the experiment's data; and the errors, one named line each."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import numpy as np
import onnxruntime as ort
import pytest
from hydra import compose, initialize_config_dir
from tests.export.graphs import masked_lstm
from tests.train.conftest import CONF
from tests.train.conftest import run_script as run

from plait.train import train


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """A digits model trained for one epoch on part of the data."""
    out = tmp_path_factory.mktemp("digits")
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("train", overrides=["experiment=digits", "trainer.max_epochs=1", "data.limit=300",
                                          "logger=csv", "test=false", f"paths.output_dir={out}"])
    train(cfg)
    return out / "checkpoints" / "last.ckpt"


def test_export_onnx_checks_on_the_experiments_data(checkpoint, tmp_path) -> None:
    result = run(["experiment=digits", f"ckpt_path={checkpoint}", "format=onnx"], tmp_path,
                 script="export.py")
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"onnx: wrote {tmp_path / 'model.onnx'}" in result.stdout
    assert "inputs:  image ('batch', 1, 8, 8)" in result.stdout
    assert "checked: onnxruntime on 16 rows of the test split of DigitsDataModule" in result.stdout
    session = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    probabilities = session.run(["digit"], {"image": np.zeros((3, 1, 8, 8), np.float32)})[0]
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_export_without_the_experiment_checks_on_random_inputs_and_says_so(tmp_path) -> None:
    trainer = L.Trainer(logger=False, enable_progress_bar=False, max_epochs=0)
    trainer.strategy.connect(masked_lstm())
    trainer.save_checkpoint(tmp_path / "headline.ckpt")
    result = run([f"ckpt_path={tmp_path / 'headline.ckpt'}", "format=torch_export",
                  f"output={tmp_path / 'headline.pt2'}"], tmp_path / "run", script="export.py")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "checking on random inputs: the data (DigitsDataModule) does not provide the model's " \
           "inputs ['text', 'meta']" in result.stdout + result.stderr
    assert "inputs:  text ('batch', 'text_1'), meta ('batch', 5)" in result.stdout
    assert (tmp_path / "headline.pt2").is_file()


@pytest.mark.parametrize(("args", "env", "message"), [
    (["format=tflite"], {}, "Config error: format: expected one of ['onnx', 'torch_export'], "
                            "received 'tflite'"),
    (["format=onnx"], {"block": "onnxruntime"},
     "Export error: format=onnx needs the packages ['onnx', 'onnxscript', 'onnxruntime'], and "
     "['onnxruntime'] is not installed: pip install 'plait[onnx]'"),
])
def test_export_errors_are_one_named_line(args, env, message, checkpoint, tmp_path) -> None:
    extra = {}
    if env:  # a package that fails to import, as when the extra is not installed
        blocked = tmp_path / "blocked" / env["block"]
        blocked.mkdir(parents=True)
        (blocked / "__init__.py").write_text("raise ImportError('not installed')\n")
        extra = {"PYTHONPATH": str(tmp_path / "blocked")}
    result = run([f"ckpt_path={checkpoint}", *args], tmp_path / "run", script="export.py", env=extra)
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == message
