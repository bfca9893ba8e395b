"""The README's "Use a trained model", as written: test, predict on a new CSV without targets,
export both ways, and run the ONNX file in the five lines of Python it shows."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from tests.train.conftest import ROOT, fresh_env

from plait import load_checkpoint

SECTION = (ROOT / "README.md").read_text().split("## Use a trained model")[1].split("\n## ")[0]
COMMANDS = re.findall(r"^(python \w+\.py .*?)(?:\s+#.*)?$", SECTION, re.M)
# `conf/experiment/my_table.yaml` as "Your own data" says to write it.
MY_TABLE = """# @package _global_
defaults: [override /data: files, override /model: table_classifier]
data: {train_path: my.csv, inputs: {features: [x1, x2, x3, x4]}, targets: {label: species}}
model: {inputs: {features: {shape: [4]}}, blocks: {head: {units: 3}}}
optimized_metric: val/label/acc
optimized_mode: max
task_name: my_table
"""


def _people(rows: int, seed: int, species: bool = True) -> pd.DataFrame:
    x = np.random.default_rng(seed).normal(size=(rows, 4))
    frame = pd.DataFrame(x, columns=["x1", "x2", "x3", "x4"])
    if species:
        frame["species"] = (x[:, 0] + x[:, 1] > 0).astype(int) + (x[:, 2] > 1).astype(int)
    return frame


def _run(command: str, folder: Path, run_dir: Path | None, ckpt: Path | None = None) -> subprocess.CompletedProcess:
    """A README command as written ($CKPT filled in), run in `folder` where the user's files are;
    the test's experiment folder is added, and its run folder unless `run_dir` is None."""
    _, script, *overrides = shlex.split(command.replace("$CKPT", str(ckpt)))
    where = [f"hydra.run.dir={run_dir}"] if run_dir else []
    result = subprocess.run([sys.executable, str(ROOT / script), f"--config-dir={folder / 'conf'}",
                             *overrides, *where], cwd=folder,
                            env=fresh_env(folder), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    """The user's folder (my.csv, held_out.csv, new.csv, the experiment) and a checkpoint."""
    folder = tmp_path_factory.mktemp("my_table")
    (folder / "conf" / "experiment").mkdir(parents=True)
    (folder / "conf" / "experiment" / "my_table.yaml").write_text(MY_TABLE)
    _people(300, 0).to_csv(folder / "my.csv", index=False)
    _people(40, 1).to_csv(folder / "held_out.csv", index=False)
    new = _people(6, 2, species=False)
    new.insert(0, "id", [101, 102, 103, 104, 105, 106])
    new.to_csv(folder / "new.csv", index=False)
    _run("python train.py experiment=my_table trainer.max_epochs=3 logger=csv", folder, folder / "train")
    return folder, folder / "train" / "checkpoints" / "last.ckpt"


def test_the_section_has_its_commands() -> None:
    assert [c.split()[1] for c in COMMANDS] == ["train.py", "train.py", "predict.py", "export.py", "export.py"]


@pytest.mark.parametrize("index", [0, 1])
def test_mode_test_commands_write_metrics(index, trained, tmp_path) -> None:
    folder, ckpt = trained
    result = _run(COMMANDS[index], folder, tmp_path, ckpt)
    assert "test/label/acc" in result.stdout
    metrics = pd.read_json(tmp_path / "metrics.json", typ="series")
    assert {"test/loss", "test/label/loss", "test/label/acc"} == set(metrics.index)
    if "data.test_path=held_out.csv" in COMMANDS[index]:  # the rows of that file, all 40 of them
        rows = pd.read_csv(folder / "held_out.csv")
        inputs = {"features": torch.tensor(rows[["x1", "x2", "x3", "x4"]].to_numpy(), dtype=torch.float32)}
        expected = load_checkpoint(ckpt).evaluate(inputs, {"label": torch.tensor(rows["species"].to_numpy())})
        assert metrics.to_dict() == pytest.approx({k: float(v) for k, v in expected.items()}, rel=1e-5)


def test_predict_command_writes_a_table_of_the_new_rows(trained) -> None:
    """Into a new run folder under logs/predict/runs/, as section 6 says, beside predictions.npz."""
    folder, ckpt = trained
    _run(COMMANDS[2], folder, None, ckpt)
    [run_dir] = (folder / "logs" / "predict" / "runs").iterdir()
    table = pd.read_csv(run_dir / "predictions.csv")
    assert "`predictions.npz` into the new run folder (`logs/predict/runs/...`)" in (ROOT / "README.md").read_text()
    np.testing.assert_allclose(np.load(run_dir / "predictions.npz")["label"], table[["label_0", "label_1", "label_2"]],
                               rtol=1e-5)
    assert list(table.columns) == ["id", "label_0", "label_1", "label_2", "label_class"]
    assert list(table["id"]) == [101, 102, 103, 104, 105, 106]
    np.testing.assert_allclose(table[["label_0", "label_1", "label_2"]].sum(axis=1), 1.0, rtol=1e-5)


@pytest.fixture(scope="module")
def onnx_file(trained) -> Path:
    folder, ckpt = trained
    result = _run(COMMANDS[3], folder, folder / "export_onnx", ckpt)
    assert "checked: onnxruntime on 16 rows of the test split of FileDataModule" in result.stdout
    return folder / "my_table.onnx"


def test_the_onnx_file_runs_in_the_readmes_five_lines(onnx_file, monkeypatch) -> None:
    code = re.search(r"```python\n(.*?)```", SECTION, re.S).group(1)
    assert len(code.strip().splitlines()) == 6  # five lines and the blank one between imports and code
    monkeypatch.chdir(onnx_file.parent)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["probabilities"].shape == (2, 3)
    np.testing.assert_allclose(namespace["probabilities"].sum(axis=1), 1.0, rtol=1e-5)


def test_the_pt2_file_runs_with_torch_alone(trained, monkeypatch) -> None:
    folder, ckpt = trained
    _run(COMMANDS[4], folder, folder / "export_pt2", ckpt)
    line = re.search(r"`(torch\.export\.load\(.*?)`", SECTION).group(1)
    monkeypatch.chdir(folder)
    rows = np.array([[0.3, -1.2, 0.8, 0.1], [1.5, 0.2, -0.4, 2.0]], dtype=np.float32)
    probabilities = eval(line, {"torch": torch, "rows": rows})
    assert probabilities.shape == (2, 3)
