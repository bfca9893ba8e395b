"""The check after writing: the exported file's outputs against the eager model's."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from plait.export.errors import ExportMismatch


def compare(eager: Mapping[str, np.ndarray], exported: Mapping[str, np.ndarray], *,
            atol: float, rtol: float, where: str) -> float:
    """Check every exported output against the eager one, value by value:
    `|exported - eager| <= atol + rtol * |eager|` (NaN only where eager has NaN).

    Args:
        eager: output name -> the eager model's values.
        exported: output name -> the exported file's values.
        atol: absolute tolerance.
        rtol: tolerance relative to the eager value.
        where: what was compared, for the message (`onnxruntime on 16 rows of the sample`).

    Returns:
        The largest absolute difference seen.

    Raises:
        ExportMismatch: an output missing, of another shape, or off by more than the tolerance;
            the message names the output, the difference, the row and the tolerance.
    """
    worst = 0.0
    for name, want in eager.items():
        if name not in exported:
            raise ExportMismatch(f"{where}: the exported model has no output '{name}'; it has "
                                 f"{sorted(exported)}")
        have = np.asarray(exported[name])
        if have.shape != want.shape:
            raise ExportMismatch(f"{where}: output '{name}' has shape {have.shape}, the eager "
                                 f"model's {want.shape}")
        close = np.isclose(have, want, atol=atol, rtol=rtol, equal_nan=True)
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
