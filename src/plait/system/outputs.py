"""Each output's loss, weight and metrics: given as a spec's `outputs:` block or Keras-style
(`loss=`, `loss_weights=`, `metrics=`), checked once, here."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from torch import nn

from plait.graph import Graph
from plait.losses import BALANCERS, LossBalancer, LossError, resolve_loss
from plait.losses.per_output import check_weight, per_output
from plait.spec import SpecError

# What an entry of `outputs:` may hold; `node` (which node an output reads) is the graph's.
OUTPUT_KEYS = ("loss", "weight", "metrics", "sample_weight", "node")
_UNSET = object()


def output_configs(output_names: Sequence[str], outputs: Mapping[str, Any] | None = None, *,
                   loss: Any = None, loss_weights: Any = None, metrics: Any = None,
                   where: str = "model.outputs") -> dict[str, dict[str, Any]]:
    """One config per graph output: `{"loss": ..., "weight": float, "metrics": [...]}`.

    Args:
        output_names: the graph's outputs, in order.
        outputs: output name -> `{loss, weight, metrics, sample_weight}`, as in a spec.
        loss: Keras-style: one loss for every output, a dict by name or a list in order.
        loss_weights: Keras-style: one weight, a dict by name (others 1.0) or a list in order.
        metrics: Keras-style: one list for every output, a dict by name or a list of lists.
        where: the config key of `outputs`, for messages.

    Raises:
        LossError: an entry for no output of the graph, an unknown key, an output without
            a loss or with an unknown one, a weight that is not a positive number, or the
            same setting given both ways.
    """
    names = list(output_names)
    configs = {name: dict((outputs or {}).get(name) or {}) for name in names}
    for name in outputs or {}:
        if name not in names:
            raise LossError(f"{where}.{name}: names no output of the graph; its outputs are {names}")
    for key, value, default in (("loss", loss, _UNSET), ("weight", loss_weights, 1.0),
                                ("metrics", metrics, None)):
        if value is not None:
            _merge(configs, key, per_output(_metrics_per_output(value, names) if key == "metrics"
                                            else value, names, _keras_name(key), default=default), where)
    for name, config in configs.items():
        _check_one(config, f"{where}.{name}")
        config.setdefault("weight", 1.0)
    return configs


def _metrics_per_output(metrics: Any, names: list[str]) -> Any:
    """One metric name, or a flat list of them, is the same list for every output, as Keras
    reads it; a dict by name or a list of lists stays as it is."""
    if isinstance(metrics, str):
        metrics = [metrics]
    if isinstance(metrics, Sequence) and all(isinstance(m, str) for m in metrics):
        return {n: list(metrics) for n in names}
    return metrics


def _keras_name(key: str) -> str:
    return {"loss": "loss", "weight": "loss_weights", "metrics": "metrics"}[key]


def _merge(configs: dict[str, dict], key: str, values: list[Any], where: str) -> None:
    for (name, config), value in zip(configs.items(), values):
        if value is _UNSET:
            continue
        if key in config:
            raise LossError(f"{where}.{name}.{key}: given twice, in outputs and as "
                            f"{_keras_name(key)}=; give it once")
        config[key] = value


def _check_one(config: dict[str, Any], where: str) -> None:
    for key in config:
        if key not in OUTPUT_KEYS:
            close = difflib.get_close_matches(str(key), OUTPUT_KEYS, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise LossError(f"{where}.{key}: not a key of an output; {hint}an output takes "
                            f"{list(OUTPUT_KEYS)}")
    if config.get("loss") is None:
        raise LossError(f"{where}: no loss; give it `loss: cross_entropy|binary_cross_entropy|"
                        "mse|...` (or loss= in Python)")
    try:
        resolve_loss(config["loss"])
    except LossError as err:
        raise LossError(f"{where}.loss: {err}") from None
    check_weight(config.get("weight", 1.0), f"{where}.weight")


def balancer_config(value: str | Mapping[str, Any] | type) -> str | dict[str, Any]:
    """`loss_balancing` as plain data, the form a checkpoint records: a name, or a
    `{_target_: ...}` config of a `LossBalancer` (a class becomes its import path).

    Raises:
        LossError: an unknown name, or anything else.
    """
    if isinstance(value, str):
        if value not in BALANCERS:
            raise LossError(f"model.loss_balancing: unknown strategy {value!r}; expected one of "
                            f"{sorted(BALANCERS)} or a {{_target_: ...}} config of a LossBalancer")
        return value
    if isinstance(value, Mapping) and "_target_" in value:
        return dict(value)
    if isinstance(value, type) and issubclass(value, LossBalancer):
        return {"_target_": f"{value.__module__}.{value.__qualname__}"}
    raise LossError(f"model.loss_balancing: expected one of {sorted(BALANCERS)}, a {{_target_: ...}} "
                    f"config or a LossBalancer class, received {value!r}")


def balancer(config: str | Mapping[str, Any]) -> str | Callable[..., LossBalancer]:
    """What `MultiOutputLoss` takes: the name, or a factory `f(output_names, weights)`."""
    if isinstance(config, str):
        return config
    from hydra.utils import instantiate

    try:
        return instantiate({**config, "_partial_": True})
    except Exception as err:  # Hydra wraps a missing target or a bad argument
        raise LossError(f"model.loss_balancing: {{_target_: {config['_target_']}}} did not build: "
                        f"{str(err).strip().splitlines()[0]}") from None


def describe_outputs(graph_outputs: Any, configs: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The `outputs:` of a checkpoint's spec: each output's config, with the node it reads
    where the graph's own spec names one. Every value must be plain data.

    Raises:
        LossError: a loss or metric given as a Python object, which a checkpoint cannot hold.
    """
    nodes = graph_outputs if isinstance(graph_outputs, Mapping) else {}
    described = {}
    for name, config in configs.items():
        for key, value in config.items():
            if not _plain(value):
                raise LossError(f"model.outputs.{name}.{key}: {value!r} is a Python object, which a "
                                "checkpoint cannot hold; give a name, {name: ..., <argument>: ...} or "
                                "{_target_: ...} instead")
        described[name] = {**(nodes.get(name) or {}), **config}
    return described


def _plain(value: Any) -> bool:
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, str | int | float | bool)


def shared_parameters(graph: Graph) -> list[nn.Parameter]:
    """The last shared layer's parameters, where GradNorm measures each output's gradient:
    inside the last node (in graph order) that every output depends on, the last layer with
    a weight matrix or kernel.

    Raises:
        SpecError: no parameterised node is shared by all outputs (GradNorm needs one).
    """
    for node in reversed(graph.nodes_feeding_every_output()):
        layers = [[p for p in m.parameters(recurse=False) if p.requires_grad] for m in node.module.modules()]
        layers = [params for params in layers if any(p.dim() >= 2 for p in params)]
        if layers:
            return layers[-1]
    raise SpecError("model.loss_balancing: gradnorm needs a layer with trainable parameters that "
                    f"feeds every output {graph.output_names}; this graph has none")
