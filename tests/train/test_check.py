"""`mode=check`: the graph is built, summarized and drawn, and no data is fetched."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from plait.blocks import CNNTower, GRUEncoder, LSTMEncoder
from plait.train import check, run


def test_check_digits_writes_summary_and_pictures(compose_cfg, tmp_path, capsys) -> None:
    checked = check(compose_cfg("experiment=digits", "mode=check"))
    out = capsys.readouterr().out
    assert "features (CNNTower)" in out and "config OK" in out
    assert checked.system.graph.output_names == ["digit"]
    assert (tmp_path / "graph.txt").read_text().startswith(checked.summary.splitlines()[0])
    assert (tmp_path / "graph.dot").read_text().startswith("digraph")
    assert (tmp_path / "graph.mmd").exists()
    if shutil.which("dot"):
        assert (tmp_path / "graph.png").read_bytes()[:4] == b"\x89PNG"


def test_check_vqa_fetches_no_data(compose_cfg, tmp_path) -> None:
    cache = tmp_path / "cache"
    checked = run(compose_cfg("experiment=vqa", "mode=check", f"paths.data_dir={cache}"))
    assert set(checked.system.graph.input_names) == {"image", "question"}
    assert not cache.exists() or not any(cache.iterdir())


@pytest.mark.parametrize(("override", "block", "expected"), [
    ("encoder@model.blocks.vision=cnn_tower", "vision", (CNNTower, "channels", (32, 64, 128))),
    # the model's own settings of the block (hidden_size: 64) stay on top of the new preset
    ("encoder@model.blocks.question=gru", "question", (GRUEncoder, "hidden_size", 64)),
    ("model.blocks.question.hidden_size=256", "question", (LSTMEncoder, "hidden_size", 256)),
])
def test_presets_swap_and_tune_from_the_command_line(compose_cfg, override, block, expected) -> None:
    cfg = compose_cfg("experiment=vqa", "mode=check", override)
    module = run(cfg).system.graph.blocks[block]
    kind, attr, value = expected
    assert isinstance(module, kind)
    assert getattr(module, attr) == value


def test_swap_in_the_script(run, tmp_path) -> None:
    """The README's command: a preset swapped on the command line, checked in seconds."""
    result = run(["experiment=vqa", "mode=check", "encoder@model.blocks.vision=cnn_tower",
                  "model.blocks.question.hidden_size=32"], tmp_path)
    assert result.returncode == 0, result.stderr
    summary = (tmp_path / "graph.txt").read_text()
    assert "vision (CNNTower)" in summary and "(B, 128)" in summary  # cnn_tower ends in 128
    assert "question (LSTMEncoder)" in summary and "(B, 32)" in summary
    assert "config OK" in result.stdout


@pytest.mark.parametrize("trainer", ["cpu", "gpu", "ddp"])
def test_check_needs_no_device_and_starts_no_process(compose_cfg, trainer) -> None:
    """A GPU or DDP config checks on a CPU machine: the trainer is validated, not built."""
    checked = run(compose_cfg("experiment=digits", "mode=check", f"trainer={trainer}"))
    assert checked.system.graph.output_names == ["digit"]


def test_runs_started_in_the_same_second_get_their_own_folders(repo_root, clean_env, tmp_path) -> None:
    """A script that starts several runs at once: each writes into its own run folder."""
    command = [sys.executable, "train.py", "experiment=digits", "mode=check", f"paths.log_dir={tmp_path}"]
    runs = [subprocess.Popen(command, cwd=repo_root, env=clean_env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for proc in runs:
        assert proc.wait(timeout=120) == 0, proc.stderr.read()
    folders = sorted((tmp_path / "digits" / "runs").iterdir())
    assert len(folders) == 2 and all((f / "graph.txt").is_file() for f in folders)


def test_check_counts_the_graph_breaks_of_a_compiled_model(run, tmp_path) -> None:
    result = run(["experiment=vqa", "model.compile=true", "mode=check"], tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "torch.compile: 0 graph break(s)" in result.stdout  # the LSTM is traced through
