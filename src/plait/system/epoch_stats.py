"""A stage's epoch values: each loss averaged over examples and each output's metrics, fed a
step at a time on the device and computed once, when the epoch ends."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import groupby
from typing import Any

import torch
import torchmetrics as tm
from torch import Tensor, nn

# A metric update costs about as much for one batch as for sixteen, and on a small model
# more than the training step itself; so predictions wait, and the metrics see them in one
# update every FLUSH_STEPS steps, or sooner once they hold FLUSH_ELEMENTS numbers.
FLUSH_STEPS = 16
FLUSH_ELEMENTS = 1 << 22

Prepare = Callable[[str, Tensor, Tensor], tuple[Tensor, Tensor]]


class EpochScores(nn.Module):
    """Each loss (the total first, then every output's) times its batch size, summed in place,
    and each output's metrics, updated with the predictions of several steps at once.

    The metric states are not in checkpoints: an epoch resumed mid-way reports metrics of the
    steps after the resumption. Its loss sums can be (`partial`, `resume`), so that its mean
    losses, which a balancer learns from, are the whole epoch's. The sums are float32 whatever
    the model's precision, and no registered buffer: DDP would overwrite every rank's with
    rank 0's before each step.

    Args:
        output_names: the graph's outputs, in order.
        metrics: each output's metric collection (empty for an output without metrics),
            whose prefix names its values.
        prepare: `(output, logits, target) -> (prediction, target)` as the metrics take them.
        stage: the prefix of the loss values (`train` gives `train/loss`, `train/<output>/loss`).
    """

    def __init__(self, output_names: list[str], metrics: Mapping[str, tm.MetricCollection],
                 prepare: Prepare, stage: str) -> None:
        super().__init__()
        self.output_names = list(output_names)
        self.metrics = nn.ModuleDict({f"out_{n}": metrics[n] for n in output_names})
        self._measured = [n for n in output_names if len(metrics[n])]
        self._prepare = prepare
        self._keys = [f"{stage}/loss", *(f"{stage}/{n}/loss" for n in output_names)]
        self.sums: Tensor | None = None  # on the losses' device, from the first step
        self.examples = 0
        self._pending: list[tuple[dict[str, Tensor], dict[str, Tensor]]] = []
        self._held = 0

    def names(self) -> list[str]:
        """The names of the values `compute` gives: the losses', then each output's metrics'."""
        return [*self._keys, *(k for n in self._measured for k in self.metrics[f"out_{n}"].keys(keep_base=False))]

    def update(self, losses: Sequence[Tensor], size: int, logits: Mapping[str, Tensor],
               targets: Mapping[str, Tensor]) -> None:
        """Add one step: its losses (the total, then each output's), means over `size`
        examples; its logits and targets for the metrics."""
        with torch.no_grad():
            step_losses = torch.stack(losses).float()
            if self.sums is None:
                self.sums = torch.zeros_like(step_losses)
            elif self.sums.device != step_losses.device:  # resumed from a checkpoint's sums
                self.sums = self.sums.to(step_losses.device)
            self.sums.add_(step_losses, alpha=size)
        self.examples += size
        if not self._measured:
            return
        # copies: a compiled graph's outputs may be overwritten by its next run (CUDA graphs)
        step = {n: logits[n].detach().clone() for n in self._measured}
        self._pending.append((step, {n: targets[n] for n in self._measured}))
        self._held += sum(v.numel() for v in step.values())
        if len(self._pending) >= FLUSH_STEPS or self._held >= FLUSH_ELEMENTS:
            self.flush()

    def partial(self) -> dict[str, Any] | None:
        """The loss sums and example count of an epoch under way (None between epochs)."""
        return None if self.sums is None else {"sums": self.sums.detach().cpu(), "examples": self.examples}

    def resume(self, state: Mapping[str, Any]) -> None:
        """Continue an epoch from `partial`'s sums."""
        self.sums, self.examples = state["sums"].clone(), int(state["examples"])

    def flush(self) -> None:
        """Hand the waiting predictions to the metrics: consecutive steps of equal shapes in
        one update (sequence outputs padded per batch differ)."""
        with torch.no_grad():
            for name in self._measured:
                pairs = [(logits[name], targets[name]) for logits, targets in self._pending]
                for _, run in groupby(pairs, key=lambda p: (p[0].shape[1:], p[1].shape[1:])):
                    logits, targets = zip(*run)
                    # float32 logits, in or out of autocast: the last flush runs after the step
                    prepared = self._prepare(name, torch.cat(logits).float(), torch.cat(targets))
                    self.metrics[f"out_{name}"].update(*prepared)
        self._pending, self._held = [], 0

    def compute(self, reduce: Callable[[Tensor], Tensor] | None = None) -> dict[str, Tensor] | None:
        """The epoch's values by their logged keys, summed over ranks by `reduce` first (the
        metrics sync themselves); None after no step (on every rank alike: ranks train and
        validate as many batches). Starts the next epoch afresh."""
        self.flush()
        if self.sums is None:
            return None
        totals = torch.cat([self.sums, self.sums.new_tensor([self.examples])])
        if reduce is not None:
            totals = reduce(totals)
        self.sums, self.examples = None, 0
        values = dict(zip(self._keys, totals[:-1] / totals[-1]))
        for name in self._measured:
            collection = self.metrics[f"out_{name}"]
            values.update(collection.compute())
            collection.reset()
        return values
