"""`python export.py ...` as a user runs it: a digits checkpoint to ONNX and torch.export,
checked on the experiment's data; the format from `output`'s suffix; and the errors, one
named line each, an `output` that does not fit refused before the checkpoint is read."""

from __future__ import annotations

import shutil
from pathlib import Path

import lightning as L
import numpy as np
import onnxruntime as ort
import pytest
import torch
from hydra import compose, initialize_config_dir
from tests.export.graphs import masked_lstm
from tests.train.conftest import CONF
from tests.train.conftest import run_script as run

import plait.train.export
from plait.train import main, train


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


def _export(args: list[str], run_dir: Path) -> None:
    """`python export.py <args>` through its Hydra entry, in this process."""
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        main(compose("export", overrides=[*args, f"paths.output_dir={run_dir}"]))


@pytest.mark.parametrize(("output", "fmt", "runtime"), [
    ("model.pt2", "torch_export", "torch.export.load"),  # no format: the one the suffix names
    (None, "onnx", "onnxruntime"),  # neither: model.onnx in the run folder
])
def test_the_format_is_outputs_suffixs_else_onnx(output, fmt, runtime, checkpoint, tmp_path, capsys) -> None:
    path = tmp_path / "run" / (output or "model.onnx")
    path.parent.mkdir()
    path.write_bytes(b"an earlier export")  # of the format's suffix: replaced once checked
    _export([f"ckpt_path={checkpoint}", *([f"output={path}"] if output else [])], tmp_path / "run")
    out = capsys.readouterr().out
    assert f"{fmt}: wrote {path}" in out
    assert f"checked: {runtime} on 16 rows of the test split of DigitsDataModule" in out
    image = np.zeros((3, 1, 8, 8), np.float32)
    if fmt == "torch_export":
        with torch.no_grad():
            probabilities = torch.export.load(str(path)).module()(image=torch.from_numpy(image))["digit"]
    else:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        probabilities = session.run(["digit"], {"image": image})[0]
    np.testing.assert_allclose(np.asarray(probabilities).sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize(("args", "message"), [
    (["output={tmp}/my.csv"], "output: expected a file ending in .onnx (format onnx) or .pt2 "
                              "(format torch_export), received {tmp}/my.csv"),
    (["format=onnx", "output={tmp}/model.pt2"],
     "output: expected a file ending in .onnx for format=onnx, received {tmp}/model.pt2"),
    (["format=torch_export", "output={tmp}/model.onnx"],
     "output: expected a file ending in .pt2 for format=torch_export, received {tmp}/model.onnx"),
    (["output={tmp}/folder"], "output: expected a file to write, received the folder "
                              "{tmp}/folder; name a file in it, e.g. {tmp}/folder/model.onnx"),
])
def test_an_output_that_does_not_fit_is_refused_before_the_checkpoint_is_read(
        args, message, checkpoint, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)

    def unread(*args, **kwargs):
        raise AssertionError("the checkpoint was read before output was checked")

    monkeypatch.setattr(plait.train.export, "load_checkpoint", unread)
    files = {tmp_path / "my.csv": b"x1,species\n0.5,1\n", tmp_path / "model.pt2": b"a program",
             tmp_path / "model.onnx": b"a model"}
    for file, content in files.items():
        file.write_bytes(content)
    (tmp_path / "folder").mkdir()
    with pytest.raises(SystemExit) as stopped:
        _export([f"ckpt_path={checkpoint}", *(a.format(tmp=tmp_path) for a in args)], tmp_path / "run")
    assert stopped.value.code == 1
    assert capsys.readouterr().err.splitlines()[0] == "Config error: " + message.format(tmp=tmp_path)
    assert {file: file.read_bytes() for file in files} == files  # never written over
    assert list((tmp_path / "folder").iterdir()) == []


def test_export_never_writes_over_the_checkpoint(checkpoint, tmp_path) -> None:
    copy = tmp_path / "copy.ckpt"
    shutil.copy(checkpoint, copy)
    weights = copy.read_bytes()
    result = run([f"ckpt_path={copy}", f"output={copy}"], tmp_path / "run", script="export.py")
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == ("Config error: output: expected a file other than the "
                                             f"checkpoint being exported, received {copy}, the "
                                             "checkpoint itself")
    assert copy.read_bytes() == weights
