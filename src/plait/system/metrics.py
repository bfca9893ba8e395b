"""torchmetrics per output, chosen by short names from the output's loss and shape."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
import torchmetrics as tm
from torch import Tensor

from plait.graph import TensorSpec
from plait.losses import LOSS_NAMES
from plait.spec import SpecError, instantiate


def _classification(task: str, classes: int) -> dict[str, Callable[[], tm.Metric]]:
    size = {"multiclass": {"num_classes": classes}, "multilabel": {"num_labels": classes}, "binary": {}}[task]
    # The inputs come from the graph and the data module, checked there; torchmetrics'
    # own checks of every batch cost more than the step of a small model.
    size["validate_args"] = False
    average = {} if task == "binary" else {"average": "macro"}
    return {
        "accuracy": lambda: tm.Accuracy(task=task, **size),
        "acc": lambda: tm.Accuracy(task=task, **size),
        "f1": lambda: tm.F1Score(task=task, **size, **average),
        "precision": lambda: tm.Precision(task=task, **size, **average),
        "recall": lambda: tm.Recall(task=task, **size, **average),
        "auroc": lambda: tm.AUROC(task=task, **size),
    }


_REGRESSION: dict[str, Callable[[], tm.Metric]] = {
    "mse": tm.MeanSquaredError,
    "mae": tm.MeanAbsoluteError,
    "r2": tm.R2Score,
}


def task_of(activation: str, spec: TensorSpec, where: str) -> tuple[str, int]:
    """The torchmetrics task of an output and its class count, from its activation and shape.

    Raises:
        SpecError: a softmax over one column (always 1), naming `where`.
    """
    width = spec.shape[-1] if spec.shape else 1
    if activation == "softmax":
        if width == 1:
            raise SpecError(f"{where}: the loss predicts with a softmax over classes, but the output has "
                            f"1 column (shape {list(spec.shape)}), whose softmax is always 1: it would learn "
                            "nothing. A binary target takes binary_cross_entropy on 1 column; classes take "
                            "one column each (the head's units)")
        return "multiclass", width
    if activation == "sigmoid":
        return ("binary", 1) if width == 1 else ("multilabel", width)
    return "regression", width


def output_metrics(metrics: Sequence[str] | Mapping[str, Any] | None, task: str, classes: int,
                   where: str, loss: str | None = None) -> tm.MetricCollection:
    """A collection for one output of `task` (`task_of`): short names (`accuracy`, `f1`,
    `mse`, ...) or `_target_`s. `loss` (the loss's name) lets an error say why the output is
    read as it is.

    Raises:
        SpecError: an unknown short name, naming the key and listing the known ones.
    """
    known = _REGRESSION if task == "regression" else _classification(task, classes)
    built: dict[str, tm.Metric] = {}
    for name, config in _metric_items(metrics, where):
        if name in built:
            raise SpecError(f"{where}: metric '{name}' is given twice; name each once")
        if config is not None:
            built[name] = instantiate(config, f"{where}.{name}", _no_blocks)
        elif name in known:
            built[name] = known[name]()
        else:
            raise SpecError(f"{where}: unknown metric '{name}' for a {task} output; known: {sorted(known)} "
                            "(or give {name: {_target_: torchmetrics....}})"
                            + _classification_hint(task, name, loss, classes))
    return tm.MetricCollection(built)


def _metric_items(metrics: Any, where: str) -> list[tuple[str, Any]]:
    """(name, config or None) for each metric, as Keras takes them: one name (`acc`), a list of
    names, `{name: {_target_: ...}}` and `{_target_: ...}` (named by its class, `f1score`)
    alike, alone or in the list, or a dict by name."""
    if metrics is None:
        return []
    if isinstance(metrics, str | Mapping):
        metrics = [metrics]
    items: list[tuple[str, Any]] = []
    for metric in metrics:
        if isinstance(metric, str):
            items.append((metric, None))
        elif isinstance(metric, Mapping) and "_target_" in metric:
            items.append((str(metric["_target_"]).rpartition(".")[2].lower(), metric))
        elif isinstance(metric, Mapping):
            items.extend(metric.items())
        else:
            raise SpecError(f"{where}: a metric is a name (acc), {{name: {{_target_: ...}}}} or "
                            f"{{_target_: ...}}; received {metric!r}")
    return items


def _classification_hint(task: str, metric: str, loss: str | None, width: int) -> str:
    """Why an output asked for a classification metric is read as regression, and the remedy."""
    if task != "regression" or metric not in _classification("binary", 1):
        return ""
    if loss in LOSS_NAMES:
        return (f". Its loss {loss} is a regression loss; for classes use cross_entropy (one column "
                "per class), for a binary or multi-label target binary_cross_entropy")
    activation = "sigmoid" if width == 1 else "softmax"
    also = "" if width == 1 else " (sigmoid for multi-label targets)"
    return (". An output is read as regression when its loss applies no softmax or sigmoid at "
            "prediction, as a loss of your own does unless it says so: give it as "
            "{_target_: plait.losses.LossSpec, name: <name>, fn: {_target_: <your loss>}, "
            f"activation: {activation}}}{also}, in Python LossSpec(name, fn, activation='{activation}')")


def _no_blocks(name: str, where: str) -> Any:
    raise SpecError(f"{where}: a metric cannot refer to block '{name}'")


def metric_inputs(task: str, prediction: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    """Activated predictions and targets in the form torchmetrics expects for the task."""
    if task == "multiclass":
        if target.is_floating_point():  # one-hot or probabilities
            return prediction, target.argmax(-1)
        if target.ndim == prediction.ndim and target.shape[-1] == 1:  # (B, 1) indices, as the loss takes
            target = target.squeeze(-1)
        return prediction, target
    if task == "binary":
        return prediction.reshape(target.shape), target.round().long() if target.is_floating_point() else target
    if task == "multilabel":
        return prediction, target.round().long()
    prediction = prediction.reshape(target.shape) if prediction.numel() == target.numel() else prediction
    return prediction, target.to(prediction.dtype)


def as_tensor(value: Any, dtype: torch.dtype) -> Tensor:
    """An array-like input as a tensor of the graph input's dtype family."""
    tensor = value if isinstance(value, Tensor) else torch.as_tensor(value)
    return tensor.to(dtype) if tensor.dtype != dtype else tensor
