"""A block whose two branches take turns: in each training step one of them gets no gradient."""

import torch
from torch import nn


class TakingTurns(nn.Module):
    """`(B, F) -> (B, F)` through branch `step % 2`, the other branch unused that step."""

    def __init__(self, features: int) -> None:
        super().__init__()
        self.branches = nn.ModuleList([nn.Linear(features, features), nn.Linear(features, features)])
        self.steps = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            self.steps += 1
        return torch.relu(self.branches[self.steps % 2](x))
