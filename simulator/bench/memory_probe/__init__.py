"""Memory probe: the resident size of this Home Assistant, and where Python memory went.

A custom integration the benchmark links into the config dir of the real ``hass`` it
starts (see ``simulator.bench.real_hass``), for ``scripts/bench --repeat``:

- ``memory_probe.report``: VmRSS as ``ps`` sees it, the number of objects the cyclic GC
  tracks, and (``settle``) VmRSS again after a full collection and ``malloc_trim``;
- ``memory_probe.trace_start``: start ``tracemalloc``;
- ``memory_probe.trace_mark``: take the baseline snapshot (and count objects by type);
- ``memory_probe.trace_diff``: how the traced memory changed since the baseline,
  grouped by traceback, file or line, and the object types whose count grew.
"""

from __future__ import annotations

import ctypes
import gc
import re
import tracemalloc
from collections import Counter
from contextlib import suppress
from pathlib import Path
from typing import Any

import voluptuous as vol
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse

DOMAIN = "memory_probe"
# Allocations of the measuring itself, not of Home Assistant.
_IGNORED = (tracemalloc.__file__, "<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>")


def _rss() -> int:
    """Resident set size of this process in bytes (Linux)."""
    match = re.search(r"^VmRSS:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
    return int(match.group(1)) * 1024 if match else 0


def _settle() -> None:
    """Free what only the cyclic GC frees; hand glibc's free heap back to the OS."""
    gc.collect()
    with suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _type_counts() -> Counter[str]:
    return Counter(type(o).__qualname__ for o in gc.get_objects())


def _snapshot() -> tracemalloc.Snapshot:
    gc.collect()
    return tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, name) for name in _IGNORED])


def _stat(stat: tracemalloc.StatisticDiff) -> dict[str, Any]:
    # Oldest frame first, the allocating line last: as Python prints a traceback.
    return {
        "size_diff": stat.size_diff,
        "size": stat.size,
        "count_diff": stat.count_diff,
        "frames": [f"{f.filename}:{f.lineno}" for f in stat.traceback],
    }


class _Tracer:
    """tracemalloc, and the baseline snapshot and object counts ``trace_diff`` compares with.

    Tracing starts some runs before the baseline is taken, so the objects of the run
    before the baseline are traced too: a run's results that replace the last run's then
    cancel out in the diff, and what is left is what accumulates.
    """

    def __init__(self) -> None:
        self.baseline: tracemalloc.Snapshot | None = None
        self.types: Counter[str] = Counter()

    def start(self, frames: int) -> dict[str, Any]:
        if tracemalloc.is_tracing():
            tracemalloc.stop()
        self.baseline = None
        tracemalloc.start(frames)
        return {"tracing": True, "frames": frames}

    def mark(self) -> dict[str, Any]:
        if not tracemalloc.is_tracing():
            return {"tracing": False}
        self.types = _type_counts()
        self.baseline = _snapshot()
        return {"tracing": True, "traced_bytes": tracemalloc.get_traced_memory()[0]}

    def diff(self, limit: int, group_by: str) -> dict[str, Any]:
        if self.baseline is None:
            return {"tracing": False}
        grown = _type_counts()  # before the diff's own objects exist
        grown.subtract(self.types)
        stats = _snapshot().compare_to(self.baseline, group_by)
        return {
            "tracing": True,
            "traced_bytes": tracemalloc.get_traced_memory()[0],
            "growth_bytes": sum(s.size_diff for s in stats),
            "top": [_stat(s) for s in stats[:limit]],
            "types": [(name, n) for name, n in grown.most_common(limit) if n > 0],
        }


async def async_setup(hass: HomeAssistant, config: dict[str, Any]) -> bool:
    """Register the services."""
    tracer = _Tracer()

    async def report(call: ServiceCall) -> ServiceResponse:
        response: dict[str, Any] = {"rss": _rss(), "gc_objects": len(gc.get_objects())}
        if call.data["settle"]:
            await hass.async_add_executor_job(_settle)
            response["rss_settled"] = _rss()
        return response

    async def trace_start(call: ServiceCall) -> ServiceResponse:
        return tracer.start(call.data["frames"])

    async def trace_mark(call: ServiceCall) -> ServiceResponse:
        return tracer.mark()

    async def trace_diff(call: ServiceCall) -> ServiceResponse:
        return tracer.diff(call.data["limit"], call.data["group_by"])

    services = (
        ("report", report, {vol.Optional("settle", default=False): bool}),
        ("trace_start", trace_start, {vol.Optional("frames", default=12): vol.All(int, vol.Range(1, 50))}),
        ("trace_mark", trace_mark, {}),
        (
            "trace_diff",
            trace_diff,
            {
                vol.Optional("limit", default=15): vol.All(int, vol.Range(1, 100)),
                vol.Optional("group_by", default="traceback"): vol.In(["traceback", "filename", "lineno"]),
            },
        ),
    )
    for name, handler, schema in services:
        hass.services.async_register(
            DOMAIN, name, handler, schema=vol.Schema(schema), supports_response=SupportsResponse.ONLY
        )
    return True
