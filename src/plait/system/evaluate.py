"""Keras's `model.predict(x)` and `model.evaluate(x, y)` on arrays in memory: a system's
outputs, and its test loss and metrics.

`evaluate`'s numbers are those `trainer.test` logs for the same rows: each output's loss and the
weighted total averaged over examples, and each output's metrics, named as logged
(`test/loss`, `test/<output>/loss`, `test/<output>/<metric>`).
"""

from __future__ import annotations

import contextlib
import numbers
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor

from plait.data.checks import finite
from plait.system.epoch_stats import EpochScores
from plait.system.id_inputs import check_ids
from plait.system.metrics import as_tensor

if TYPE_CHECKING:
    from plait.system.module import GraphSystem

STAGE = "test"


@torch.no_grad()
def predict(system: GraphSystem, inputs: Any, *, batch_size: int = 256) -> dict[str, np.ndarray]:
    """Every output of `system` on `inputs`, with its activation applied, in eval mode.

    Args:
        system: the trained system.
        inputs: arrays or tensors: a dict by input name, a list in input order, or one.
        batch_size: rows per forward pass.

    Returns:
        output name -> an array with one row per input row.

    Raises:
        ValueError: inputs that do not name every input, of no rows, whose numbers of rows
            differ, or that hold NaN or Inf; a batch size below 1.
        GraphError: an id past the table of the embedding that reads it.
    """
    _check_batch_size(batch_size, "predict")
    names = system.graph.input_names
    columns = {n: as_tensor(c, system.graph.input_specs[n].dtype)
               for n, c in named_arrays(inputs, names, "inputs", "predict").items()}
    _check_rows(columns, "predict")
    _check_finite(columns, "predict", names)
    check_ids(columns, system.id_inputs)
    with _eval_mode(system):
        parts = [system.predict_step(batch, 0) for batch in _batches(columns, batch_size, _device(system))]
    outputs = {n: torch.cat([p[n] for p in parts]) for n in system.graph.output_names}
    # numpy has no bfloat16: outputs computed in it (under autocast) come back as float32
    return {n: (o.float() if o.dtype == torch.bfloat16 else o).cpu().numpy() for n, o in outputs.items()}


@torch.no_grad()
def evaluate(system: GraphSystem, inputs: Any, targets: Any, *, batch_size: int = 256,
             sample_weight: Any = None) -> dict[str, float]:
    """The test loss and metrics of `system` on `inputs` and `targets`, in eval mode.

    Args:
        system: the trained system.
        inputs: arrays or tensors: a dict by input name, a list in input order, or one.
        targets: the same, by output name.
        batch_size: rows per forward pass; the result does not depend on it.
        sample_weight: per-row weights, for outputs trained with `sample_weight`; 1 if None.

    Returns:
        `{"test/loss": ..., "test/<output>/loss": ..., "test/<output>/<metric>": ...}`.

    Raises:
        ValueError: inputs or targets that do not name every input and output, of no rows,
            whose numbers of rows differ, or that hold NaN or Inf; a batch size below 1;
            `sample_weight` for a model none of whose outputs takes it.
        GraphError: an id past the table of the embedding that reads it.
        LossError: a target its loss cannot take (a class index past the head's units).
    """
    _check_batch_size(batch_size, "evaluate")
    if sample_weight is not None and not system.loss.sample_weights:
        raise ValueError("evaluate: sample_weight given, but no output of this model weights its examples "
                         "(model.outputs.<name>.sample_weight when it was built), so it would change "
                         "nothing; leave it out")
    names = system.graph.input_names
    columns = {**named_arrays(inputs, names, "inputs", "evaluate"),
               **named_arrays(targets, system.graph.output_names, "targets", "evaluate")}
    columns = {n: as_tensor(c, system.graph.input_specs[n].dtype) if n in names else _target(c)
               for n, c in columns.items()}
    if sample_weight is not None or system.loss.sample_weights:
        rows = len(next(iter(columns.values())))
        weight = torch.ones(rows) if sample_weight is None else torch.as_tensor(sample_weight).float()
        columns.update({key: weight for key in set(system.loss.sample_weights.values())})
    _check_rows(columns, "evaluate")
    _check_finite(columns, "evaluate", names, system.graph.output_names)
    check_ids(columns, system.id_inputs)
    system.loss.check_targets(columns, system.output_columns)
    with _eval_mode(system):
        return _scores(system, _batches(columns, batch_size, _device(system)))


@contextlib.contextmanager
def _eval_mode(system: GraphSystem) -> Iterator[None]:
    """`system` in eval mode for the block, then back in the mode it was in, error or not."""
    was_training = system.training
    system.eval()
    try:
        yield
    finally:
        system.train(was_training)


def _scores(system: GraphSystem, batches: Iterator[dict[str, Tensor]]) -> dict[str, float]:
    """Losses averaged over examples and metrics accumulated as in `trainer.test`, in fresh
    copies of the system's test metrics (whatever a trainer's test left in them)."""
    outputs = system.graph.output_names
    metrics = {n: system.test_scores.metrics[f"out_{n}"].clone() for n in outputs}
    for collection in metrics.values():
        collection.reset()
    scores = EpochScores(outputs, metrics, system.prepare_metric_inputs, STAGE).to(_device(system))
    for batch in batches:
        logits = system(batch)
        total, per_output = system.loss(logits, batch)
        scores.update([total, *per_output.values()], len(next(iter(logits.values()))), logits, batch)
    return {key: float(value) for key, value in scores.compute().items()}


def named_arrays(values: Any, names: Sequence[str], what: str, caller: str) -> dict[str, Any]:
    """`values` keyed by `names`: a dict (extra keys ignored), a list in order, or one array."""
    if isinstance(values, Mapping):
        missing = [n for n in names if n not in values]
        if missing:
            raise ValueError(f"{caller}: {what} lack {missing}; expected {list(names)}, "
                             f"received {sorted(values)}")
        return {n: values[n] for n in names}
    if isinstance(values, (list, tuple)) and (len(names) > 1 or not values or hasattr(values[0], "shape")):
        if len(values) != len(names):
            raise ValueError(f"{caller}: {len(values)} {what} given, expected {len(names)}: {list(names)}")
        return dict(zip(names, values))
    if len(names) != 1:
        raise ValueError(f"{caller}: one array given as {what}, expected {len(names)}: {list(names)}")
    return {names[0]: values}


def _check_batch_size(batch_size: Any, caller: str) -> None:
    if not is_count(batch_size):
        raise ValueError(f"{caller}: batch_size is the rows per forward pass, a whole number from 1; "
                         f"received {batch_size!r}")


def is_count(value: Any) -> bool:
    """A whole number from 1 (a Python or numpy integer, not a bool)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)) and value >= 1


def _check_rows(columns: Mapping[str, Tensor], caller: str) -> None:
    """One row per example in every array, and at least one."""
    sizes = {n: len(c) for n, c in columns.items()}
    if len(set(sizes.values())) > 1:
        raise ValueError(f"{caller}: every array needs one row per example; got rows {sizes}")
    if not any(sizes.values()):
        raise ValueError(f"{caller}: no rows to {caller} on")


def _check_finite(columns: Mapping[str, Tensor], caller: str, inputs: Sequence[str],
                  outputs: Sequence[str] = ()) -> None:
    """No NaN or Inf in a float input, target or weight: outputs or losses would be NaN."""
    for name, column in columns.items():
        if column.is_floating_point():
            kind = "input" if name in inputs else "target" if name in outputs else "sample_weight"
            why = finite(column.detach().float().cpu().numpy(), f"{caller}: {kind} '{name}'")
            if why:
                raise ValueError(why)


def _target(value: Any) -> Tensor:
    """A target as the data modules give it: int64 class indices, float32 values."""
    tensor = value if isinstance(value, Tensor) else torch.as_tensor(value)
    if tensor.is_floating_point() or tensor.dtype == torch.bool:
        return tensor.float()
    return tensor.long()


def _device(system: GraphSystem) -> torch.device:
    return next(system.parameters(), torch.empty(0)).device


def _batches(columns: dict[str, Tensor], size: int, device: torch.device) -> Iterator[dict[str, Tensor]]:
    rows = len(next(iter(columns.values())))
    for start in range(0, rows, size):
        yield {n: c[start:start + size].to(device) for n, c in columns.items()}
