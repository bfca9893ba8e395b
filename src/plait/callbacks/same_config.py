"""A check that every rank of a multi-process run trains with the same config."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import lightning as L
import torch

from plait.callbacks.between_steps import BetweenSteps

# Keys that name where a rank writes, which may differ between nodes without harm.
_WHERE = ("paths", "logger", "callbacks", "hydra")


def config_digest(config: Mapping[str, Any]) -> str:
    """A short hash of the resolved config, less the keys that only say where files go."""
    kept = {k: v for k, v in config.items() if k not in _WHERE}
    if isinstance(kept.get("trainer"), Mapping):
        kept["trainer"] = {k: v for k, v in kept["trainer"].items() if k != "default_root_dir"}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, default=str).encode()).hexdigest()[:16]


class SameConfigOnEveryRank(BetweenSteps):
    """Compares the ranks' config digests before training; a difference stops the run.

    Args:
        config: the resolved config this rank trains with.
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.digest = config_digest(config)

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if trainer.world_size == 1:
            return
        mine = torch.tensor(list(bytes.fromhex(self.digest)), dtype=torch.long, device=pl_module.device)
        everyone = trainer.strategy.all_gather(mine).reshape(trainer.world_size, -1)
        digests = [bytes(row.tolist()).hex() for row in everyone.cpu()]
        if len(set(digests)) > 1:
            raise RuntimeError(f"ranks disagree on the config (digest per rank: {digests}); every "
                               "rank must train with the same resolved config")
