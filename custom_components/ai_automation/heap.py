"""Freed memory handed back to the operating system after each day of a big read.

The compact history's back-fill reads the recorder a day at a time, in the recorder's
executor threads. With glibc each thread has its own heap arena, and an arena keeps what
was freed in it for that thread's next allocation: after a first run on a big home, every
thread that read a day held on to that day's working set, and a detection in another
thread could not use it (measured on the bench's 10M-row home: the first run's peak 187
MB against the nightly run's 139). ``malloc_trim`` returns the free pages of every arena.
Other C libraries (musl; jemalloc, which Home Assistant's container preloads) give memory
back on their own: there this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable
from functools import cache

from .const import LOGGER


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    return trim


def release_freed_memory() -> None:
    """Give the heap's free pages back to the operating system (glibc); run in an executor."""
    trim = _malloc_trim()
    if trim is None:
        return
    try:
        trim(0)
    except OSError:
        LOGGER.debug("malloc_trim failed", exc_info=True)
