"""`GraphSystem`: the one LightningModule for every graph."""

from __future__ import annotations

import copy
import difflib
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import lightning as L
import numpy as np
import torch
import torchmetrics as tm
from torch import Tensor, nn

from plait.graph import Graph, is_frozen
from plait.losses import (
    BALANCERS,
    GradNorm,
    LossError,
    MultiOutputLoss,
    NonFiniteLoss,
    activation_fn,
    activation_for,
    resolve_loss,
)
from plait.losses.per_output import check_weight
from plait.spec import SpecError, build_graph
from plait.system.metrics import as_tensor, metric_inputs, output_metrics, task_of

STAGES = ("train", "val", "test")
OUTPUT_KEYS = ("loss", "weight", "metrics", "node")


class GraphSystem(L.LightningModule):
    """Trains a graph built from a spec: per-output losses, weights and metrics.

    Args:
        spec: plain data: `inputs`, `blocks`, `nodes`, and `outputs`, each output with
            `loss`, `weight` (default 1.0) and `metrics`.
        optimizer: makes the optimizer from parameters (Hydra `_partial_: true`); Adam 1e-3 if None.
        scheduler: makes an LR scheduler from the optimizer; none if None.
        scheduler_monitor: the metric a plateau scheduler watches.
        loss_balancing: how output losses are combined: `fixed` uses the weights;
            `uncertainty`, `gradnorm` and `dwa` learn or adapt them; or a balancer factory.

    Raises:
        SpecError: an output without a loss, unknown loss or metric names, bad weights.
    """

    def __init__(self, spec: Mapping, *, optimizer: Callable[..., torch.optim.Optimizer] | None = None,
                 scheduler: Callable[..., Any] | None = None, scheduler_monitor: str = "val/loss",
                 loss_balancing: str | Callable[..., nn.Module] = "fixed") -> None:
        super().__init__()
        self.spec = copy.deepcopy(dict(spec))
        self.graph = build_graph(self.spec)
        outputs = {n: (c or {}) for n, c in dict(self.spec["outputs"]).items()}
        missing = [n for n, c in outputs.items() if c.get("loss") is None]
        if missing:
            raise SpecError(f"model.outputs: {missing} have no loss; give each output "
                            "`loss: cross_entropy|binary_cross_entropy|mse|...`")
        names = self.graph.output_names
        for name in names:  # checked here so that errors name the config key
            _check_output_keys(outputs[name], f"model.outputs.{name}")
            check_weight(outputs[name].get("weight", 1.0), f"model.outputs.{name}.weight")
            try:
                resolve_loss(outputs[name]["loss"])
            except LossError as err:
                raise LossError(f"model.outputs.{name}.loss: {err}") from None
        if isinstance(loss_balancing, str) and loss_balancing not in BALANCERS:
            raise LossError(f"model.loss_balancing: unknown strategy {loss_balancing!r}; "
                            f"expected one of {sorted(BALANCERS)}")
        self.loss = MultiOutputLoss(names, loss={n: outputs[n]["loss"] for n in names},
                                    weights={n: outputs[n].get("weight", 1.0) for n in names},
                                    balancer=loss_balancing)
        # GradNorm measures each output's gradient norm at the last layer all outputs share.
        self._shared = shared_parameters(self.graph) if isinstance(self.loss.balancer, GradNorm) else None
        self.register_buffer("_epoch_losses", torch.zeros(len(names)), persistent=False)
        self._epoch_steps = 0
        activations = {n: activation_for(outputs[n]["loss"]) for n in names}
        self._activations = {n: activation_fn(a) for n, a in activations.items()}
        self._tasks = {n: task_of(activations[n], self.graph.output_specs[n])[0] for n in names}
        for stage in STAGES:
            # Epoch-mean losses as metrics: synced as sums and counts, so exact across ranks.
            setattr(self, f"{stage}_losses", nn.ModuleDict(
                {key: tm.MeanMetric(nan_strategy="disable") for key in ("total", *(f"out_{n}" for n in names))}))
            setattr(self, f"{stage}_metrics", nn.ModuleDict({
                f"out_{n}": output_metrics(outputs[n].get("metrics"), activations[n], self.graph.output_specs[n],
                                           f"model.outputs.{n}.metrics").clone(prefix=f"{stage}/{n}/")
                for n in names}))
        self._optimizer = optimizer
        self._scheduler = scheduler
        self._scheduler_monitor = scheduler_monitor
        self.loss_balancing = loss_balancing if isinstance(loss_balancing, str) else "custom"

    def forward(self, inputs: Mapping[str, Tensor] | Sequence[Tensor]) -> dict[str, Tensor]:
        """Logits of every output, from inputs keyed by name (extra keys are ignored) or in order."""
        if isinstance(inputs, Mapping):
            inputs = {n: inputs[n] for n in self.graph.input_names if n in inputs} or inputs
        return self.graph(inputs)

    def _step(self, batch: Mapping[str, Tensor], stage: str, batch_idx: int) -> Tensor:
        logits = self(batch)
        training = stage == "train"
        total, per_output = self.loss(logits, batch, shared_params=self._shared if training else None)
        self._check_finite(stage, batch_idx, total, per_output)
        size = next(iter(logits.values())).shape[0]
        if training:
            self._epoch_losses += torch.stack(list(per_output.values())).detach()
            self._epoch_steps += 1
            weights = self.loss.balancer.weight_vector()
            self.log_dict({f"train/{n}/weight": w for n, w in zip(self.graph.output_names, weights)},
                          on_step=True, on_epoch=False, batch_size=size)
        losses = getattr(self, f"{stage}_losses")
        if training:  # the step value shows in the progress bar; the epoch mean is per rank
            self.log("train/loss", total, on_step=True, on_epoch=True, prog_bar=True, batch_size=size)
        else:
            losses["total"].update(total.detach(), size)
            self.log(f"{stage}/loss", losses["total"], on_epoch=True, prog_bar=True)
        for name, value in per_output.items():
            losses[f"out_{name}"].update(value.detach(), size)
            self.log(f"{stage}/{name}/loss", losses[f"out_{name}"], on_step=False, on_epoch=True)
        metrics = getattr(self, f"{stage}_metrics")
        for name, value in logits.items():
            collection = metrics[f"out_{name}"]
            if len(collection):
                with torch.no_grad():
                    prediction = self._activations[name](value.detach())
                    collection.update(*metric_inputs(self._tasks[name], prediction, batch[name]))
                self.log_dict(collection, on_step=False, on_epoch=True, batch_size=size)
        return total

    def _check_finite(self, stage: str, batch_idx: int, total: Tensor,
                      per_output: Mapping[str, Tensor]) -> None:
        """Stop at the first NaN or infinite loss: training on would ruin every later weight,
        and an epoch mean would hide it.

        Raises:
            NonFiniteLoss: naming the outputs whose loss is not finite, the epoch and step.
        """
        if torch.isfinite(torch.stack([total.detach(), *(v.detach() for v in per_output.values())])).all():
            return
        bad = [f"output {n!r} loss {float(v)}" for n, v in per_output.items() if not torch.isfinite(v)]
        step = f", global step {self.trainer.global_step}" if stage == "train" else ""
        raise NonFiniteLoss(
            f"{stage}: the loss is not finite at epoch {self.current_epoch}, batch {batch_idx}{step}: "
            f"{', '.join(bad) or f'total loss {float(total)}'}. Lower the learning rate "
            "(model.optimizer.lr), clip gradients (trainer.gradient_clip_val), or look for NaN/Inf "
            "in the data")

    def training_step(self, batch: Mapping[str, Tensor], batch_idx: int) -> Tensor:
        return self._step(batch, "train", batch_idx)

    def on_fit_start(self) -> None:
        """Silence Lightning's warning about eval-mode modules when they are frozen blocks."""
        frozen = {id(m) for root in self.modules() if is_frozen(root) for m in root.modules()}
        in_eval = [m for m in self.modules() if not m.training]
        if in_eval and all(id(m) in frozen for m in in_eval):
            warnings.filterwarnings("ignore", message=rf"Found {len(in_eval)} module\(s\) in eval mode")

    def on_train_epoch_end(self) -> None:
        """Hand the balancer each output's epoch-average loss, the same on every rank."""
        if self._epoch_steps:
            averages = self.trainer.strategy.reduce(self._epoch_losses / self._epoch_steps, reduce_op="mean")
            self.loss.on_epoch_end(dict(zip(self.graph.output_names, averages)))
        self._epoch_losses.zero_()
        self._epoch_steps = 0

    def validation_step(self, batch: Mapping[str, Tensor], batch_idx: int) -> None:
        self._step(batch, "val", batch_idx)

    def test_step(self, batch: Mapping[str, Tensor], batch_idx: int) -> None:
        self._step(batch, "test", batch_idx)

    def predict_step(self, batch: Mapping[str, Tensor], batch_idx: int) -> dict[str, Tensor]:
        return {n: self._activations[n](v) for n, v in self(batch).items()}

    def configure_optimizers(self) -> Any:
        """The optimizer (and scheduler) from their factories.

        Raises:
            SpecError: naming `model.optimizer` or `model.scheduler` and what it refused.
        """
        params = [p for p in self.parameters() if p.requires_grad]
        optimizer = (_build("model.optimizer", self._optimizer, params=params) if self._optimizer
                     else torch.optim.Adam(params, lr=1e-3))
        if self._scheduler is None:
            return optimizer
        scheduler = _build("model.scheduler", self._scheduler, optimizer=optimizer)
        return {"optimizer": optimizer,
                "lr_scheduler": {"scheduler": scheduler, "monitor": self._scheduler_monitor}}

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["plait"] = {"spec": _without_init_checkpoints(self.spec),
                               "loss_balancing": self.loss_balancing}

    @torch.no_grad()
    def predict(self, inputs: Mapping[str, Any] | Sequence[Any] | Any, *, batch_size: int = 256) -> dict[str, np.ndarray]:
        """Outputs with their activations applied, as Keras's `predict`.

        Args:
            inputs: arrays or tensors: a name-keyed dict, a list in input order, or one.
            batch_size: rows per forward pass.
        """
        names = self.graph.input_names
        if isinstance(inputs, Mapping):
            columns = [inputs[n] for n in names]
        elif isinstance(inputs, (list, tuple)) and (len(names) > 1 or hasattr(inputs[0], "shape")):
            columns = list(inputs)  # a list of inputs, as Keras reads one
        else:
            columns = [inputs]
        device = next(self.parameters(), torch.empty(0)).device
        columns = [as_tensor(c, self.graph.input_specs[n].dtype) for n, c in zip(names, columns)]
        was_training = self.training
        self.eval()
        parts = [self.predict_step({n: c[i:i + batch_size].to(device) for n, c in zip(names, columns)}, 0)
                 for i in range(0, len(columns[0]), batch_size)]
        self.train(was_training)
        return {n: torch.cat([p[n] for p in parts]).cpu().numpy() for n in self.graph.output_names}


def _check_output_keys(config: Mapping[str, Any], where: str) -> None:
    for key in config:
        if key not in OUTPUT_KEYS:
            close = difflib.get_close_matches(str(key), OUTPUT_KEYS, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise SpecError(f"{where}.{key}: not a key of an output; {hint}an output takes {list(OUTPUT_KEYS)}")


def _build(key: str, factory: Callable[..., Any], **kwargs: Any) -> Any:
    """`factory(**kwargs)`; an argument it refuses is an error naming `key` and the arguments."""
    try:
        return factory(**kwargs)
    except (TypeError, ValueError) as err:
        func = getattr(factory, "func", factory)  # a functools.partial from `_partial_: true`
        given = ", ".join(f"{k}={v!r}" for k, v in getattr(factory, "keywords", {}).items())
        raise SpecError(f"{key}: {func.__module__}.{func.__qualname__}({given}) refused its "
                        f"arguments: {err}") from None


def shared_parameters(graph: Graph) -> list[nn.Parameter]:
    """The last shared layer's parameters: inside the last node (in graph order) that every
    output depends on, the last layer with a weight matrix or kernel.

    Raises:
        SpecError: no parameterised node is shared by all outputs (GradNorm needs one).
    """
    feeds: dict[int, set[int]] = {}  # node index -> outputs it reaches
    slots = {slot: i for i, step in enumerate(graph._steps) for slot in step[4]}
    for k, slot in enumerate(graph._out_slots):
        stack = [slots[slot]] if slot in slots else []
        while stack:
            i = stack.pop()
            if k not in feeds.setdefault(i, set()):
                feeds[i].add(k)
                stack.extend(slots[s] for s in graph._steps[i][2] if s in slots)
    everyone = len(graph._out_slots)
    for i in sorted(feeds, reverse=True):
        layers = [[p for p in m.parameters(recurse=False) if p.requires_grad]
                  for m in graph._steps[i][0].modules()]
        layers = [params for params in layers if any(p.dim() >= 2 for p in params)]
        if len(feeds[i]) == everyone and layers:
            return layers[-1]
    raise SpecError("model.loss_balancing: gradnorm needs a layer with trainable parameters that "
                    f"feeds every output {graph.output_names}; this graph has none")


def _without_init_checkpoints(spec: Any) -> Any:
    """The spec with `_checkpoint_` keys removed: a checkpoint holds every weight itself."""
    if isinstance(spec, Mapping):
        return {k: _without_init_checkpoints(v) for k, v in spec.items()
                if k not in ("_checkpoint_", "_checkpoint_block_")}
    if isinstance(spec, list):
        return [_without_init_checkpoints(v) for v in spec]
    return spec
