"""The base of plait's callbacks: none has anything to do inside a training step."""

from __future__ import annotations

import lightning as L


class BetweenSteps(L.Callback):
    """A Lightning callback that sits out the hooks of every training step.

    Lightning calls each callback's step hooks at every step, each through a profiler
    context, a few microseconds apiece, unless the hook is not callable: these are None here.
    On a small model the six of them, for four callbacks, cost more than its optimizer step.
    """

    on_train_batch_start = None
    on_before_backward = None
    on_after_backward = None
    on_before_optimizer_step = None
    on_before_zero_grad = None
    on_train_batch_end = None
