"""`plait.export`'s arguments: a path that fits the format and is never the checkpoint,
a check that checks something, and a sample read as `predict` reads its inputs."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import numpy as np
import onnxruntime as ort
import pytest
import torch
from tests.export.graphs import ExportsDifferently, masked_lstm, padded_inputs

import plait
from plait import Graph, Input
from plait.blocks import Dense
from plait.export import FORMATS, ExportError, ExportMismatch
from plait.system import GraphSystem


def _one_input(*, drift: bool = False) -> GraphSystem:
    """A model of one input; with `drift`, one whose export differs from it by 0.01."""
    x = Input("x", shape=(3,))
    y = Dense(2)(x)
    return GraphSystem(Graph(x, {"y": ExportsDifferently()(y) if drift else y}), loss="cross_entropy")


def _onnx_outputs(path: Path, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return dict(zip([o.name for o in session.get_outputs()], session.run(None, inputs)))


@pytest.mark.parametrize(("name", "fmt", "message"), [
    ("e.pt2", "onnx", r"^path: expected a file ending in \.onnx for format=onnx, received .*e\.pt2$"),
    ("e.onnx", "torch_export",
     r"^path: expected a file ending in \.pt2 for format=torch_export, received .*e\.onnx$"),
    ("data.csv", None, r"^path: expected a file ending in \.onnx \(format onnx\) or \.pt2 .*data\.csv$"),
])
def test_a_path_whose_suffix_is_not_the_formats_is_refused(name, fmt, message, tmp_path) -> None:
    (tmp_path / name).write_bytes(b"the user's own file")
    with pytest.raises(ExportError, match=message):
        plait.export(_one_input(), tmp_path / name, format=fmt)
    assert (tmp_path / name).read_bytes() == b"the user's own file"
    assert list(tmp_path.iterdir()) == [tmp_path / name]


def test_a_folder_is_refused(tmp_path) -> None:
    with pytest.raises(ExportError, match=r"^path: expected a file to write, received the folder "
                                          r".*; name a file in it, e.g. .*model\.onnx$"):
        plait.export(_one_input(), tmp_path, format="onnx")
    assert list(tmp_path.iterdir()) == []


def test_the_checkpoint_exported_is_never_written_over(tmp_path) -> None:
    checkpoint = tmp_path / "model.pt2"  # a checkpoint that happens to carry an export's suffix
    trainer = L.Trainer(logger=False, enable_progress_bar=False, max_epochs=0)
    trainer.strategy.connect(_one_input())
    trainer.save_checkpoint(checkpoint)
    weights = checkpoint.read_bytes()
    with pytest.raises(ExportError, match=r"^path: expected a file other than the checkpoint "
                                          r"being exported, received .*model\.pt2"):
        plait.export(str(checkpoint), tmp_path / "." / "model.pt2")
    assert checkpoint.read_bytes() == weights


def test_a_file_of_the_formats_suffix_is_replaced_only_once_checked(tmp_path) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(b"an earlier export")
    with pytest.raises(ExportMismatch):  # a check that fails leaves the earlier file as it was
        plait.export(_one_input(drift=True), path, activation=False)
    assert path.read_bytes() == b"an earlier export"
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left beside it
    system = _one_input()
    plait.export(system, path)
    rows = np.ones((2, 3), np.float32)
    np.testing.assert_allclose(_onnx_outputs(path, {"x": rows})["y"], system.predict(rows)["y"], atol=1e-6)


@pytest.mark.parametrize("rows", [0, -1, 2.5])
def test_rows_below_one_are_refused(rows, tmp_path) -> None:
    with pytest.raises(ExportError, match=rf"^rows: expected an integer >= 1 .*, received {rows}$"):
        plait.export(_one_input(), tmp_path / "model.onnx", rows=rows)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", ["onnx", "torch_export"])
def test_outputs_that_hold_nan_on_the_sample_fail_the_check(fmt, tmp_path) -> None:
    sample = np.ones((4, 3), np.float32)
    sample[2, 1] = np.nan
    path = tmp_path / f"model{FORMATS[fmt]}"
    with pytest.raises(ExportError, match=r"4 rows of the sample: the model's output 'y' holds NaN "
                                          r"\(2 of 8 values, the first at index \(2, 0\), row 2\)"):
        plait.export(_one_input(), path, sample=sample)
    assert list(tmp_path.iterdir()) == []


def test_a_bare_array_is_the_sample_of_a_one_input_model(tmp_path) -> None:
    system = _one_input()
    sample = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    report = plait.export(system, tmp_path / "model.onnx", sample=sample)
    assert report.checks[0].startswith("onnxruntime on 5 rows of the sample:")
    np.testing.assert_allclose(_onnx_outputs(report.path, {"x": sample})["y"], system.predict(sample)["y"],
                               atol=1e-6)


def test_a_list_in_input_order_is_the_sample_of_a_model_of_many(tmp_path) -> None:
    system = masked_lstm()
    inputs = padded_inputs(system, rows=3, steps=4)
    report = plait.export(system, tmp_path / "model.pt2", sample=[inputs["text"], inputs["meta"]])
    assert report.checks[0].startswith("torch.export.load on 3 rows of the sample:")
    got = torch.export.load(str(report.path)).module()(**inputs)
    np.testing.assert_allclose(got["main"].detach().numpy(), system.predict(inputs)["main"], atol=1e-6)
