"""`plait.export`: both formats, with names, dynamic batch and sequence length, checked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch
from tests.export.graphs import GRAPHS, ExportsDifferently, masked_lstm, padded_inputs
from torch import nn

import plait
from plait import Graph, Input
from plait.blocks import Dense
from plait.export import ExportError, ExportMismatch

ROOT = Path(__file__).resolve().parents[2]


def _run_onnx(path: Path, inputs: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    values = session.run(None, {name: value.numpy() for name, value in inputs.items()})
    return {o.name: v for o, v in zip(session.get_outputs(), values)}


def _run_pt2(path: Path, inputs: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    outputs = torch.export.load(str(path)).module()(**inputs)
    return {name: value.detach().numpy() for name, value in outputs.items()}


RUN = {"onnx": _run_onnx, "torch_export": _run_pt2}
SUFFIX = {"onnx": ".onnx", "torch_export": ".pt2"}


@pytest.mark.parametrize("fmt", ["onnx", "torch_export"])
@pytest.mark.parametrize("name", list(GRAPHS))
def test_exported_model_matches_eager_at_new_batch_sizes_and_lengths(name, fmt, tmp_path) -> None:
    system = GRAPHS[name]()
    path = tmp_path / f"model{SUFFIX[fmt]}"
    report = plait.export(system, path, format=fmt, sample=padded_inputs(system, rows=4, steps=6))
    assert report.path == path and path.is_file()
    assert len(report.checks) == 2  # the sample, and its sequences 5 steps longer
    # Lengths and a batch size neither the trace nor the export's own check used.
    inputs = padded_inputs(system, rows=3, steps=13, seed=7)
    got = RUN[fmt](path, inputs)
    want = system.predict(inputs)
    assert list(got) == system.graph.output_names
    for output in want:
        np.testing.assert_allclose(got[output], want[output], atol=1e-5, rtol=1e-4)


def test_onnx_names_inputs_outputs_and_dynamic_dimensions(tmp_path) -> None:
    system = masked_lstm()
    report = plait.export(system, tmp_path / "headline.onnx")  # format from the suffix
    session = ort.InferenceSession(str(report.path), providers=["CPUExecutionProvider"])
    inputs = {i.name: i.shape for i in session.get_inputs()}
    assert inputs == {"text": ["batch", "text_1"], "meta": ["batch", 5]}
    assert [o.name for o in session.get_outputs()] == ["main", "aux"]
    assert report.inputs == {"text": ("batch", "text_1"), "meta": ("batch", 5)}
    assert report.outputs == {"main": "softmax", "aux": "sigmoid"}
    assert "random inputs" in str(report)


def test_activation_false_exports_logits(tmp_path) -> None:
    system = masked_lstm().eval()
    path = plait.export(system, tmp_path / "logits.pt2", activation=False).path
    inputs = padded_inputs(system, rows=5, steps=9)
    got = _run_pt2(path, inputs)
    with torch.no_grad():
        logits = system(inputs)
    np.testing.assert_allclose(got["main"], logits["main"].numpy(), atol=1e-6)
    assert not np.allclose(got["main"].sum(axis=1), 1.0)  # no softmax


def test_a_checkpoint_path_exports_and_the_model_is_left_as_it_was(tmp_path) -> None:
    import lightning as L

    system = masked_lstm()
    trainer = L.Trainer(logger=False, enable_progress_bar=False, max_epochs=0)
    trainer.strategy.connect(system)
    trainer.save_checkpoint(tmp_path / "m.ckpt")
    system.train()
    plait.export(system, tmp_path / "from_system.pt2")
    assert system.training  # export worked on a copy
    report = plait.export(str(tmp_path / "m.ckpt"), tmp_path / "from_checkpoint.pt2")
    inputs = padded_inputs(system, rows=2, steps=4)
    np.testing.assert_allclose(_run_pt2(report.path, inputs)["main"], system.predict(inputs)["main"],
                               atol=1e-6)


@pytest.mark.parametrize("fmt", ["onnx", "torch_export"])
def test_a_file_that_differs_from_eager_is_an_error_and_is_not_written(fmt, tmp_path) -> None:
    x = Input("x", shape=(3,))
    graph = Graph(x, {"y": ExportsDifferently()(Dense(2)(x))})
    path = tmp_path / f"drift{SUFFIX[fmt]}"
    with pytest.raises(ExportMismatch, match=r"output 'y' differs from the eager model's by 0\.01 "
                                             r".*tolerance \|exported - eager\| <= 0\.0001"):
        plait.export(graph, path, format=fmt, activation=False)
    assert list(tmp_path.iterdir()) == []  # nothing written, no temporary folder left
    plait.export(graph, path, format=fmt, activation=False, atol=0.02)  # within a wider tolerance
    assert path.is_file()


@pytest.mark.parametrize(("name", "kwargs", "message"), [
    ("model.onnx", {"format": "tflite"},
     r"^format: expected one of \['onnx', 'torch_export'\], received 'tflite'"),
    ("model.bin", {}, r"^path: expected a file ending in \.onnx \(format onnx\) or \.pt2 \(format "
                      r"torch_export\), received .*model\.bin$"),
    ("model.onnx", {"sample": {"text": np.ones((2, 3), dtype=np.int64)}},
     r"^export: sample lack \['meta'\]; expected \['text', 'meta'\], received \['text'\]"),
])
def test_bad_arguments_are_named(name, kwargs, message, tmp_path) -> None:
    with pytest.raises(ExportError, match=message):
        plait.export(masked_lstm(), tmp_path / name, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_a_graph_knows_no_activations(tmp_path) -> None:
    x = Input("x", shape=(3,))
    with pytest.raises(ExportError, match="a Graph has no losses, so it knows no output activations"):
        plait.export(Graph(x, Dense(2)(x)), tmp_path / "g.onnx")


def test_without_the_onnx_packages_the_extra_is_named(tmp_path) -> None:
    blocked = tmp_path / "blocked" / "onnxscript"
    blocked.mkdir(parents=True)
    (blocked / "__init__.py").write_text("raise ImportError('not installed')\n")
    code = ("import plait, torch\nfrom plait import Graph, Input\nfrom plait.blocks import Dense\n"
            "x = Input('x', shape=(3,))\n"
            "plait.export(Graph(x, Dense(2)(x)), 'g.onnx', activation=False)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                            env={"PYTHONPATH": f"{tmp_path / 'blocked'}:{ROOT / 'src'}", "PATH": ""},
                            timeout=120)
    assert result.returncode == 1
    assert ("ExportError: format=onnx needs the packages ['onnx', 'onnxscript', 'onnxruntime'], and "
            "['onnxscript'] is not installed: pip install 'plait[onnx]'") in result.stderr


class BranchesOnValues(nn.Module):
    """Python control flow on a tensor's values: no exporter can trace it into one graph."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 2 if x.sum() > 0 else x


def test_a_graph_torch_cannot_trace_is_a_named_error(tmp_path) -> None:
    x = Input("x", shape=(3,))
    with pytest.raises(ExportError, match=r"^format=torch_export: torch could not export the graph: "
                                          r"Could not guard on data-dependent expression"):
        plait.export(Graph(x, {"y": BranchesOnValues()(x)}), tmp_path / "g.pt2", activation=False)
