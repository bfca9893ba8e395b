"""Named losses on logits, each with the activation that turns its logits into predictions.

Heads produce logits, so every named loss takes logits: `cross_entropy` applies log-softmax,
`binary_cross_entropy` and `multilabel` apply log-sigmoid, the regression losses use the
logits as they are. Classes lie on the last dimension (Keras's channels-last), so a
`TimeDistributed` head's `(B, T, C)` logits take `(B, T)` class indices.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from plait.losses.errors import LossError

LossFn = Callable[[Tensor, Tensor], Tensor]


def _identity(logits: Tensor) -> Tensor:
    return logits


PREDICTION_ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "softmax": partial(torch.softmax, dim=-1),
    "sigmoid": torch.sigmoid,
    "identity": _identity,
}


def activation_fn(name: str) -> Callable[[Tensor], Tensor]:
    """The function a prediction activation names: `softmax`, `sigmoid` or `identity`.

    Raises:
        LossError: the name is none of these.
    """
    if name not in PREDICTION_ACTIVATIONS:
        raise LossError(f"unknown activation {name!r}: expected one of "
                        f"{sorted(PREDICTION_ACTIVATIONS)}")
    return PREDICTION_ACTIVATIONS[name]


@dataclass(frozen=True)
class LossSpec:
    """A loss on logits and the activation that turns those logits into predictions.

    Args:
        name: the name that logs and error messages use.
        fn: `fn(logits, target) -> scalar`; an `nn.Module` is registered by the loss
            that uses it, so its buffers move with the model.
        activation: `softmax`, `sigmoid` or `identity`, applied at prediction.
        per_sample: `per_sample(logits, target) -> (B,)`, each example's loss, for
            weighting examples (`sample_weight`); None where the loss cannot give it.
        check_target: `check_target(target, columns) -> None` where the target's values
            fit the loss, else what it takes and what it received (`columns`: the output's
            last dimension, None where unknown). Run on every batch before it reaches the
            device, where a bad value would train silently or stop in a device-side
            assert; None: any value.
    """

    name: str
    fn: LossFn
    activation: str = "identity"
    per_sample: LossFn | None = None
    check_target: Callable[[Tensor, int | None], str | None] | None = None

    def __post_init__(self) -> None:
        activation_fn(self.activation)


def shape_text(shape: torch.Size | tuple[int, ...]) -> str:
    """A shape with its batch dimension written `B`: `(B,)`, `(B, 3)`."""
    dims = ["B", *(str(d) for d in shape[1:])] if len(shape) else []
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def _shape_error(name: str, logits: Tensor, target: Tensor) -> LossError:
    if logits.ndim and target.ndim and logits.shape[0] != target.shape[0]:
        return LossError(f"loss {name} expects a target with the batch size of the logits "
                         f"({logits.shape[0]}), received {target.shape[0]} rows")
    shape = tuple(logits.shape)
    if logits.ndim == 1:
        expected = [shape, (*shape, 1)]
    elif shape[-1] == 1:
        expected = [shape[:-1], shape]
    else:
        expected = [shape]
    return LossError(f"loss {name} expects target shape "
                     f"{' or '.join(shape_text(s) for s in expected)} matching logits "
                     f"{shape_text(shape)}, received {shape_text(target.shape)}")


def _extra_trailing_one(longer: Tensor, shorter: Tensor) -> bool:
    """`longer` is `shorter`'s shape plus a trailing size-1 dimension."""
    return (longer.ndim == shorter.ndim + 1 and longer.shape[-1] == 1
            and longer.shape[:-1] == shorter.shape)


def match_shapes(name: str, logits: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    """Make logits and target the same shape, dropping a trailing size-1 dim one side lacks.

    Raises:
        LossError: the shapes differ in any other way.
    """
    if logits.shape == target.shape:
        return logits, target
    if _extra_trailing_one(logits, target):
        return logits.squeeze(-1), target
    if _extra_trailing_one(target, logits):
        return logits, target.squeeze(-1)
    raise _shape_error(name, logits, target)


class _Elementwise:
    """A loss comparing logits and a same-shaped target element by element.

    A class, not a closure, so that a model holding it pickles (`torch.save(model)`, spawned
    processes).
    """

    def __init__(self, name: str, torch_fn: Callable[..., Tensor]) -> None:
        self.__name__, self.torch_fn = name, torch_fn

    def __call__(self, logits: Tensor, target: Tensor, **kwargs: Any) -> Tensor:
        logits, target = match_shapes(self.__name__, logits, target)
        return self.torch_fn(logits, target.to(logits.dtype), **kwargs)


class _CrossEntropy(_Elementwise):
    """Softmax cross entropy against class indices or one-hot / probability targets."""

    def __call__(self, logits: Tensor, target: Tensor, **kwargs: Any) -> Tensor:
        name = self.__name__
        if logits.ndim < 2:
            raise LossError(f"loss {name} expects logits (B, C) with classes on the last "
                            f"dimension, received {shape_text(logits.shape)}; for one logit "
                            "per sample use binary_cross_entropy")
        classes = logits.shape[-1]
        flat = logits.reshape(-1, classes)
        if target.shape == logits.shape:  # one-hot or class probabilities
            return self.torch_fn(flat, target.reshape(-1, classes).to(logits.dtype), **kwargs)
        if not target.is_floating_point():
            if target.ndim == logits.ndim and target.shape[-1] == 1:
                target = target.squeeze(-1)
            if target.shape == logits.shape[:-1]:
                return self.torch_fn(flat, target.reshape(-1).long(), **kwargs)
        raise LossError(f"loss {name} expects class indices (int64) of shape "
                        f"{shape_text(logits.shape[:-1])} or one-hot/probabilities (float) of "
                        f"shape {shape_text(logits.shape)}, received {target.dtype} "
                        f"{shape_text(target.shape)}")


def wrong_values(values: Tensor, of: int) -> str:
    """The distinct values of those found wrong, at most five, and how many of `of` there
    were: `2, 5 (3 of 64 values)`, for messages that refuse a batch."""
    found = torch.unique(values).tolist()
    shown = ", ".join(f"{v:.8g}" for v in found[:5]) + (", ..." if len(found) > 5 else "")
    return f"{shown} ({values.numel()} of {of} values)"


class _Probabilities:
    """A binary target is a label (0 or 1) or a probability: torch takes any number, silently."""

    def __init__(self, **_: Any) -> None:  # the loss's keyword arguments change nothing here
        pass

    def __call__(self, target: Tensor, columns: int | None) -> str | None:
        smallest, largest = torch.aminmax(target)
        if not (smallest < 0 or largest > 1):  # NaN passes: the loss check names it
            return None
        return (f"takes targets from 0 to 1 (a label or a probability), received "
                f"{wrong_values(target[(target < 0) | (target > 1)], target.numel())}. Classes numbered "
                "0, 1, 2, ... take cross_entropy, with one head unit per class")


class _ClassIndices:
    """A class index names one of the head's units (or is `ignore_index`). On a GPU torch
    meets any other in a device-side assert that names neither the output nor the value."""

    def __init__(self, ignore_index: int = -100, **_: Any) -> None:
        self.ignore_index = ignore_index

    def __call__(self, target: Tensor, columns: int | None) -> str | None:
        if target.is_floating_point() or target.dtype == torch.bool:  # probabilities: the loss
            return None                                                # checks their shape
        high = columns if columns is not None else torch.iinfo(torch.int64).max
        smallest, largest = torch.aminmax(target)
        if smallest >= 0 and largest < high:
            return None
        wrong = ((target < 0) | (target >= high)) & (target != self.ignore_index)
        if not wrong.any():
            return None
        expected = f"0 to {columns - 1} (its head has {columns} units)" if columns is not None else "from 0"
        skipped = f" or ignore_index {self.ignore_index}" if self.ignore_index != -100 else ""
        return f"takes class indices {expected}{skipped}, received {wrong_values(target[wrong], target.numel())}"


TargetCheck = type[_Probabilities] | type[_ClassIndices]
# name -> (torch function whose keyword arguments it takes, loss, activation, the target check,
# built with the same keyword arguments)
_NAMED: dict[str, tuple[Callable[..., Tensor], Callable[..., Tensor], str, TargetCheck | None]] = {}


def _add(names: list[str], torch_fn: Callable[..., Tensor], activation: str,
         make: type[_Elementwise] = _Elementwise, check: TargetCheck | None = None) -> None:
    for name in names:
        _NAMED[name] = (torch_fn, make(name, torch_fn), activation, check)


# Keras's names (the seeds' `binary_crossentropy`, ...) are aliases: they take logits here too.
_add(["cross_entropy", "categorical_crossentropy", "sparse_categorical_crossentropy"],
     F.cross_entropy, "softmax", _CrossEntropy, _ClassIndices)
_add(["binary_cross_entropy", "binary_crossentropy"], F.binary_cross_entropy_with_logits, "sigmoid",
     check=_Probabilities)
_add(["multilabel"], F.binary_cross_entropy_with_logits, "sigmoid", check=_Probabilities)
_add(["mse", "mean_squared_error"], F.mse_loss, "identity")
_add(["mae", "l1", "mean_absolute_error"], F.l1_loss, "identity")
_add(["huber"], F.huber_loss, "identity")

LOSS_NAMES: tuple[str, ...] = tuple(sorted(_NAMED))


def named_loss(name: str, **kwargs: Any) -> LossSpec:
    """The named loss, with keyword arguments of its torch function bound.

    Lists become tensors, which follow the logits to their device: class weights
    (`weight: [1.0, 3.0]` for `cross_entropy`) and `pos_weight` for the binary losses.
    Example: `named_loss("huber", delta=2.0)`, or in YAML
    `loss: {name: cross_entropy, label_smoothing: 0.1}`.

    Raises:
        LossError: the name is unknown, or an argument is not one its torch function takes.
    """
    if name not in _NAMED:
        raise LossError(f"unknown loss {name!r}: expected one of {list(LOSS_NAMES)}, "
                        "or a callable loss(logits, target)")
    torch_fn, fn, activation, check = _NAMED[name]
    if "reduction" in kwargs:
        raise LossError(f"loss {name} takes no argument 'reduction': every output's loss is "
                        "the mean, a scalar the balancer can weight")
    params = inspect.signature(torch_fn).parameters
    allowed = [p for p in list(params)[2:] if p not in ("size_average", "reduce", "reduction")]
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise LossError(f"loss {name} takes no argument {unknown[0]!r}: expected any of {allowed}")
    bound = _Bound(fn, kwargs)
    return LossSpec(name, bound, activation, per_sample=partial(bound, reduction="none"),
                    check_target=check(**kwargs) if check else None)


class _Bound:
    """A named loss with its arguments; tensor arguments move to the logits' device.

    With `reduction="none"` it gives each example's loss, averaged over any other dims.
    """

    def __init__(self, fn: Callable[..., Tensor], kwargs: dict[str, Any]) -> None:
        self.fn = fn
        self.tensors = {k: torch.as_tensor(v, dtype=torch.float32) for k, v in kwargs.items()
                        if isinstance(v, list | tuple | Tensor)}
        self.kwargs = {k: v for k, v in kwargs.items() if k not in self.tensors}

    def __call__(self, logits: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
        kwargs = self.kwargs
        if self.tensors:
            kwargs = {**kwargs, **{k: v.to(logits.device) for k, v in self.tensors.items()}}
        value = self.fn(logits, target, reduction=reduction, **kwargs)
        return value if reduction == "mean" else value.reshape(logits.shape[0], -1).mean(1)


def resolve_loss(loss: str | LossSpec | LossFn | Mapping[str, Any]) -> LossSpec:
    """A `LossSpec` from a loss name, a config, a `LossSpec`, or a callable `loss(logits, target)`.

    A config is `{name: cross_entropy, label_smoothing: 0.1}` (a named loss and its
    arguments) or `{_target_: ...}` (built by Hydra: a callable, or a `LossSpec`). A
    callable (an `nn.Module`, a function) gets the `identity` activation; wrap it in a
    `LossSpec` to state another.

    Raises:
        LossError: an unknown name, a config that does not build, a loss class instead of an
            instance, or no callable.
    """
    if isinstance(loss, LossSpec):
        return loss
    if isinstance(loss, str):
        return named_loss(loss)
    if isinstance(loss, Mapping):
        return resolve_loss(_from_config(loss))
    if isinstance(loss, type):
        path = f"{loss.__module__}.{loss.__name__}"
        raise LossError(f"loss {loss.__name__} is a class: expected an instance, e.g. "
                        f"{loss.__name__}() (in YAML, {{_target_: {path}}})")
    if callable(loss):
        name = type(loss).__name__ if isinstance(loss, nn.Module) else getattr(
            loss, "__name__", type(loss).__name__)
        return LossSpec(name, loss)
    raise LossError(f"expected a loss name, a LossSpec or a callable loss(logits, target), "
                    f"received {loss!r} ({type(loss).__name__})")


def _from_config(config: Mapping[str, Any]) -> Any:
    if "_target_" in config:
        from hydra.utils import instantiate

        try:
            return instantiate(dict(config), _convert_="all")
        except Exception as err:  # Hydra wraps the target's own error
            raise LossError(f"{{_target_: {config['_target_']}}} did not build: "
                            f"{str(err).strip().splitlines()[0]}") from None
    if "name" in config:
        return named_loss(**config)
    raise LossError(f"a loss config needs `name` (a named loss and its arguments) or "
                    f"`_target_`; received keys {sorted(config)}")


def activation_for(loss: str | LossSpec | LossFn) -> str:
    """The prediction activation of a loss: `softmax`, `sigmoid` or `identity`."""
    return resolve_loss(loss).activation
