"""Long stages (rasterising, filling, rendering, fitting) let the host show progress and stop them.

The library calls :func:`checkpoint` inside its loops and walks the views of a long stage with :func:`steps`;
a host installs what these do with :func:`install` (ComfyUI: its interrupt check and progress bar). Without a
host they do nothing.
"""
from __future__ import annotations

from typing import Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")
_interrupt: Callable[[], None] | None = None
_progress: Callable[[int, int], None] | None = None


def install(interrupt: Callable[[], None] | None, progress: Callable[[int, int], None] | None = None) -> None:
    """``interrupt()`` raises to stop the work; ``progress(done, total)`` shows how far a stage is."""
    global _interrupt, _progress
    _interrupt, _progress = interrupt, progress


def checkpoint() -> None:
    """Stop here if the host asked to (its ``interrupt`` raises)."""
    if _interrupt is not None:
        _interrupt()


def steps(items: Iterable[T], total: int | None = None) -> Iterator[T]:
    """``items`` one by one, checking for a stop before each and reporting how many are done."""
    total = len(items) if total is None else total
    for done, item in enumerate(items):
        checkpoint()
        if _progress is not None:
            _progress(done, total)
        yield item
    if _progress is not None:
        _progress(total, total)
