"""Every key of a composed config is one that something reads: a misspelt key is refused with
the closest known one, never ignored."""

from __future__ import annotations

import difflib
import inspect
import typing
from collections.abc import Iterable, Mapping
from typing import Any

from omegaconf import DictConfig

from plait.spec.instantiate import locate
from plait.train.errors import ConfigError

# The keys of conf/train.yaml and its config groups (tests/train/test_keys.py keeps them in step).
TOP_LEVEL = ("task_name", "mode", "seed", "ckpt_path", "resume", "test", "optimized_metric",
             "optimized_mode", "data", "model", "trainer", "logger", "callbacks", "paths", "hydra")
PATHS = ("root_dir", "data_dir", "log_dir", "output_dir")
RESUME = (None, "auto")
# Keys Hydra's instantiate reads itself.
HYDRA_KEYS = {"_target_", "_partial_", "_convert_", "_recursive_", "_args_"}


def check_keys(cfg: DictConfig) -> None:
    """Refuse keys nothing reads: at the top level, under `paths`, and every argument of the
    `_target_`s built from `data`, `trainer`, `logger.*`, `callbacks.*` and the model's
    optimizer and scheduler.

    Raises:
        ConfigError: naming the key, with the closest known ones.
    """
    refuse_unknown(cfg.keys(), TOP_LEVEL, "", "a key of the run config (conf/train.yaml)")
    refuse_unknown((cfg.get("paths") or {}).keys(), PATHS, "paths.", "a key of paths")
    if cfg.get("resume") not in RESUME:
        raise ConfigError(f"resume: expected null or auto, received {cfg.get('resume')!r}")
    test = cfg.get("test")
    if not (isinstance(test, bool) or test in ("best", "last")):  # 1 == True: not a choice
        raise ConfigError(f"test: expected true (the best checkpoint), best, last (the weights "
                          f"training ended with) or false, received {test!r}")
    targets = [("data", cfg.get("data")), ("trainer", cfg.get("trainer"))]
    for group in ("logger", "callbacks"):
        targets += [(f"{group}.{name}", conf) for name, conf in (cfg.get(group) or {}).items()]
    model = cfg.get("model") or {}
    targets += [(f"model.{name}", model.get(name)) for name in ("optimizer", "scheduler", "graph")]
    for key, conf in targets:
        if isinstance(conf, Mapping) and "_target_" in conf:
            check_arguments(conf, key)


def check_arguments(conf: Mapping[str, Any], key: str) -> None:
    """Check a `_target_` config names only arguments its target takes, and gives a number
    where the argument's default is one.

    Raises:
        ConfigError: an unknown argument (with the closest ones), or text for a number.
    """
    target = locate(str(conf["_target_"]), f"{key}._target_")
    try:
        params = inspect.signature(target).parameters
    except (TypeError, ValueError):  # a builtin without a signature: nothing to check
        return
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return  # takes any keyword
    given = [k for k in conf if k not in HYDRA_KEYS]
    refuse_unknown(given, list(params), f"{key}.", f"an argument of {conf['_target_']}")
    hints = _type_hints(target)
    for name in given:
        value = conf[name]
        if isinstance(value, str) and _takes_number(params[name], hints.get(name)):
            raise ConfigError(f"{key}.{name}: expected a number, received {value!r}")


def refuse_unknown(given: Iterable[str], known: Iterable[str], prefix: str, what: str) -> None:
    """Raise for the first key of `given` not in `known` ("`prefix``key`: not `what`"),
    naming the closest known keys."""
    known = list(known)
    for name in given:
        if name not in known:
            close = difflib.get_close_matches(str(name), known, n=3)
            hint = f"did you mean {' or '.join(close)}?" if close else f"known keys: {sorted(known)}"
            raise ConfigError(f"{prefix}{name}: not {what}; {hint}")


def _type_hints(target: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(target.__init__ if inspect.isclass(target) else target)
    except Exception:  # unresolvable annotations: judge by defaults alone
        return {}


def _takes_number(param: inspect.Parameter, hint: Any) -> bool:
    """Whether an argument takes only numbers: by its default, else by its type hint
    (`int`, `float`, `Optional[int]`, `int | float`, ...)."""
    if isinstance(param.default, (int, float)) and not isinstance(param.default, bool):
        return True
    kinds = set(typing.get_args(hint)) if typing.get_args(hint) else {hint}
    return bool(kinds - {type(None)}) and kinds - {type(None)} <= {int, float}
