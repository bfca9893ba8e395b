"""The Optuna study of a sweep: where it lives, which way it optimises, what it aims at."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import optuna
from hydra.utils import instantiate

from plait.sweeps.space import SearchSpace
from plait.train.errors import ConfigError

log = logging.getLogger(__name__)

DIRECTIONS = {"min": "minimize", "minimize": "minimize", "max": "maximize", "maximize": "maximize"}
# `<stage>/loss` is the weighted sum of the output losses (plus a balancer's own terms).
WEIGHTED_TOTAL = re.compile(r"^(train|val|test)/loss(_epoch)?$")
DB_NAME = "optuna.db"


def direction(value: Any) -> str:
    """Optuna's direction from `min`/`max` (plait's `optimized_mode`) or its own words."""
    if value not in DIRECTIONS:
        raise ConfigError(f"hydra.sweeper.direction: expected min or max (it follows "
                          f"optimized_mode), received {value!r}")
    return DIRECTIONS[value]


def check_objective(metric: Any, space: SearchSpace) -> None:
    """The objective must exist, and must not be the weighted total when weights are searched.

    Raises:
        ConfigError: `optimized_metric` is null, or is `<stage>/loss` while loss weights are
            searched: that total shrinks with the weights, so the search would only learn
            to pick the smallest weights.
    """
    if metric is None:
        raise ConfigError("optimized_metric: null; an Optuna sweep needs a metric to optimise")
    if space.weight_keys and WEIGHTED_TOTAL.match(str(metric)):
        raise ConfigError(
            f"optimized_metric: {metric} is the weighted sum of the output losses, which a "
            f"search over {space.weight_keys} would minimise by shrinking the weights; "
            "optimise a metric the weights do not scale, e.g. optimized_metric=val/<output>/acc "
            "optimized_mode=max (or val/<output>/loss, min)")


def storage_url(storage: str | None, sweep_dir: Path) -> str:
    """`hydra.sweeper.storage`, or SQLite in the sweep folder when it is null."""
    return f"sqlite:///{Path(sweep_dir).resolve() / DB_NAME}" if storage is None else str(storage)


def open_study(settings: Mapping[str, Any], storage: str, objective_direction: str,
               metric: str) -> optuna.Study:
    """Create the study, or load it to continue (`load_if_exists`).

    The sampler's `seed` is moved on by the number of trials the study has already, so a
    resumed sweep does not draw the same random starting points again.

    Raises:
        ConfigError: the stored study optimises the other way, or another metric: its
            trials' values could not be ranked with this sweep's.
    """
    name = settings["study_name"]
    known = len(_existing(name, storage).trials) if _exists(name, storage) else 0
    sampler = _sampler(settings.get("sampler"), known)
    pruner = instantiate(settings["pruner"]) if settings.get("pruner") else None
    study = optuna.create_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner,
                                direction=objective_direction, load_if_exists=True)
    if study.direction.name.lower() != objective_direction:
        raise ConfigError(f"hydra.sweeper.direction: study {name!r} in {storage} was created to "
                          f"{study.direction.name.lower()}, this sweep would {objective_direction}; "
                          "choose another hydra.sweeper.study_name")
    stored = study.user_attrs.get("optimized_metric")
    if stored is not None and stored != metric:
        raise ConfigError(f"optimized_metric: study {name!r} in {storage} optimises {stored!r}, this sweep "
                          f"would optimise {metric!r}, and the values of the two cannot be ranked together; "
                          "choose another hydra.sweeper.study_name")
    if stored is None:  # a new study (or one from before the metric was kept)
        study.set_user_attr("optimized_metric", metric)
    if known:
        log.info("continuing study %r (%d trials so far) in %s", name, known, storage)
    return study


def enqueue(study: optuna.Study, entries: Any, space: SearchSpace) -> None:
    """Queue trials to run first (`hydra.sweeper.enqueue`: a list of `{key: value}`), once.

    Raises:
        ConfigError: an entry names a key the sweep does not search.
    """
    for i, entry in enumerate(entries or []):
        unknown = sorted(set(entry) - set(space.distributions))
        if unknown:
            raise ConfigError(f"hydra.sweeper.enqueue[{i}]: {unknown[0]!r} is not searched; "
                              f"the sweep searches {sorted(space.distributions)}")
        study.enqueue_trial(dict(entry), skip_if_exists=True)


def _exists(name: str, storage: str) -> bool:
    if storage.startswith("sqlite:///") and not Path(storage.removeprefix("sqlite:///")).exists():
        return False
    return name in optuna.study.get_all_study_names(storage)


def _existing(name: str, storage: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=storage)


def _sampler(config: Any, known: int) -> optuna.samplers.BaseSampler | None:
    if not config:
        return None
    seed = config.get("seed")
    return instantiate(config, **({"seed": seed + known} if seed is not None and known else {}))
