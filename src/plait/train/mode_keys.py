"""The keys a mode's own config adds to the run config (`table` in `conf/predict.yaml`,
`format` in `conf/export.yaml`), checked with the rest."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from omegaconf import DictConfig, OmegaConf

from plait.train.keys import check_keys


def check_mode_keys(cfg: DictConfig, own: Mapping[str, Any]) -> dict[str, Any]:
    """Check `cfg` as `check_keys` does, allowing the mode's keys `own` at the top level.

    Args:
        cfg: the composed config.
        own: the mode's keys and their defaults, for a config composed without them
            (`python train.py mode=predict` reads `conf/train.yaml`, not `conf/predict.yaml`).

    Returns:
        The mode's settings: `own`, with the values `cfg` gives.

    Raises:
        ConfigError: a key nothing reads, named with the closest known ones.
    """
    check_keys(OmegaConf.masked_copy(cfg, [key for key in cfg if key not in own]))
    return {key: cfg.get(key, default) for key, default in own.items()}
