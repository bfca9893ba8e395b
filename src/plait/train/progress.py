"""Progress through a long loop: a bar on a terminal, a line every few seconds in a log."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
EVERY_S = 10.0  # seconds between lines in a log


def progress(items: Iterable[T], total: int | None, what: str, *, every_s: float = EVERY_S) -> Iterator[T]:
    """Yield `items`, showing how far along they are: a tqdm bar when stdout is a terminal,
    else one log line every `every_s` seconds (none for a loop that ends sooner).

    Args:
        items: the loop, e.g. a data loader.
        total: how many items there are, if known.
        what: what one item is, e.g. `batch`.
        every_s: seconds between log lines.
    """
    if sys.stdout.isatty():
        from tqdm import tqdm

        yield from tqdm(items, total=total, unit=what, leave=False)
        return
    start = last = time.monotonic()
    for done, item in enumerate(items, start=1):
        yield item
        now = time.monotonic()
        if now - last >= every_s:
            last = now
            of = f" of {total} ({100 * done / total:.0f}%)" if total else ""
            log.info("%s %d%s, %.0f s", what, done, of, now - start)
