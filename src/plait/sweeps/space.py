"""The search space of an Optuna sweep, written in Hydra's override syntax.

`model.outputs.age.weight=tag(log, interval(0.1, 10))` on the command line or in
`hydra.sweeper.params` becomes a log-uniform Optuna distribution; `a=1,2,3` or
`choice(...)` a categorical one; anything that is not a sweep is passed to every trial
unchanged. `hydra.sweeper.weights: {low, high}` adds every output's weight that is not
searched already, log-uniform in [low, high].
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import (
    ChoiceSweep,
    IntervalSweep,
    Override,
    RangeSweep,
    Transformer,
)
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from plait.train.errors import ConfigError

WEIGHT_KEY = re.compile(r"^model\.outputs\.(?P<output>[^.]+)\.weight$")
PARAMS = "hydra.sweeper.params"
WEIGHTS = "hydra.sweeper.weights"


@dataclass
class SearchSpace:
    """What an Optuna trial samples, and what every trial gets as it is.

    Attributes:
        distributions: Optuna distribution by config key (`model.outputs.age.weight`).
        prefixes: the override prefix (`+`, `++` or none) of each searched key.
        fixed: overrides passed to every trial unchanged (`experiment=posts`).
    """

    distributions: dict[str, BaseDistribution] = field(default_factory=dict)
    prefixes: dict[str, str] = field(default_factory=dict)
    fixed: list[str] = field(default_factory=list)

    def overrides(self, params: Mapping[str, Any]) -> list[str]:
        """One trial's overrides: the fixed ones, then a `key=value` per sampled value."""
        return [*self.fixed, *(f"{self.prefixes.get(k, '')}{k}={override_value(v)}"
                               for k, v in params.items())]

    @property
    def weight_keys(self) -> list[str]:
        return [key for key in self.distributions if WEIGHT_KEY.match(key)]


def build_space(arguments: Sequence[str], params: Mapping[str, Any] | None,
                weights: Mapping[str, Any] | None, outputs: Sequence[str]) -> SearchSpace:
    """The search space from the command line, `hydra.sweeper.params` and `.weights`.

    Args:
        arguments: the command line's task overrides.
        params: `hydra.sweeper.params`: config key -> override value (nested keys are joined).
        weights: `hydra.sweeper.weights`, `{low, high}`, or None to add no weights.
        outputs: the model's output names (`model.outputs`).

    Raises:
        ConfigError: a weight of an output the model does not have, a weight or range that
            is not positive, a range that is empty, a sweep Optuna cannot sample.
    """
    parser = OverridesParser.create()
    given = [(f"{PARAMS}.{k}", f"{k}={v}") for k, v in flatten(params or {}).items()]
    given += [(None, line) for line in arguments]
    space = SearchSpace()
    fixed: dict[str, str] = {}  # key -> the line that fixes it
    for origin, line in given:
        override = parser.parse_override(line)
        key = override.key_or_group
        where = origin or key
        _check_weight_key(key, where, outputs)
        if override.is_sweep_override():
            element = override.get_key_element()  # `+key`, `group@package`, ...
            name = element.lstrip("+")
            space.distributions[name] = _checked(distribution(override, where), key, where)
            space.prefixes[name] = element[: len(element) - len(name)]
        else:
            if WEIGHT_KEY.match(key) and not override.is_delete():
                _check_positive(override.value(), where)
            space.fixed.append(override.input_line)
            fixed[key] = override.input_line
    both = sorted(set(space.distributions) & set(fixed))
    if both:
        raise ConfigError(f"{both[0]}: both searched (a range in hydra.sweeper.params or on the command "
                          f"line) and fixed ({fixed[both[0]]}); the sampled value would win over the fixed "
                          "one. Give it one or the other")
    _add_weights(space, weights, outputs)
    return space


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """`{model: {outputs: {age: {weight: v}}}}` and `{model.outputs.age.weight: v}` alike,
    as dotted keys."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def distribution(override: Override, where: str) -> BaseDistribution:
    """The Optuna distribution of a Hydra sweep: `interval` (with `tag(log, ...)` or
    `tag(int, ...)`), `choice`/`a,b,c` and `range` (both categorical)."""
    value = override.value()
    if isinstance(value, IntervalSweep):
        try:
            if "int" in value.tags:
                return IntDistribution(int(value.start), int(value.end), log="log" in value.tags)
            return FloatDistribution(value.start, value.end, log="log" in value.tags)
        except ValueError as err:
            raise ConfigError(f"{where}: {override.input_line!r} is no range Optuna can "
                              f"sample: {err}") from None
    if isinstance(value, ChoiceSweep | RangeSweep):
        choices = override.sweep_iterator(Transformer.identity)
        return CategoricalDistribution([_as_choice(c) for c in choices])
    raise ConfigError(f"{where}: {override.input_line!r}: expected interval(...), "
                      "choice(...), a,b,c or range(...)")


def _as_choice(value: Any) -> Any:
    """A choice as Optuna can hold it: a list or dict as its override text (`[128,64]`),
    which `override_value` passes on as it is."""
    if isinstance(value, list | tuple):
        return "[" + ",".join(override_value(_as_choice(v)) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{override_value(_as_choice(v))}" for k, v in value.items()) + "}"
    return value


def override_value(value: Any) -> str:
    """A sampled value as Hydra override text."""
    if value is None:
        return "null"
    if isinstance(value, str) and re.fullmatch(r"\[.*\]|\{.*\}", value):
        return value  # a list or dict choice, written by `_as_choice`
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    if re.fullmatch(r"[\w\-./]+", text):
        return text
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _check_weight_key(key: str, where: str, outputs: Sequence[str]) -> None:
    match = re.match(r"^model\.outputs\.([^.]+)\.", key)
    if match and match.group(1) not in outputs:
        raise ConfigError(f"{where}: {match.group(1)!r} names no output of the model; its "
                          f"outputs are {list(outputs)}")


def _checked(dist: BaseDistribution, key: str, where: str) -> BaseDistribution:
    if WEIGHT_KEY.match(key):
        if isinstance(dist, CategoricalDistribution):
            for choice in dist.choices:
                _check_positive(choice, where)
        else:
            _check_positive(dist.low, where)
    return dist


def _check_positive(value: Any, where: str) -> None:
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if number is None or not math.isfinite(number) or number <= 0:
        raise ConfigError(f"{where}: a loss weight must be a positive number, received "
                          f"{value!r}; a zero weight stops training the output and a "
                          "negative one trains it backwards")


def _add_weights(space: SearchSpace, weights: Mapping[str, Any] | None,
                 outputs: Iterable[str]) -> None:
    if weights is None:
        return
    unknown = sorted(set(weights) - {"low", "high"})
    if unknown:
        raise ConfigError(f"{WEIGHTS}.{unknown[0]}: unknown key; expected low and high")
    low, high = weights.get("low"), weights.get("high")
    _check_positive(low, f"{WEIGHTS}.low")
    _check_positive(high, f"{WEIGHTS}.high")
    if high <= low:
        raise ConfigError(f"{WEIGHTS}: high ({high}) must be above low ({low})")
    given = {line.split("=", 1)[0].lstrip("+~") for line in space.fixed}
    for name in outputs:
        key = f"model.outputs.{name}.weight"
        if key not in space.distributions and key not in given:
            space.distributions[key] = FloatDistribution(float(low), float(high), log=True)
