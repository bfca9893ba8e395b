"""How LSTM and GRU reach an exporter with their sequence length left dynamic.

torch traces `aten.lstm` / `aten.gru` through a decomposition with one Python step per time
step, which fixes the length. The ONNX exporter keeps the ops whole (ONNX has `LSTM` and
`GRU`), and torch.export can trace them as a `while_loop` over the steps instead (torch's
own patch, torch 2.13 being pinned). A kernel that an earlier trace left in an op's
dispatch cache would override either, so both start from cleared caches.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch.export._patches import (
    register_gru_while_loop_decomposition,
    register_lstm_while_loop_decomposition,
)


def _clear_dispatch_caches() -> None:
    for op in (torch.ops.aten.lstm.input, torch.ops.aten.gru.input):
        op._dispatch_cache.clear()


@contextlib.contextmanager
def fresh_recurrent_ops() -> Iterator[None]:
    """LSTM and GRU dispatched afresh inside, and left for the next trace to do the same."""
    _clear_dispatch_caches()
    try:
        yield
    finally:
        _clear_dispatch_caches()


@contextlib.contextmanager
def recurrent_as_while_loops() -> Iterator[None]:
    """LSTM and GRU traced as `while_loop`s over the steps (for torch.export)."""
    with fresh_recurrent_ops(), register_lstm_while_loop_decomposition(), \
            register_gru_while_loop_decomposition():
        yield
