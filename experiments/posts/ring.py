"""The eighth round's hour loss (README): cross-entropy against a target that keeps
1 - 2 eps on the tweet's own hour bucket and puts eps on each neighbouring bucket, around
the clock. Used as `PYTHONPATH=experiments/posts python train.py ... 'model.outputs.hour.loss=
{_target_:plait.losses.LossSpec,name:ring,activation:softmax,fn:{_target_:ring.RingSmoothing,eps:0.2}}'`."""

import torch.nn.functional as F
from torch import Tensor, nn


class RingSmoothing(nn.Module):
    def __init__(self, eps: float = 0.1) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        k = logits.shape[-1]
        soft = (1 - 2 * self.eps) * F.one_hot(target, k) + self.eps * (
            F.one_hot((target + 1) % k, k) + F.one_hot((target - 1) % k, k))
        return -(soft * F.log_softmax(logits, -1)).sum(-1).mean()
