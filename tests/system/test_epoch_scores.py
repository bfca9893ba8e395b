"""EpochScores: a stage's losses and metrics, fed a step at a time, computed once an epoch.
The metrics see the steps' predictions in groups; the values must not depend on that."""

import pytest
import torch
import torchmetrics as tm

from plait.system import epoch_stats
from plait.system.epoch_stats import EpochScores
from plait.system.metrics import metric_inputs


def softmax_inputs(name, logits, target):
    return metric_inputs("multiclass", logits.softmax(-1), target)


def scores(*names, metrics=("acc", "f1")):
    built = {n: tm.MetricCollection({
        "acc": tm.Accuracy(task="multiclass", num_classes=5),
        "f1": tm.F1Score(task="multiclass", num_classes=5, average="macro")}
        if metrics else {}).clone(prefix=f"val/{n}/") for n in names}
    return EpochScores(list(names), built, softmax_inputs, "val")


@pytest.mark.parametrize("steps", [1, 16, 37])  # less than, exactly and not a multiple of a group
def test_an_epoch_gives_the_values_of_all_its_examples_at_once(steps) -> None:
    torch.manual_seed(0)
    epoch = scores("a", "b")
    sizes = torch.randint(1, 40, (steps,)).tolist()
    batches = [{"a": torch.randn(n, 5), "b": torch.randn(n, 5), "ya": torch.randint(0, 5, (n,)),
                "yb": torch.randint(0, 5, (n,)), "loss": torch.rand(3)} for n in sizes]
    for b in batches:
        epoch.update(list(b["loss"]), len(b["a"]), {"a": b["a"], "b": b["b"]}, {"a": b["ya"], "b": b["yb"]})
    values = epoch.compute()

    weights = torch.tensor(sizes, dtype=torch.float32)
    means = (torch.stack([b["loss"] for b in batches]) * weights[:, None]).sum(0) / weights.sum()
    for key, mean in zip(["val/loss", "val/a/loss", "val/b/loss"], means):
        assert values[key] == pytest.approx(float(mean), rel=1e-5)
    for name in ("a", "b"):
        logits = torch.cat([b[name] for b in batches])
        target = torch.cat([b[f"y{name}"] for b in batches])
        assert values[f"val/{name}/acc"] == pytest.approx(float(tm.functional.accuracy(
            logits, target, task="multiclass", num_classes=5)))
        assert values[f"val/{name}/f1"] == pytest.approx(float(tm.functional.f1_score(
            logits, target, task="multiclass", num_classes=5, average="macro")))
    assert sorted(values) == sorted(epoch.names())


def test_steps_of_other_shapes_are_measured_apart_and_a_full_buffer_is_measured_early(monkeypatch) -> None:
    """Sequence outputs padded per batch do not concatenate; a group that holds more than
    FLUSH_ELEMENTS numbers is handed over before FLUSH_STEPS steps."""
    monkeypatch.setattr(epoch_stats, "FLUSH_ELEMENTS", 200)
    epoch = scores("seq")
    seen = []
    epoch.metrics["out_seq"].update = lambda p, t: seen.append(tuple(t.shape))
    for length in (3, 3, 7, 7, 7, 3):  # (batch 4, length, 5 classes) -> 60 or 140 numbers a step
        epoch.update([torch.tensor(0.0)] * 2, 4, {"seq": torch.randn(4, length, 5)},
                     {"seq": torch.randint(0, 5, (4, length))})
    # 3,3,7 held 260 numbers: measured, as two groups; then 7,7 held 280
    assert seen == [(8, 3), (4, 7), (8, 7)]
    epoch.flush()
    assert seen == [(8, 3), (4, 7), (8, 7), (4, 3)]


def test_an_epoch_without_steps_gives_none_and_each_epoch_starts_afresh() -> None:
    epoch = scores("a", metrics=())
    assert epoch.compute() is None
    epoch.update([torch.tensor(2.0), torch.tensor(2.0)], 10, {"a": torch.randn(10, 5)}, {})
    assert epoch.compute() == {"val/loss": 2.0, "val/a/loss": 2.0}
    epoch.update([torch.tensor(4.0), torch.tensor(4.0)], 1, {"a": torch.randn(1, 5)}, {})
    assert epoch.compute()["val/loss"] == 4.0


def test_the_metrics_see_sixteen_steps_in_one_update() -> None:
    """The README's promise: one metric update for every 16 steps, and one for the rest."""
    epoch = scores("a")
    sizes = []
    epoch.metrics["out_a"].update = lambda p, t: sizes.append(len(t))
    for _ in range(37):
        epoch.update([torch.tensor(1.0)] * 2, 3, {"a": torch.randn(3, 5)}, {"a": torch.randint(0, 5, (3,))})
    assert sizes == [48, 48]
    epoch.flush()
    assert sizes == [48, 48, 15]


def test_half_precision_steps_are_summed_and_measured_in_float32() -> None:
    """`trainer.precision=bf16-true` makes every loss and logit bf16: 1,000 steps of 64
    examples would overflow a bf16 sum's precision; the metrics see float32 logits."""
    epoch = scores("a")
    seen = []
    update = epoch.metrics["out_a"].update
    epoch.metrics["out_a"].update = lambda p, t: (seen.append(p.dtype), update(p, t))
    loss = torch.tensor(2.3, dtype=torch.bfloat16)
    for _ in range(1000):
        epoch.update([loss, loss], 64, {"a": torch.randn(64, 5, dtype=torch.bfloat16)},
                     {"a": torch.randint(0, 5, (64,))})
    values = epoch.compute()
    assert values["val/loss"] == pytest.approx(float(loss), rel=1e-6)
    assert set(seen) == {torch.float32}
