"""Errors a user fixes in the config, and how the entry point reports them."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

from hydra.errors import InstantiationException
from lightning.pytorch.utilities.exceptions import SIGTERMException
from omegaconf.errors import OmegaConfBaseException

from plait.graph import GraphError
from plait.losses import LossError
from plait.system import CheckpointError


class ConfigError(ValueError):
    """A run config that cannot work: the message names the config key."""


def _data_error() -> type[Exception]:
    try:
        from plait.data.base import DataError
    except ImportError:  # pragma: no cover - plait.data is always installed with plait
        return ConfigError
    return DataError


# What a user's config can get wrong; anything else is a bug and keeps its traceback.
class RankError(RuntimeError):
    """A rank of a multi-process run failed; the message names it and its exit code."""


USER_ERRORS: tuple[type[Exception], ...] = (
    ConfigError, GraphError, LossError, _data_error(), InstantiationException,
    OmegaConfBaseException, RankError, CheckpointError,
)


def message(err: BaseException) -> str:
    """One readable message for a user error.

    Hydra wraps errors raised in a `_target_`'s constructor; where the wrapped error is
    plait's own, its message (which names the key) is the clearer one.
    """
    cause = err.__cause__
    if isinstance(err, InstantiationException) and isinstance(cause, USER_ERRORS):
        return f"{message(cause)} (while building: {str(err).splitlines()[0]})"
    if isinstance(err, OmegaConfBaseException) and getattr(err, "full_key", None):
        first = str(err).strip().splitlines()[0]  # OmegaConf appends full_key, object_type lines
        return f"{err.full_key}: {first}"
    return str(err).strip()


@contextlib.contextmanager
def sigterm_fails() -> Iterator[None]:
    """Exit with code 143 when SIGTERM stops a fit or test inside the block.

    Lightning ends a loop stopped by SIGTERM with `SIGTERMException`, a `SystemExit` of
    code 0; a stopped run has not succeeded, and a scheduler, a sweep and a job script must
    see that.
    """
    try:
        yield
    except SIGTERMException:
        raise SystemExit(128 + signal.SIGTERM) from None
