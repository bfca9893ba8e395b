"""Every config error surfaces through the entry point as one message naming the key."""

from __future__ import annotations

import pytest

from plait.train import main

DIGITS = "experiment=digits"

# (overrides, text the message must contain); each is one mistake in the digits experiment.
CASES = {
    "unknown block in a node": (["model.nodes.digit='clasify(features)'"],
                                ["model.nodes.digit", "block 'clasify' is not defined", "classify"]),
    "unknown input in a node": (["model.nodes.features='features(img)'"],
                                ["model.nodes.features", "'img' names no input or node", "image"]),
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
    "trainer argument unknown": (["+trainer.max_epoch=3"], ["trainer.max_epoch", "not an argument"]),
    "unknown mode": (["mode=fit"], ["mode", "'fit'", "check"]),
    "predict without a checkpoint": (["mode=predict"], ["ckpt_path", "mode=predict"]),
    "model key unknown": (["+model.optimiser.lr=0.1"], ["model.optimiser", "unknown key", "optimizer"]),
    "data argument unknown": (["+data.batchsize=3"], ["DigitsDataModule", "batchsize"]),
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
