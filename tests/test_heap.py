"""Freed memory goes back to the operating system after each day the back-fill reads."""

from __future__ import annotations

import platform

import numpy as np
import pytest

from custom_components.ai_automation import heap


def _rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_a_freed_working_set_is_given_back() -> None:
    """Mid-sized blocks (a day's rows) freed around a few kept ones: the heap cannot
    shrink from its top, so the freed pages stay resident until the trim."""
    heap.release_freed_memory()
    before = _rss_kib()
    blocks = [np.ones(8_192, dtype=np.float64) for _ in range(2_000)]  # 64 KiB each, 125 MiB
    kept_alive = blocks[::8]
    del blocks
    held = _rss_kib() - before
    heap.release_freed_memory()
    after = _rss_kib() - before
    assert held > 50_000, "the freed blocks stayed resident (what the trim is for)"
    assert after < held / 2, (held, after)
    del kept_alive


def test_without_glibc_it_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "_malloc_trim", lambda: None)
    heap.release_freed_memory()  # no error, nothing to do
