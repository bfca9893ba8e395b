"""The check after writing: the exported file's outputs against the eager model's."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from plait.export.errors import ExportError, ExportMismatch


def compare(eager: Mapping[str, np.ndarray], exported: Mapping[str, np.ndarray], *,
            atol: float, rtol: float, where: str) -> float:
    """Check every exported output against the eager one, value by value:
    `|exported - eager| <= atol + rtol * |eager|`. NaN in an eager output fails the check:
    NaN equals nothing, so no value of the file could be checked against it.

    Args:
        eager: output name -> the eager model's values.
        exported: output name -> the exported file's values.
        atol: absolute tolerance.
        rtol: tolerance relative to the eager value.
        where: what was compared, for the message (`onnxruntime on 16 rows of the sample`).

    Returns:
        The largest absolute difference seen.

    Raises:
        ExportError: an eager output that holds NaN, naming the output and where.
        ExportMismatch: an output missing, of another shape, or off by more than the tolerance;
            the message names the output, the difference, the row and the tolerance.
    """
    worst = 0.0
    for name, want in eager.items():
        _without_nan(want, name, where)
        if name not in exported:
            raise ExportMismatch(f"{where}: the exported model has no output '{name}'; it has "
                                 f"{sorted(exported)}")
        have = np.asarray(exported[name])
        if have.shape != want.shape:
            raise ExportMismatch(f"{where}: output '{name}' has shape {have.shape}, the eager "
                                 f"model's {want.shape}")
        close = np.isclose(have, want, atol=atol, rtol=rtol)
        diff = np.abs(have.astype(np.float64) - want.astype(np.float64))
        finite = diff[np.isfinite(diff)]
        worst = max(worst, float(finite.max()) if finite.size else 0.0)
        if not close.all():
            at = tuple(int(i) for i in np.argwhere(~close)[0])  # the first value beyond it
            raise ExportMismatch(
                f"{where}: output '{name}' differs from the eager model's by {float(diff[at]):.3g} "
                f"at index {at} (row {at[0]}); {int((~close).sum())} of {close.size} values lie "
                f"beyond the tolerance |exported - eager| <= {atol:g} + {rtol:g} * |eager|")
    return worst


def _without_nan(values: np.ndarray, name: str, where: str) -> None:
    """Raise an `ExportError` if the eager output `name` holds NaN."""
    nan = np.isnan(values) if np.issubdtype(values.dtype, np.floating) else np.zeros(values.shape, bool)
    if nan.any():
        at = tuple(int(i) for i in np.argwhere(nan)[0])
        raise ExportError(f"{where}: the model's output '{name}' holds NaN ({int(nan.sum())} of "
                          f"{nan.size} values, the first at index {at}, row {at[0]}), so nothing "
                          "can be checked against it; check on inputs where the outputs are finite")
