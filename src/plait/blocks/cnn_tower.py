"""`CNNTower`: a 2D conv/pool stack that turns an image into one vector."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from plait.blocks.base import Block, known_size
from plait.graph import TensorSpec

_POOLS = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}


class CNNTower(Block):
    """Stages of `convs_per_stage x (Conv2d [+ BatchNorm] + ReLU)`, each ending in a 2x2 pool.

    After the last stage, a global average pool (or a flatten) makes the vector.

    Args:
        channels: output channels of each stage.
        kernel_size: kernel size of every convolution.
        convs_per_stage: convolutions in each stage.
        padding: `"same"` (keeps H and W) or `"valid"`, for every convolution.
        batch_norm: batch norm after each convolution, which then has no bias.
        pool: `"max"`, `"avg"` or None (no pooling between stages).
        global_pool: average over H and W at the end; if False, flatten.
        dropout: dropout on the output vector.

    Shape:
        `(B, C, H, W) -> (B, channels[-1])`, or `(B, channels[-1] * H' * W')` when
        `global_pool=False`.
    """

    def __init__(self, channels: Sequence[int] = (32, 64, 128), *, kernel_size: int = 3,
                 convs_per_stage: int = 1, padding: str = "same", batch_norm: bool = False,
                 pool: str | None = "max", global_pool: bool = True, dropout: float = 0.0) -> None:
        super().__init__()
        if pool is not None and pool not in _POOLS:
            raise ValueError(f"CNNTower pool must be None or one of {sorted(_POOLS)}; received {pool!r}")
        self.channels = tuple(channels)
        self.kernel_size = kernel_size
        self.convs_per_stage = convs_per_stage
        self.padding = padding
        self.batch_norm = batch_norm
        self.pool = pool
        self.global_pool = global_pool
        self.dropout = nn.Dropout(dropout)

    def build(self, spec: TensorSpec) -> None:
        if len(spec.shape) != 3:
            raise ValueError(f"CNNTower expects images (B, C, H, W), channels first; received {spec}")
        size = known_size(spec, 0, self, "channel count")
        layers: list[nn.Module] = []
        for out in self.channels:
            for _ in range(self.convs_per_stage):
                layers.append(nn.Conv2d(size, out, self.kernel_size, padding=self.padding,
                                        bias=not self.batch_norm))
                if self.batch_norm:
                    layers.append(nn.BatchNorm2d(out))
                layers.append(nn.ReLU())
                size = out
            if self.pool is not None:
                layers.append(_POOLS[self.pool](2))
        self.stages = nn.Sequential(*layers)
        self.built = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stages(x)  # (B, C, H, W) -> (B, D, H', W')
        x = x.mean(dim=(2, 3)) if self.global_pool else x.flatten(1)  # (B, D) or (B, D*H'*W')
        return self.dropout(x)
