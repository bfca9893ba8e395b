"""`GraphSystem`: the one LightningModule for every graph."""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

import lightning as L
import numpy as np
import torch
from torch import Tensor

from plait.graph import Graph, is_frozen
from plait.losses import GradNorm, MultiOutputLoss, NonFiniteLoss, activation_fn
from plait.spec import SpecError, build_graph
from plait.spec.checkpoint import without_init_checkpoints
from plait.system.compiling import compile_graph, compile_options
from plait.system.epoch_stats import EpochScores
from plait.system.evaluate import evaluate as evaluate_arrays
from plait.system.evaluate import predict as predict_arrays
from plait.system.id_inputs import check_ids, id_inputs
from plait.system.metrics import metric_inputs, output_metrics, task_of
from plait.system.outputs import (
    balancer,
    balancer_config,
    describe_outputs,
    output_configs,
    shared_parameters,
)
from plait.system.param_groups import block_groups, check_settings, flat_groups

STAGES = ("train", "val", "test")
LR_KEY = "train/lr"  # the learning rate each training epoch ran with


# GraphSystem's `on_before_batch_transfer` is meant to run with a DataModule; Lightning warns
# of that in every run.
warnings.filterwarnings("ignore", message="You have overridden `on_before_batch_transfer` in `LightningModule` "
                        "but have passed in a `LightningDataModule`")


class GraphSystem(L.LightningModule):
    """Trains a graph: each output with its own loss, weight and metrics (Keras's `compile`).

    Args:
        graph: a `Graph` built in Python, or a graph spec (plain data: `inputs`, `blocks`,
            `nodes`, `outputs`), as `from_spec` takes.
        outputs: output name -> `{loss, weight, metrics, sample_weight}`, as in a spec's
            `outputs:`; for a spec, its own `outputs` if None.
        loss: Keras-style: one loss for every output, a dict by name or a list in order. A
            loss is a name (`cross_entropy`, ...), `{name: ..., <argument>: ...}`,
            `{_target_: ...}`, or a callable `loss(logits, target)`.
        loss_weights: Keras-style: one weight, a dict by name (others 1.0) or a list.
        metrics: Keras-style: metric names for every output, a dict by name, or a list of lists.
        optimizer: makes the optimizer from parameters (Hydra `_partial_: true`); Adam 1e-3 if None.
        param_groups: block name -> optimizer settings for that block's parameters, e.g.
            `{"encoder": {"lr": 1e-5}, "wide": {"weight_decay": 0.1}}` (PyTorch's parameter
            groups; Keras's per-layer regularizers). `outer.inner` names a block inside a
            nested graph. Every other parameter takes the optimizer's own settings. None:
            one group, every parameter with the optimizer's settings.
        scheduler: makes an LR scheduler from the optimizer; none if None.
        scheduler_monitor: the metric a plateau scheduler watches.
        loss_balancing: how output losses are combined: `fixed` uses the weights;
            `uncertainty`, `gradnorm` and `dwa` learn or adapt them; a `{_target_: ...}`
            config of a `LossBalancer` (with its arguments), or a `LossBalancer` class.
        compile: `torch.compile` the graph: true, or a mapping of its arguments (`mode`,
            `backend`, `dynamic`, ...); LSTM/GRU layers are traced, not broken at.

    Raises:
        SpecError: the graph is neither a `Graph` nor a spec; a parameter group of no block,
            of a block without trainable parameters or sharing them with another group.
        LossError: an output of no graph output, an output without a loss, unknown loss
            or metric names, weights that are not positive, an unknown balancer.
    """

    def __init__(self, graph: Graph | Mapping, outputs: Mapping[str, Any] | None = None, *,
                 loss: Any = None, loss_weights: Any = None, metrics: Any = None,
                 optimizer: Callable[..., torch.optim.Optimizer] | None = None,
                 param_groups: Mapping[str, Mapping[str, Any]] | None = None,
                 scheduler: Callable[..., Any] | None = None, scheduler_monitor: str = "val/loss",
                 loss_balancing: str | Mapping | type = "fixed",
                 compile: bool | Mapping[str, Any] = False) -> None:
        super().__init__()
        self.spec = None  # the spec a graph was built from; a Python graph describes itself
        if isinstance(graph, Mapping):
            self.spec = without_init_checkpoints(copy.deepcopy(dict(graph)))
            outputs = graph.get("outputs") if outputs is None else outputs
            graph = build_graph(graph)
        if not isinstance(graph, Graph):
            raise SpecError(f"GraphSystem: expected a plait Graph or a graph spec, received "
                            f"{type(graph).__name__}")
        self.graph = graph
        names = graph.output_names
        self.outputs = output_configs(names, outputs if isinstance(outputs, Mapping) else None,
                                      loss=loss, loss_weights=loss_weights, metrics=metrics)
        self.loss_balancing = balancer_config(loss_balancing)
        self.loss = MultiOutputLoss(
            names, loss={n: self.outputs[n]["loss"] for n in names},
            weights={n: self.outputs[n]["weight"] for n in names}, balancer=balancer(self.loss_balancing),
            sample_weights={n: c["sample_weight"] for n, c in self.outputs.items() if c.get("sample_weight")})
        # GradNorm measures each output's gradient norm at the last layer all outputs share.
        self._shared = shared_parameters(self.graph) if isinstance(self.loss.balancer, GradNorm) else None
        self._activations = {n: activation_fn(a) for n, a in self.loss.activations.items()}
        tasks = {n: task_of(self.loss.activations[n], graph.output_specs[n], f"model.outputs.{n}.loss")
                 for n in names}
        self._tasks = {n: task for n, (task, _) in tasks.items()}
        self.output_columns = {n: columns for n, (_, columns) in tasks.items()}  # classes, for target checks
        self.id_inputs = id_inputs(graph)
        metrics_of = {n: output_metrics(self.outputs[n].get("metrics"), *tasks[n], f"model.outputs.{n}.metrics",
                                        self.loss.loss_names[n]) for n in names}
        for stage in STAGES:
            setattr(self, f"{stage}_scores", EpochScores(
                names, {n: metrics_of[n].clone(prefix=f"{stage}/{n}/") for n in names},
                self.prepare_metric_inputs, stage))
        self.compile_options = compile_options(compile)
        if self.compile_options is not None:
            compile_graph(self.graph, self.compile_options)
        self._optimizer = optimizer
        self._groups = flat_groups(param_groups)
        # A wrong block fails here; a wrong setting when the optimizer is built (mode=check).
        self.param_group_names = block_groups(self, self._groups)[1]
        self._scheduler = scheduler
        self._scheduler_monitor = scheduler_monitor
        self._plateau_step = False  # set while plait steps the plateau schedulers
        self._resumed_epoch: dict[str, Any] | None = None  # a checkpoint's epoch sums, until training starts

    # Lightning calls every module hook of a training step through a profiler context,
    # setting `_current_fx_name` before and after: a few microseconds each, which a small
    # model's step notices. Hooks that are not callable it skips: these do nothing here (a
    # subclass may still define them; it cannot call them on `super()`).
    on_train_batch_start = None
    on_before_backward = None
    on_after_backward = None
    on_before_zero_grad = None
    on_before_optimizer_step = None

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "_current_fx_name":  # Lightning's name of the running hook: a plain str,
            object.__setattr__(self, name, value)  # without nn.Module's checks (~1 us each)
        else:
            super().__setattr__(name, value)

    @classmethod
    def from_spec(cls, spec: Mapping, **kwargs: Any) -> GraphSystem:
        """The system of a graph spec (`inputs`, `blocks`, `nodes`, `outputs` with losses):
        the YAML path, which the Hydra entry takes."""
        return cls(spec, **kwargs)

    def forward(self, inputs: Mapping[str, Tensor] | Sequence[Tensor]) -> dict[str, Tensor]:
        """Logits of every output, from inputs keyed by name (extra keys are ignored) or in order."""
        if isinstance(inputs, Mapping):
            inputs = {n: inputs[n] for n in self.graph.input_names if n in inputs} or inputs
        out = self.graph(inputs)
        if isinstance(out, dict):
            return out
        return dict(zip(self.graph.output_names, out if isinstance(out, list) else [out]))

    def _step(self, batch: Mapping[str, Tensor], stage: str, batch_idx: int) -> Tensor:
        """Loss and metric updates on the device (`EpochScores`); no logging call but every
        `log_every_n_steps` training steps (the step's loss and weights). Epoch values are
        logged once, when the stage's epoch ends (`_log_epoch`)."""
        logits = self(batch)
        training = stage == "train"
        total, per_output = self.loss(logits, batch, shared_params=self._shared if training else None)
        if not math.isfinite(total.detach()):
            self._non_finite(stage, batch_idx, total, per_output)
        size = next(iter(logits.values())).shape[0]
        getattr(self, f"{stage}_scores").update([total, *per_output.values()], size, logits, batch)
        if training and self.trainer._logger_connector.should_update_logs:  # when Lightning writes logs
            weights = self.loss.balancer.weight_vector()
            self.log_dict({"train/loss_step": total.detach(),
                           **{f"train/{n}/weight": w for n, w in zip(self.graph.output_names, weights)}},
                          on_step=True, on_epoch=False, prog_bar=True, batch_size=size)
        return total

    def _log_epoch(self, stage: str) -> dict[str, Tensor]:
        """Log the stage's epoch values, synced across ranks: `<stage>/loss`, each output's
        `<stage>/<output>/loss` and metrics. Returns the losses' means by output name."""
        reduce = partial(self.trainer.strategy.reduce, reduce_op="sum") if self._trainer else None
        values = getattr(self, f"{stage}_scores").compute(reduce)
        if values is None:
            return {}
        self.log_dict(values, on_step=False, on_epoch=True, prog_bar=False, sync_dist=False)
        return {n: values[f"{stage}/{n}/loss"] for n in self.graph.output_names}

    def logged_names(self) -> list[str]:
        """Every epoch value the system logs: `<stage>/loss`, `<stage>/<output>/loss`,
        `<stage>/<output>/<metric>`, `train/lr` and `train/lr/<block>` of each parameter group."""
        return [name for stage in STAGES for name in getattr(self, f"{stage}_scores").names()] + self._lr_keys()

    def prepare_metric_inputs(self, name: str, logits: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
        """An output's logits and targets as its metrics take them: through the output's
        activation, in the form torchmetrics expects for its task."""
        return metric_inputs(self._tasks[name], self._activations[name](logits), target)

    def _non_finite(self, stage: str, batch_idx: int, total: Tensor, per_output: Mapping[str, Tensor]) -> None:
        """Stop at the first NaN or infinite loss: training on would ruin every later weight,
        and an epoch mean would hide it.

        Raises:
            NonFiniteLoss: naming the outputs whose loss is not finite, the epoch and step.
        """
        losses = {n: float(v.detach()) for n, v in per_output.items()}
        bad = [f"output {n!r} loss {v}" for n, v in losses.items() if not math.isfinite(v)]
        step = f", global step {self.trainer.global_step}" if stage == "train" else ""
        raise NonFiniteLoss(
            f"{stage}: the loss is not finite at epoch {self.current_epoch}, batch {batch_idx}{step}: "
            f"{', '.join(bad) or f'total loss {float(total.detach())}'}. Lower the learning rate "
            "(model.optimizer.lr), clip gradients (trainer.gradient_clip_val), or look for NaN/Inf "
            "in the data")

    def training_step(self, batch: Mapping[str, Tensor], batch_idx: int) -> Tensor:
        return self._step(batch, "train", batch_idx)

    def on_fit_start(self) -> None:
        """Check a checkpoint can describe this system before training, not at the first save;
        silence Lightning's warnings about eval-mode modules when they are frozen blocks and
        about epochs shorter than the logging interval."""
        if self.trainer.checkpoint_callbacks:
            self.checkpoint_spec()
        # Epoch values are logged at each epoch's end whatever the interval; an epoch shorter
        # than `log_every_n_steps` only logs no step values, which Lightning warns of.
        warnings.filterwarnings("ignore", message=r"The number of training batches \(\d+\) is smaller "
                                "than the logging interval")
        frozen = {id(m) for root in self.modules() if is_frozen(root) for m in root.modules()}
        in_eval = [m for m in self.modules() if not m.training]
        if in_eval and all(id(m) in frozen for m in in_eval):
            warnings.filterwarnings("ignore", message=rf"Found {len(in_eval)} module\(s\) in eval mode")

    def on_train_epoch_start(self) -> None:
        """Log the learning rates the epoch trains with, with the epoch's values: `LR_KEY`
        for the parameters of no `param_groups` entry, `LR_KEY/<block>` for each entry's."""
        if self._trainer is not None and self.trainer.optimizers:
            groups = self.trainer.optimizers[0].param_groups
            for key, group in zip(self._lr_keys(), groups):
                self.log(key, float(group["lr"]), on_step=False, on_epoch=True, batch_size=1)

    def _lr_keys(self) -> list[str]:
        return [f"{LR_KEY}/{name}" if name else LR_KEY for name in self.param_group_names]

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        """At the epoch's last batch, log the training epoch's values: here rather than in
        `on_train_epoch_end`, which Lightning calls after callbacks such as the epoch line."""
        if self.trainer.is_last_batch:
            self._end_train_epoch()

    def on_train_epoch_end(self) -> None:
        """An epoch cut short (`max_steps`, `limit_train_batches`) logs its values here. Every
        rank trains as many batches, so all see the same count and skip or reduce together."""
        if self.train_scores.examples:  # zero once the last batch logged the epoch
            self._end_train_epoch()
        self._step_plateau_schedulers()

    def _step_plateau_schedulers(self) -> None:
        """Step the plateau schedulers (`ReduceLROnPlateau`) at a whole epoch's end here, before
        the checkpoint callbacks save it, not after them as Lightning does (its own step is
        skipped in `lr_scheduler_step`): `last.ckpt` then holds the stepped schedule, and a run
        resumed from it trains on as one never stopped. Lightning also leaves the step out at
        the end of an epoch resumed from a mid-epoch checkpoint; its validation has run here,
        so it steps. An epoch resumed at its end, not validated in this process, does not."""
        fit_loop = self.trainer.fit_loop
        plateaus = [c for c in self.trainer.lr_scheduler_configs if c.reduce_on_plateau]
        if not plateaus or not fit_loop.epoch_loop._num_ready_batches_reached():
            return
        if fit_loop.restarting and any(c.monitor not in self.trainer.callback_metrics for c in plateaus):
            return
        self._plateau_step = True
        try:
            fit_loop.epoch_loop.update_lr_schedulers("epoch", update_plateau_schedulers=True)
        finally:
            self._plateau_step = False

    def lr_scheduler_step(self, scheduler: Any, metric: Any) -> None:
        """Lightning's step of a scheduler; a plateau scheduler's only from `_step_plateau_schedulers`."""
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau) and not self._plateau_step:
            return
        super().lr_scheduler_step(scheduler, metric)

    def _end_train_epoch(self) -> None:
        """Log the epoch's training values; hand the balancer each output's epoch-mean loss,
        the same on every rank."""
        averages = self._log_epoch("train")
        if averages:
            self.loss.on_epoch_end(averages)

    def on_validation_epoch_end(self) -> None:
        self._log_epoch("val")

    def on_test_epoch_end(self) -> None:
        self._log_epoch("test")

    def validation_step(self, batch: Mapping[str, Tensor], batch_idx: int) -> None:
        self._step(batch, "val", batch_idx)

    def test_step(self, batch: Mapping[str, Tensor], batch_idx: int) -> None:
        self._step(batch, "test", batch_idx)

    def predict_step(self, batch: Mapping[str, Tensor], batch_idx: int) -> dict[str, Tensor]:
        return {n: self._activations[n](v) for n, v in self(batch).items()}

    def on_before_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        """Each embedding's ids checked against its table, and each target against what its
        loss takes (not when predicting: no loss reads them), while still on the CPU. A
        DataModule's own hook of this name replaces this one, and the checks with it."""
        check_ids(batch, self.id_inputs)
        if not self.trainer.predicting:
            self.loss.check_targets(batch, self.output_columns)
        return batch

    def configure_optimizers(self) -> Any:
        """The optimizer (and scheduler) from their factories.

        Raises:
            SpecError: naming `model.optimizer` or `model.scheduler` and what it refused.
        """
        params = block_groups(self, self._groups)[0]
        optimizer = (_build("model.optimizer", self._optimizer, params=params) if self._optimizer
                     else torch.optim.Adam(params, lr=1e-3))
        check_settings(optimizer, self._groups)
        if self._scheduler is None:
            return optimizer
        scheduler = _build("model.scheduler", self._scheduler, optimizer=optimizer)
        return {"optimizer": optimizer,
                "lr_scheduler": {"scheduler": scheduler, "monitor": self._scheduler_monitor}}

    def checkpoint_spec(self) -> dict[str, Any]:
        """The plain-data spec a checkpoint carries, from which `load_checkpoint` rebuilds the
        system: the graph's spec (a Python graph's from `Graph.to_spec`) with each output's
        loss, weight and metrics.

        Raises:
            GraphError: a block that cannot be described, named.
            LossError: a loss or metric given as a Python object.
        """
        spec = dict(self.spec) if self.spec is not None else self.graph.to_spec()
        spec["outputs"] = describe_outputs(spec.get("outputs"), self.outputs)
        return spec

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """The spec, and in a checkpoint saved mid-epoch by one process, the epoch's training
        loss sums so far: resumed, the epoch's mean losses (which a balancer such as `dwa`
        learns from) are those of a run never stopped. Under DDP each rank holds its own."""
        checkpoint["plait"] = {"spec": self.checkpoint_spec(), "loss_balancing": self.loss_balancing,
                               "param_groups": self.param_group_names}
        partial = self.train_scores.partial() if self._single_process() else None
        if partial is not None:
            checkpoint["plait"]["train_epoch"] = {**partial, "epoch": self.current_epoch}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """A fit resumed in one process keeps the checkpoint's epoch sums for `on_train_start`."""
        state = checkpoint.get("plait", {}).get("train_epoch")
        if state is not None and self._single_process() and self.trainer.state.fn == "fit":
            self._resumed_epoch = state

    def on_train_start(self) -> None:
        """Continue the sums of the epoch the checkpoint was saved in, if training resumes in it:
        one saved at an epoch's last batch resumes at the next epoch, where they do not belong."""
        state, self._resumed_epoch = self._resumed_epoch, None
        if state is not None and state["epoch"] == self.current_epoch:
            self.train_scores.resume(state)

    def _single_process(self) -> bool:
        return self._trainer is not None and self.trainer.world_size == 1

    def predict(self, inputs: Mapping[str, Any] | Sequence[Any] | Any, *, batch_size: int = 256) -> dict[str, np.ndarray]:
        """Outputs with their activations applied, as Keras's `predict`.

        Args:
            inputs: arrays or tensors: a name-keyed dict, a list in input order, or one.
            batch_size: rows per forward pass.

        Raises:
            ValueError: inputs that do not name every input, of no rows, or of unequal rows.
        """
        return predict_arrays(self, inputs, batch_size=batch_size)

    def evaluate(self, inputs: Mapping[str, Any] | Sequence[Any] | Any, targets: Any, *,
                 batch_size: int = 256, sample_weight: Any = None) -> dict[str, float]:
        """Test loss and metrics on arrays, as Keras's `evaluate`; the numbers `trainer.test`
        logs for the same rows (`test/loss`, `test/<output>/<metric>`): see `plait.system.evaluate`."""
        return evaluate_arrays(self, inputs, targets, batch_size=batch_size, sample_weight=sample_weight)


def _build(key: str, factory: Callable[..., Any], **kwargs: Any) -> Any:
    """`factory(**kwargs)`; an argument it refuses is an error naming `key` and the arguments."""
    try:
        return factory(**kwargs)
    except (TypeError, ValueError) as err:
        func = getattr(factory, "func", factory)  # a functools.partial from `_partial_: true`
        given = ", ".join(f"{k}={v!r}" for k, v in getattr(factory, "keywords", {}).items())
        raise SpecError(f"{key}: {func.__module__}.{func.__qualname__}({given}) refused its "
                        f"arguments: {err}") from None
