"""`mode=test`: a checkpoint tested on the data's test split, as `train.py` runs it, and
`system.evaluate` giving the same numbers in Python."""

from __future__ import annotations

import json
from pathlib import Path

import lightning as L
import pytest
from hydra import compose, initialize_config_dir
from tests.digits_split import digits_split
from tests.export.graphs import masked_lstm
from tests.train.conftest import CONF

from plait import load_checkpoint
from plait.train import main, train
from plait.train.entry import run as run_mode

DIGITS = "experiment=digits"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """A digits model trained for one epoch on part of the data."""
    out = tmp_path_factory.mktemp("digits")
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("train", overrides=[DIGITS, "trainer.max_epochs=1", "data.limit=300",
                                          "logger=csv", "test=false", f"paths.output_dir={out}"])
    train(cfg)
    return out / "checkpoints" / "last.ckpt"


def test_mode_test_prints_and_writes_metrics_that_evaluate_reproduces(checkpoint, run, tmp_path,
                                                                        compose_cfg) -> None:
    result = run([DIGITS, "mode=test", f"ckpt_path={checkpoint}"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert set(metrics) == {"test/loss", "test/digit/loss", "test/digit/acc"}
    assert f"test/digit/acc   {metrics['test/digit/acc']:.6g}" in result.stdout
    # The same rows in Python: the digits test split, through `system.evaluate`.
    scores = load_checkpoint(checkpoint).evaluate(*digits_split("test"), batch_size=50)
    assert scores == pytest.approx(metrics, rel=1e-5)


def test_mode_evaluate_is_mode_test(checkpoint, compose_cfg, tmp_path) -> None:
    metrics = run_mode(compose_cfg(DIGITS, "mode=evaluate", f"ckpt_path={checkpoint}", "data.limit=50"))
    assert metrics == json.loads((tmp_path / "metrics.json").read_text())
    assert 0.0 <= metrics["test/digit/acc"] <= 1.0


def _error(cfg, capsys) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(cfg)
    assert exit_info.value.code == 1
    # The error's line: Lightning may warn on stderr before it.
    return next(line for line in capsys.readouterr().err.splitlines() if line.startswith("Config error"))


def test_a_checkpoint_of_another_model_is_refused_naming_the_blocks(compose_cfg, capsys,
                                                                     tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    trainer = L.Trainer(logger=False, enable_progress_bar=False, max_epochs=0)
    trainer.strategy.connect(masked_lstm())
    trainer.save_checkpoint(tmp_path / "other.ckpt")
    err = _error(compose_cfg(DIGITS, "mode=test", f"ckpt_path={tmp_path / 'other.ckpt'}"), capsys)
    assert err.startswith(f"Config error: ckpt_path: '{tmp_path / 'other.ckpt'}' is a checkpoint of "
                          "another model; blocks missing from the checkpoint: ['classify', 'features']")


@pytest.mark.parametrize(("overrides", "message"), [
    ([], "Config error: ckpt_path: mode=test needs the checkpoint to test"),
    (["data.test_fraction=0"], "Config error: data (plait.data.DigitsDataModule): has no test split"),
])
def test_mode_test_errors_are_one_named_line(overrides, message, checkpoint, compose_cfg, capsys,
                                             monkeypatch) -> None:
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    given = [f"ckpt_path={checkpoint}"] if overrides else []
    assert _error(compose_cfg(DIGITS, "mode=test", *given, *overrides), capsys).startswith(message)
