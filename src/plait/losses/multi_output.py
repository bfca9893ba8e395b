"""`MultiOutputLoss`: one loss per output, combined by a balancing strategy (Keras's
`compile(loss=..., loss_weights=...)`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from plait.losses.balancer import FixedWeights, LossBalancer
from plait.losses.dwa import DynamicWeightAverage
from plait.losses.errors import LossError
from plait.losses.gradnorm import GradNorm
from plait.losses.named import LossFn, LossSpec, activation_fn, resolve_loss, shape_text
from plait.losses.per_output import check_output_names, check_weights, per_output
from plait.losses.uncertainty import UncertaintyWeighting

LossArg = str | LossSpec | LossFn
BalancerFactory = Callable[[list[str], list[float]], LossBalancer]

BALANCERS: dict[str, type[LossBalancer]] = {
    "fixed": FixedWeights,
    "uncertainty": UncertaintyWeighting,
    "dwa": DynamicWeightAverage,
    "gradnorm": GradNorm,
}


def make_balancer(balancer: str | LossBalancer | BalancerFactory, output_names: list[str],
                  weights: list[float] | None) -> LossBalancer:
    """A balancer from its name, a built one, or a factory `f(output_names, weights)`.

    A factory is what Hydra's `_partial_: true` makes of
    `{_target_: plait.losses.GradNorm, alpha: 0.5}`.

    Raises:
        LossError: an unknown name, weights given beside a built balancer, a balancer for
            other outputs, or a factory that returns no `LossBalancer`.
    """
    if isinstance(balancer, str):
        if balancer not in BALANCERS:
            raise LossError(f"unknown balancer {balancer!r}: expected one of {list(BALANCERS)}, "
                            "a LossBalancer, or a factory f(output_names, weights)")
        return BALANCERS[balancer](output_names, weights)
    if isinstance(balancer, LossBalancer):
        if weights is not None:
            raise LossError(f"weights given beside a built {type(balancer).__name__}: "
                            "expected the weights in one place, the balancer's own")
        built = balancer
    elif callable(balancer):
        built = balancer(output_names, weights)
    else:
        raise LossError(f"balancer must be a name, a LossBalancer or a factory, "
                        f"received {balancer!r} ({type(balancer).__name__})")
    if not isinstance(built, LossBalancer):
        raise LossError(f"balancer factory returned {type(built).__name__}, "
                        "expected a LossBalancer")
    if built.output_names != output_names:
        raise LossError(f"balancer is for outputs {built.output_names}, expected {output_names}")
    return built


def _as_dict(values: Any, names: list[str], what: str) -> Mapping[str, Tensor]:
    """Tensors keyed by output name, from a mapping, a list in output order, or one tensor."""
    if isinstance(values, Mapping):
        return values
    given = [values] if isinstance(values, Tensor) else values
    is_list = isinstance(given, Sequence) and not isinstance(given, str)
    if is_list and len(given) == len(names):
        return dict(zip(names, given))
    received = (f"a list of {len(given)}" if is_list and given is values
                else type(values).__name__)
    raise LossError(f"{what}: expected a dict keyed by output name {names}, a list in that "
                    f"order or, for one output, a tensor; received {received}")


class MultiOutputLoss(nn.Module):
    """The loss of a multi-output model: a loss per output, weighted and summed.

    Args:
        output_names: the model's outputs, in order.
        loss: one loss for every output, a dict keyed by output name, or a list in output
            order. A loss is a name (`cross_entropy`, `binary_cross_entropy`, `multilabel`,
            `mse`, `mae`/`l1`, `huber`, or Keras's names), a `LossSpec`, or a callable
            `loss(logits, target) -> scalar` such as an `nn.Module` built from `_target_`.
        weights: a positive number for every output, a dict (outputs left out get 1.0),
            or a list in output order; 1.0 each if omitted.
        loss_weights: Keras's name for `weights`; give one or the other. Messages name
            the one given.
        balancer: `fixed` (the weights as given), `uncertainty`, `dwa`, `gradnorm`, a
            built `LossBalancer`, or a factory `f(output_names, weights)`.
        activations: prediction activations overriding each loss's own (`softmax`,
            `sigmoid`, `identity`): one, a dict or a list.
        sample_weights: output name -> the batch key of per-example weights for its loss
            (Keras's `sample_weight`): its loss is the mean of each example's loss times
            its weight. Only losses that give per-example values (the named ones) take it.

    Raises:
        LossError: a key that names no output, an output without a loss, an unknown loss,
            activation or balancer, a weight that is not a positive finite number, or a
            list whose length is not the number of outputs.
    """

    def __init__(self, output_names: Sequence[str], loss: LossArg | Mapping[str, LossArg]
                 | Sequence[LossArg], weights: Any = None, *, loss_weights: Any = None,
                 balancer: str | LossBalancer | BalancerFactory = "fixed",
                 activations: Any = None, sample_weights: Mapping[str, str] | None = None) -> None:
        super().__init__()
        names = check_output_names(output_names)
        specs = [_resolve(value, name) for name, value in
                 zip(names, per_output(loss, names, "loss"))]
        weights = _weights(weights, loss_weights, names)
        chosen = per_output(activations, names, "activations", default=None)
        self.output_names = names
        self.loss_names = {n: s.name for n, s in zip(names, specs)}
        self.activations = {n: a if a is not None else s.activation
                            for n, s, a in zip(names, specs, chosen)}
        self._activation_fns = [(n, activation_fn(a)) for n, a in self.activations.items()]
        self.loss_modules = nn.ModuleDict({n: s.fn for n, s in zip(names, specs)
                                           if isinstance(s.fn, nn.Module)})
        self.sample_weights = _check_sample_weights(sample_weights or {}, dict(zip(names, specs)))
        self._steps = [(n, s.name, s.fn if n not in self.sample_weights else
                        _weighted(s.per_sample, self.sample_weights[n])) for n, s in zip(names, specs)]
        self.balancer = make_balancer(balancer, names, weights)
        self._target_checks = {n: s.check_target for n, s in zip(names, specs) if s.check_target}

    def check_targets(self, batch: Any, columns: Mapping[str, int | None] | None = None) -> None:
        """Every target's values checked against what its loss takes (`LossSpec.check_target`):
        meant for batches still on the CPU, where it costs no device sync.

        Args:
            batch: a batch dict; outputs without a target in it are skipped.
            columns: each output's last dimension (its classes); where it is not given, a
                class index is checked only for being negative.

        Raises:
            LossError: naming the output, its loss, what it takes and the values it received.
        """
        if not isinstance(batch, Mapping):
            return
        columns = columns or {}
        for name, check in self._target_checks.items():
            target = batch.get(name)
            if not isinstance(target, Tensor) or not target.numel():
                continue
            wrong = check(target.detach(), columns.get(name))
            if wrong:
                raise LossError(f"output {name!r}: loss {self.loss_names[name]} {wrong}")

    def forward(self, outputs: Any, targets: Any,
                shared_params: Sequence[Tensor] | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        """The total loss and each output's unweighted loss.

        Args:
            outputs: the model's logits: a dict keyed by output name (a list in output
                order, or one tensor for one output, also works).
            targets: the targets, keyed by output name; a whole batch dict may be given,
                its input entries are not read.
            shared_params: the last shared layer's parameters, for `gradnorm`.

        Returns:
            `(total, losses)`: the scalar to train on, and each output's loss before
            weighting, still in the graph.

        Raises:
            LossError: an output or target is missing, or a target does not fit its loss.
        """
        outputs = _as_dict(outputs, self.output_names, "outputs")
        targets = _as_dict(targets, self.output_names, "targets")
        losses = {}
        for name, loss_name, fn in self._steps:
            logits, target = _pair(outputs, targets, name)
            try:
                losses[name] = fn(logits, target, targets) if name in self.sample_weights else fn(logits, target)
            except LossError as err:
                raise LossError(f"output {name!r}: {err}") from None
            except (RuntimeError, ValueError, IndexError, TypeError) as err:
                if isinstance(err, torch.OutOfMemoryError):
                    raise
                raise LossError(f"output {name!r}: loss {loss_name} failed on logits "
                                f"{shape_text(logits.shape)} and target {target.dtype} "
                                f"{shape_text(target.shape)}: {err}") from err
        return self.balancer.combine(losses, shared_params), losses

    def predict(self, outputs: Any) -> dict[str, Tensor]:
        """Each output's logits through its activation: probabilities or values."""
        outputs = _as_dict(outputs, self.output_names, "outputs")
        return {name: fn(outputs[name]) for name, fn in self._activation_fns}

    def current_weights(self) -> dict[str, float]:
        """The weights now in use, by output name (see `LossBalancer.current_weights`)."""
        return self.balancer.current_weights()

    def on_epoch_end(self, avg_losses: Mapping[str, float | Tensor] | None = None) -> None:
        """Pass the end of a training epoch to the balancer (`dwa` moves its weights)."""
        self.balancer.on_epoch_end(avg_losses)

    def extra_repr(self) -> str:
        return f"losses={self.loss_names}, activations={self.activations}"


def _weights(weights: Any, loss_weights: Any, names: list[str]) -> list[float] | None:
    """The checked weights from `weights` or Keras's `loss_weights`, or None if neither."""
    if weights is not None and loss_weights is not None:
        raise LossError("weights and loss_weights both given: expected one of them "
                        "(loss_weights is Keras's name for weights)")
    if loss_weights is not None:
        return check_weights(loss_weights, names, "loss_weights")
    return None if weights is None else check_weights(weights, names, "weights")


def _check_sample_weights(keys: Mapping[str, str], specs: Mapping[str, LossSpec]) -> dict[str, str]:
    for name, key in keys.items():
        if name not in specs:
            raise LossError(f"sample_weights has {name!r}, which names no output; outputs are {list(specs)}")
        if not isinstance(key, str):
            raise LossError(f"output {name!r}: sample_weight is the batch key of the weights, "
                            f"received {key!r}")
        if specs[name].per_sample is None:
            raise LossError(f"output {name!r}: sample_weight needs a loss that gives each "
                            f"example's value (a named loss); {specs[name].name} does not")
    return dict(keys)


def _weighted(per_sample: Callable[[Tensor, Tensor], Tensor], key: str) -> Callable[..., Tensor]:
    """The mean over examples of each example's loss times its weight from `batch[key]`."""

    def loss(logits: Tensor, target: Tensor, batch: Mapping[str, Tensor]) -> Tensor:
        if key not in batch:
            raise LossError(f"sample_weight {key!r} is not in the batch; the batch has {list(batch)}")
        return (per_sample(logits, target) * batch[key].reshape(-1).to(logits.dtype)).mean()

    return loss


def _resolve(value: Any, name: str) -> LossSpec:
    """The output's loss, or an error that names the output."""
    if value is None:
        raise LossError(f"output {name!r} has no loss: expected a loss name, a LossSpec or a "
                        "callable loss(logits, target)")
    try:
        return resolve_loss(value)
    except LossError as err:
        raise LossError(f"output {name!r}: {err}") from None


def _pair(outputs: Mapping[str, Tensor], targets: Mapping[str, Tensor],
          name: str) -> tuple[Tensor, Tensor]:
    """The output's logits and target, or an error saying which is missing."""
    if name not in outputs:
        raise LossError(f"output {name!r} is not among the model's outputs {list(outputs)}")
    if name not in targets:
        raise LossError(f"output {name!r} has no target in the batch; the batch has "
                        f"{list(targets)}")
    return outputs[name], targets[name]
