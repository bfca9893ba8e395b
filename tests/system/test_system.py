"""GraphSystem on real Lightning: training, per-output logging, checkpoints, prediction."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torchmetrics
from tests.system.conftest import PIXELS, spec, trainer

from plait.data import FileDataModule
from plait.losses import LossError
from plait.spec import SpecError
from plait.system import GraphSystem, load_checkpoint

ROOT = Path(__file__).resolve().parents[2]


def test_training_learns_and_logs_each_output_under_its_own_name(tmp_path, data, three_outputs):
    system = GraphSystem(three_outputs, optimizer=lambda params: torch.optim.Adam(params, lr=3e-3))
    run = trainer(tmp_path, epochs=4)
    run.fit(system, data)
    metrics = run.callback_metrics
    assert metrics["val/digit/accuracy"] > 0.8
    assert metrics["val/odd/accuracy"] > 0.8
    expected = {f"val/{n}/loss" for n in ("digit", "odd", "ink")} | {"val/loss", "val/digit/f1", "val/odd/auroc", "val/ink/mae"}
    assert expected <= set(metrics)
    logged = pd.read_csv(next(tmp_path.rglob("metrics.csv")))
    assert {"train/digit/weight", "train/ink/weight", "val/odd/loss"} <= set(logged.columns)
    np.testing.assert_allclose(logged["train/ink/weight"].dropna(), 0.1, rtol=1e-6)


def test_a_training_step_logs_only_every_log_every_n_steps(tmp_path, data, three_outputs):
    """The step loss and weights every `log_every_n_steps` steps; nothing at the others."""
    run = trainer(tmp_path, epochs=2, limit_val_batches=0)  # log_every_n_steps=5
    run.fit(GraphSystem(three_outputs), data)
    logged = pd.read_csv(next(tmp_path.rglob("metrics.csv")))
    for column in ("train/loss_step", "train/digit/weight"):
        steps = logged.dropna(subset=[column])["step"].to_numpy()
        assert len(steps) == run.global_step // 5 >= 4
        assert set(np.diff(steps)) == {5}


def test_an_epoch_shorter_than_the_logging_interval_warns_of_nothing(tmp_path, data, three_outputs, recwarn):
    """Epoch values are logged however few steps an epoch has: Lightning's warning that a
    short epoch logs nothing is not shown."""
    import lightning as L

    run = L.Trainer(max_epochs=1, accelerator="cpu", logger=L.pytorch.loggers.CSVLogger(tmp_path),
                    enable_progress_bar=False, enable_checkpointing=False, log_every_n_steps=10_000)
    run.fit(GraphSystem(three_outputs), data)
    assert not [w for w in recwarn if "smaller than the logging interval" in str(w.message)]
    assert "train/loss" in pd.read_csv(next(tmp_path.rglob("metrics.csv"))).columns


def test_total_loss_is_the_weighted_sum_of_the_output_losses(data, three_outputs):
    system = GraphSystem(three_outputs)
    data.setup("fit")
    batch = next(iter(data.train_dataloader()))
    total, per_output = system.loss(system(batch), batch)
    expected = per_output["digit"] + 0.5 * per_output["odd"] + 0.1 * per_output["ink"]
    torch.testing.assert_close(total, expected)


def test_checkpoint_rebuilds_the_model_alone_and_predicts_the_same(tmp_path, data, three_outputs):
    system = GraphSystem(three_outputs)
    run = trainer(tmp_path, epochs=1)
    run.fit(system, data)
    path = tmp_path / "model.ckpt"
    run.save_checkpoint(path)
    assert torch.load(path, weights_only=True)["plait"]["spec"]["outputs"]["ink"]["loss"] == "mse"
    restored = load_checkpoint(path)
    pixels = np.random.default_rng(0).random((5, 64), dtype=np.float32)
    before, after = system.predict({"pixels": pixels}), restored.predict([pixels])
    for name in ("digit", "odd", "ink"):
        np.testing.assert_allclose(before[name], after[name], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(after["digit"].sum(axis=1), 1.0, rtol=1e-5)  # softmax applied
    assert ((after["odd"] >= 0) & (after["odd"] <= 1)).all()  # sigmoid applied


def test_a_block_starts_from_another_runs_checkpoint_and_can_be_frozen(tmp_path, data):
    with_norm = spec()
    with_norm["blocks"]["trunk"] |= {"batch_norm": True, "dropout": 0.5}
    first = GraphSystem(with_norm)
    run = trainer(tmp_path, epochs=1)
    run.fit(first, data)
    run.save_checkpoint(tmp_path / "first.ckpt")
    reused = spec()
    reused["blocks"]["trunk"] |= {"batch_norm": True, "dropout": 0.5,
                                  "_checkpoint_": str(tmp_path / "first.ckpt"), "_freeze_": True}
    second = GraphSystem(reused)
    trunk_before = {k: v.clone() for k, v in second.graph.blocks["trunk"].state_dict().items()}
    for key, value in first.graph.blocks["trunk"].state_dict().items():
        torch.testing.assert_close(trunk_before[key], value)
    assert not any(p.requires_grad for p in second.graph.blocks["trunk"].parameters())
    second_run = trainer(tmp_path / "second", epochs=1)
    second_run.fit(second, data)
    for key, value in second.graph.blocks["trunk"].state_dict().items():  # batch-norm statistics too
        torch.testing.assert_close(trunk_before[key], value)
    assert not second.graph.blocks["trunk"].training and second.graph.blocks["digit_head"].training
    # the second run's checkpoint holds every weight: it loads with the first one gone
    second_run.save_checkpoint(tmp_path / "second.ckpt")
    (tmp_path / "first.ckpt").unlink()
    restored = load_checkpoint(tmp_path / "second.ckpt")
    torch.testing.assert_close(restored.graph.blocks["trunk"].state_dict(), second.graph.blocks["trunk"].state_dict())


@pytest.mark.parametrize("outputs, message", [
    ({"digit": {"weight": 1.0}}, r"model.outputs.digit: no loss"),
    ({"digit": {"loss": "cross_entropyy"}}, r"cross_entropyy"),
    ({"digit": {"loss": "cross_entropy", "weight": -1}}, r"digit.*-1"),
    ({"digit": {"loss": "cross_entropy", "weight": "heavy"}}, r"digit.*heavy"),
    ({"digit": {"loss": "cross_entropy", "metrics": ["accuracyy"]}},
     r"model.outputs.digit.metrics: unknown metric 'accuracyy' for a multiclass output"),
    ({"digit": {"loss": "mse", "metrics": ["acc"]}},
     r"unknown metric 'acc' for a regression output.*Its loss mse is a regression loss; for classes use "
     r"cross_entropy"),
    ({"odd": {"loss": "cross_entropy", "metrics": ["acc"]}},
     r"model.outputs.odd.loss: the loss predicts with a softmax over classes, but the output has 1 column "
     r"\(shape \[1\]\), whose softmax is always 1.*binary_cross_entropy on 1 column"),
    ({"odd": {"loss": {"_target_": "plait.losses.LossSpec", "name": "own", "activation": "softmax",
                       "fn": {"_target_": "torch.nn.BCEWithLogitsLoss"}}}},
     r"model.outputs.odd.loss: the loss predicts with a softmax over classes, but the output has 1 column"),
    ({"odd": {"loss": {"_target_": "torch.nn.BCEWithLogitsLoss"}, "metrics": ["auroc"]}},
     r"unknown metric 'auroc' for a regression output.*\{_target_: plait.losses.LossSpec, name: <name>, "
     r"fn: \{_target_: <your loss>\}, activation: sigmoid\}, in Python LossSpec\(name, fn, activation='sigmoid'\)$"),
])
def test_bad_output_specs_name_the_key(outputs, message):
    with pytest.raises((SpecError, LossError), match=message):
        GraphSystem(spec(**outputs))


def test_a_loss_of_your_own_for_classes_states_its_activation(tmp_path, data, monkeypatch):
    """The README's example, `experiments/posts/ring.py` on the path: as a bare `_target_` it
    predicts through the identity, so `acc` is refused with the remedy; as the README gives it,
    a LossSpec with softmax, it trains, scores as multiclass and predicts probabilities."""
    monkeypatch.syspath_prepend(str(ROOT / "experiments" / "posts"))
    readme = " ".join((ROOT / "README.md").read_text().split())
    stated = {"_target_": "plait.losses.LossSpec", "name": "ring", "activation": "softmax",
              "fn": {"_target_": "ring.RingSmoothing", "eps": 0.2}}
    assert ("`{_target_: plait.losses.LossSpec, name: ring, fn: {_target_: ring.RingSmoothing, eps: 0.2}, "
            "activation: softmax}`") in readme
    with pytest.raises(SpecError, match=r"model.outputs.digit.metrics: unknown metric 'acc' for a regression "
                       r"output.*\{_target_: plait.losses.LossSpec, name: <name>, fn: \{_target_: <your loss>\}, "
                       r"activation: softmax\} \(sigmoid for multi-label targets\)"):
        GraphSystem(spec(digit={"loss": stated["fn"], "metrics": ["acc"]}))
    with pytest.raises(SpecError, match=r"unknown metric 'rmse' for a regression output; known: \['mae', 'mse', 'r2'\]"
                       r" \(or give \{name: \{_target_: torchmetrics....\}\}\)$"):  # no hint for a regression metric
        GraphSystem(spec(digit={"loss": stated["fn"], "metrics": ["rmse"]}))
    system = GraphSystem(spec(digit={"loss": stated, "metrics": ["acc"]}),
                         optimizer=lambda params: torch.optim.Adam(params, lr=3e-3))
    run = trainer(tmp_path, epochs=2)
    run.fit(system, data)
    assert run.callback_metrics["val/digit/acc"] > 0.5  # ten classes: chance is 0.1
    probabilities = system.predict({"pixels": np.random.default_rng(0).random((5, 64), dtype=np.float32)})["digit"]
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-5)


def _with_units(graph: dict, block: str, units: int) -> dict:
    graph["blocks"][block]["units"] = units
    return graph


TARGETS_OUTSIDE = {  # output -> its graph, and the start of the refusal
    "odd": (spec(odd={"loss": "binary_cross_entropy", "metrics": ["acc"]}),
            r"^output 'odd': loss binary_cross_entropy takes targets from 0 to 1 \(a label or a probability\), "
            r"received 2, 3,"),
    "digit": (_with_units(spec(digit={"loss": "cross_entropy", "metrics": ["acc"]}), "digit_head", 8),
              r"^output 'digit': loss cross_entropy takes class indices 0 to 7 \(its head has 8 units\), "
              r"received 8, 9 \(\d+ of 64 values\)$"),
}


@pytest.mark.parametrize("output", list(TARGETS_OUTSIDE))
def test_a_target_its_loss_cannot_take_stops_before_a_step(tmp_path, digits_file, output):
    """The digit column (0-9) as the target of a binary output, where torch would have
    trained on it, or of an 8-class head, where a GPU stops in a device-side assert that
    names neither: refused at the first batch, in fit as in `evaluate`."""
    graph, message = TARGETS_OUTSIDE[output]
    data = FileDataModule(train_path=str(digits_file), inputs={"pixels": PIXELS}, targets={output: "digit"},
                          batch_size=64, seed=0)
    system = GraphSystem(graph)
    run = trainer(tmp_path, epochs=1)
    with pytest.raises(LossError, match=message):
        run.fit(system, data)
    assert run.global_step == 0
    frame = pd.read_parquet(digits_file)
    with pytest.raises(LossError, match=message.replace(r"\(\d+ of 64 values\)$", "")):
        system.evaluate({"pixels": frame[PIXELS].to_numpy(np.float32)}, {output: frame["digit"].to_numpy()})


def test_a_torchmetrics_metric_by_target_is_logged_and_evaluated(tmp_path, data, digits_file):
    """The README: a metric is a short name "or a torchmetrics `{_target_: ...}`", logged as
    `<stage>/<output>/<metric>`; `evaluate` gives it on arrays, as torchmetrics computes it."""
    mape = {"_target_": "torchmetrics.MeanAbsolutePercentageError"}
    system = GraphSystem(spec(ink={"loss": "mse", "metrics": {"mape": mape, "mae": None}}))
    run = trainer(tmp_path, epochs=1)
    run.fit(system, data)
    logged = pd.read_csv(next(tmp_path.rglob("metrics.csv")))
    assert logged["val/ink/mape"].notna().sum() == 1 and logged["val/ink/mae"].notna().sum() == 1
    frame = pd.read_parquet(digits_file)
    pixels, ink = frame[PIXELS].to_numpy(np.float32), frame["ink"].to_numpy(np.float32)
    scores = system.evaluate({"pixels": pixels}, {"ink": ink})
    expected = torchmetrics.functional.mean_absolute_percentage_error(
        torch.as_tensor(system.predict({"pixels": pixels})["ink"]).reshape(-1), torch.as_tensor(ink))
    assert scores["test/ink/mape"] == pytest.approx(float(expected), rel=1e-4)


@pytest.mark.parametrize("strategy", ["uncertainty", "gradnorm", "dwa"])
def test_balancing_strategies_train_and_log_the_weights_in_force(tmp_path, data, three_outputs, strategy):
    system = GraphSystem(three_outputs, loss_balancing=strategy)
    if strategy == "gradnorm":
        assert system._shared == [p for p in system.graph.blocks["trunk"].parameters()][-2:]
    run = trainer(tmp_path, epochs=3)
    run.fit(system, data)
    logged = pd.read_csv(next(tmp_path.rglob("metrics.csv")))
    weights = logged["train/odd/weight"].dropna()
    assert weights.nunique() > 1, f"{strategy} never changed the weight of 'odd'"


def test_load_checkpoint_is_reachable_from_the_package_without_loading_lightning_first():
    import subprocess
    import sys

    code = "import sys, plait; assert 'lightning' not in sys.modules; assert callable(plait.load_checkpoint)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


F1 = {"_target_": "torchmetrics.F1Score", "task": "multiclass", "num_classes": 10}


@pytest.mark.parametrize("metrics, names", [
    ("acc", ["acc"]),
    (["acc", {"f1": F1}], ["acc", "f1"]),
    ([F1], ["f1score"]),
    (F1, ["f1score"]),
    ({"acc": None, "f1": F1}, ["acc", "f1"]),
])
def test_metrics_take_every_form_keras_does(metrics, names) -> None:
    """One name, a list of names and `{name: {_target_}}` or `{_target_}` entries, or a dict by
    name: each builds the metrics it names (a string was read letter by letter, a list entry
    dict failed as unhashable)."""
    logged = GraphSystem(spec(digit={"loss": "cross_entropy", "metrics": metrics})).logged_names()
    assert [n for n in logged if n.startswith("val/digit/") and n != "val/digit/loss"] == [
        f"val/digit/{n}" for n in names]


def test_a_metric_of_no_known_form_or_given_twice_is_named() -> None:
    with pytest.raises(SpecError, match=r"^model.outputs.digit.metrics: a metric is a name \(acc\), .*received 3$"):
        GraphSystem(spec(digit={"loss": "cross_entropy", "metrics": ["acc", 3]}))
    with pytest.raises(SpecError, match=r"^model.outputs.digit.metrics: metric 'acc' is given twice"):
        GraphSystem(spec(digit={"loss": "cross_entropy", "metrics": ["acc", "acc"]}))
