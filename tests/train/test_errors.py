"""Every config error surfaces through the entry point as one message naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from tests.train.conftest import run_script

from plait.train import main

DIGITS = "experiment=digits"

# (overrides, text the message must contain); each is one mistake in the digits experiment.
CASES = {
    "unknown block in a node": (["model.nodes.digit='clasify(features)'"],
                                ["model.nodes.digit", "block 'clasify' is not defined", "classify"]),
    "unknown input in a node": (["model.nodes.features='features(img)'"],
                                ["model.nodes.features", "'img' names no input or node", "image"]),
    "node given no tensor": (["model.nodes.digit='classify(3)'"],
                             ["model.nodes.digit", "classify(...) is given no tensor", "inputs or other nodes"]),
    "_freeze_ quoted": (["+model.blocks.features._freeze_='false'"],
                        ["model.blocks.features._freeze_", "expected true or false", "'false' (str)"]),
    "node syntax error": (["model.nodes.digit='classify(features'"],
                          ["model.nodes.digit", "cannot parse"]),
    "_target_ missing": (["model.blocks.features._target_=plait.blocks.NoSuchBlock"],
                         ["model.blocks.features", "plait.blocks.NoSuchBlock", "does not exist"]),
    "_target_ fails to build": (["+model.blocks.features.no_such_arg=1"],
                                ["model.blocks.features", "failed to build", "no_such_arg"]),
    "output without a loss": (["model.outputs.digit.loss=null"],
                              ["model.outputs", "digit", "no loss"]),
    "unknown loss name": (["model.outputs.digit.loss=cross_entropi"],
                          ["unknown loss 'cross_entropi'", "cross_entropy"]),
    "negative weight": (["model.outputs.digit.weight=-1"],
                        ["model.outputs.digit.weight", "must be positive", "-1"]),
    "non-numeric weight": (["model.outputs.digit.weight=heavy"],
                           ["model.outputs.digit.weight", "must be a positive number", "heavy"]),
    "data lacks a key": (["data.target_key=label"],
                         ["data (plait.data.DigitsDataModule)", "provides ['image', 'label']",
                          "outputs ['digit']", "missing ['digit']"]),
    "block reference names no block": (
        ["+model.blocks.wrapped={_target_: plait.blocks.TimeDistributed, module: {_block_: nope}}"],
        ["model.blocks.wrapped", "{_block_: nope} names no block", "features"]),
    "required value left out": (["model.blocks.classify.units=???"],
                                ["model.blocks.classify.units"]),
    "interpolation to nothing": (["model.blocks.classify.units=${data.num_klasses}"],
                                 ["data.num_klasses"]),
    "optimized metric not logged": (["optimized_metric=val/digit/accuracy"],
                                    ["optimized_metric", "val/digit/accuracy", "val/digit/acc"]),
    "optimized metric only tested": (["optimized_metric=test/digit/acc", "optimized_mode=max"],
                                     ["optimized_metric", "'test/digit/acc' is logged only by the test",
                                      "'val/digit/acc'"]),
    "trainer argument unknown": (["+trainer.max_epoch=3"], ["trainer.max_epoch", "not an argument"]),
    "unknown mode": (["mode=fit"], ["mode", "'fit'", "check"]),
    "predict without a checkpoint": (["mode=predict"], ["ckpt_path", "mode=predict"]),
    "model key unknown": (["+model.optimiser.lr=0.1"], ["model.optimiser", "unknown key", "optimizer"]),
    "data argument unknown": (["+data.batchsize=3"], ["DigitsDataModule", "batchsize"]),
    "top-level key misspelt": (["+trainr.max_epochs=1"],
                               ["trainr", "not a key of the run config", "did you mean trainer"]),
    "output key misspelt": (["+model.outputs.digit.wieght=0.5"],
                            ["model.outputs.digit.wieght", "did you mean weight"]),
    "paths key misspelt": (["+paths.data_dri=/tmp"], ["paths.data_dri", "did you mean data_dir"]),
    "callback argument unknown": (["+callbacks.model_checkpoint.save_topk=3"],
                                  ["callbacks.model_checkpoint.save_topk", "ModelCheckpoint",
                                   "did you mean save_top_k"]),
    "logger argument unknown": (["+logger.csv.flush_every=3"], ["logger.csv.flush_every", "CSVLogger"]),
    "negative learning rate": (["model.optimizer.lr=-1"],
                               ["model.optimizer", "torch.optim.adam.Adam(lr=-1,", "Invalid learning rate"]),
    "learning rate as text": (["model.optimizer.lr=fast"],
                              ["model.optimizer.lr", "expected a number", "'fast'"]),
    "scheduler argument as text": (
        ["model.scheduler={_target_: torch.optim.lr_scheduler.StepLR, _partial_: true, step_size: 2, gamma: half}"],
        ["model.scheduler.gamma", "expected a number", "'half'"]),
    "trainer number as text": (["trainer.max_epochs=ten"], ["trainer.max_epochs", "'ten'"]),
    "resume value unknown": (["resume=yes"], ["resume", "null or auto", "'yes'"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_config_error_is_one_named_message(case, compose_cfg, capsys, monkeypatch) -> None:
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    overrides, expected = CASES[case]
    cfg = compose_cfg(DIGITS, "mode=check", *overrides)
    with pytest.raises(SystemExit) as exit_info:
        main(cfg)
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("Config error: "), err
    for text in expected:
        assert text in err, f"{text!r} not in {err!r}"
    assert "Traceback" not in err


def test_full_error_keeps_the_traceback(compose_cfg, monkeypatch) -> None:
    from plait.spec import SpecError

    monkeypatch.setenv("HYDRA_FULL_ERROR", "1")
    cfg = compose_cfg(DIGITS, "mode=check", "model.nodes.digit='clasify(features)'")
    with pytest.raises(SpecError, match="clasify"):
        main(cfg)


def test_script_prints_one_message_and_exits_1(run, tmp_path) -> None:
    result = run([DIGITS, "mode=check", "model.outputs.digit.loss=cross_entropi"], tmp_path)
    assert result.returncode == 1
    assert "Config error: " in result.stderr and "cross_entropi" in result.stderr
    assert "Traceback" not in result.stderr, result.stderr


def test_script_full_error_shows_traceback(run, tmp_path) -> None:
    result = run([DIGITS, "mode=check", "model.outputs.digit.loss=cross_entropi"], tmp_path,
                 env={"HYDRA_FULL_ERROR": "1"})
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "LossError" in result.stderr


@pytest.fixture(scope="module")
def digits_checkpoint(tmp_path_factory) -> Path:
    """A real checkpoint: one epoch of the digits experiment through train.py."""
    run_dir = tmp_path_factory.mktemp("digits_run")
    result = run_script([DIGITS, "trainer.max_epochs=1", "logger=csv", "test=false"], run_dir)
    assert result.returncode == 0, result.stderr[-2000:]
    return run_dir / "checkpoints" / "last.ckpt"


def _truncated(checkpoint: Path, folder: Path) -> Path:
    cut = folder / "cut.ckpt"
    cut.write_bytes(checkpoint.read_bytes()[: checkpoint.stat().st_size // 2])
    return cut


CHECKPOINT_CASES = {  # ckpt_path (from the digits checkpoint and a tmp folder), overrides, message parts
    "missing": (lambda ckpt, tmp: tmp / "nope.ckpt", [], ["ckpt_path", "nope.ckpt", "no checkpoint file"]),
    "truncated": (_truncated, [], ["ckpt_path", "cut.ckpt", "not a readable checkpoint"]),
    "empty": (lambda ckpt, tmp: (tmp / "empty.ckpt").touch() or tmp / "empty.ckpt", [],
              ["ckpt_path", "empty.ckpt", "is empty (0 bytes)"]),
    "not a checkpoint": (lambda ckpt, tmp: ckpt.parent.parent / "graph.txt", [],
                         ["ckpt_path", "graph.txt", "not a readable checkpoint"]),
    "another model": (lambda ckpt, tmp: ckpt, ["model.blocks.classify.units=5"],
                      ["ckpt_path", "a checkpoint of another model", "of another shape: ['classify']"]),
    "another model's blocks": (lambda ckpt, tmp: ckpt, ["model.nodes.digit='classify(image)'",
                                                        "encoder@model.blocks.features=mlp"],
                               ["another model", "features"]),
}


@pytest.mark.parametrize("case", list(CHECKPOINT_CASES))
def test_a_bad_ckpt_path_is_one_named_message(case, digits_checkpoint, compose_cfg, capsys,
                                              tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    path, overrides, expected = CHECKPOINT_CASES[case]
    cfg = compose_cfg(DIGITS, f"ckpt_path={path(digits_checkpoint, tmp_path)}", "logger=csv", *overrides)
    with pytest.raises(SystemExit) as exit_info:
        main(cfg)
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    for text in expected:
        assert text in err, f"{text!r} not in {err!r}"
    assert "Traceback" not in err


def test_load_checkpoint_names_a_corrupt_file(digits_checkpoint, tmp_path) -> None:
    from plait import load_checkpoint
    from plait.system import CheckpointError

    with pytest.raises(CheckpointError, match=r"path: '.*cut.ckpt' is not a readable checkpoint"):
        load_checkpoint(_truncated(digits_checkpoint, tmp_path))
    assert load_checkpoint(digits_checkpoint).predict({"image": torch.zeros(2, 1, 8, 8)})["digit"].shape == (2, 10)


PYTHON_GRAPH_CASES = {
    "builder returns no Graph": (["model.graph._target_=builtins.dict"],
                                 ["model.graph: builtins.dict returned a dict, expected a plait Graph"]),
    "builder missing": (["model.graph._target_=plait.models.no_such_model"],
                        ["model.graph._target_", "plait.models.no_such_model", "does not exist"]),
    "builder argument unknown": (["+model.graph.lstm_unit=8"],
                                 ["model.graph.lstm_unit", "did you mean lstm_units"]),
    "output of no graph output": (["+model.outputs.likes={loss: mse}"],
                                  ["model.outputs.likes: names no output of the graph",
                                   "['popular', 'popular_aux']"]),
    "graph beside a spec": (["+model.nodes={x: y}"], ["model.graph: a graph built in Python takes no model.nodes"]),
}


@pytest.mark.parametrize("case", list(PYTHON_GRAPH_CASES))
def test_a_python_graph_config_error_is_one_named_message(case, compose_cfg, capsys, monkeypatch) -> None:
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    overrides, expected = PYTHON_GRAPH_CASES[case]
    with pytest.raises(SystemExit):
        main(compose_cfg("experiment=headline_python", "mode=check", *overrides))
    err = capsys.readouterr().err
    for text in expected:
        assert text in err, f"{text!r} not in {err!r}"
    assert "Traceback" not in err


def test_a_loss_config_with_arguments_checks_in_yaml(compose_cfg) -> None:
    from plait.train import check

    cfg = compose_cfg(DIGITS, "mode=check",
                      "model.outputs.digit.loss={name: cross_entropy, label_smoothing: 0.1}")
    assert check(cfg).system.loss.loss_names == {"digit": "cross_entropy"}
