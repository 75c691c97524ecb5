"""Loop lag probe: how late the event loop runs a callback due every 10 ms.

A custom integration the benchmark links into the config dir of the real ``hass`` it
starts (see ``simulator.bench.real_hass``). Every tick later than 50 ms is kept with its
wall-clock time. A watchdog thread samples the stacks of all threads when a tick is
overdue by 30 ms: the loop thread's shows what blocks the loop; the others' show who may
be holding the GIL. ``loop_lag_probe.report`` returns (and optionally resets) the figures.
"""

from __future__ import annotations

import gc
import sys
import threading
import time
import traceback
from typing import Any

import voluptuous as vol
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse

DOMAIN = "loop_lag_probe"
INTERVAL_S = 0.010
SLOW_S = 0.050
WATCH_S = 0.030
MAX_KEPT = 20
MAX_LAGS = 1_000_000
_IDLE = ("wait", "_worker", "select", "get", "run_forever", "_run_once", "poll", "accept", "sleep")


def _stacks(loop_thread: int) -> dict[str, list[str]]:
    """The busy threads' innermost frames (the loop thread's always)."""
    names = {t.ident: t.name for t in threading.enumerate()}
    found: dict[str, list[str]] = {}
    for ident, frame in sys._current_frames().items():
        if ident == threading.get_ident():
            continue
        frames = traceback.extract_stack(frame)
        if ident != loop_thread and frames and frames[-1].name in _IDLE:
            continue
        depth = 12 if ident == loop_thread else 8
        label = "loop" if ident == loop_thread else names.get(ident, str(ident))
        found[label] = [f"{f.filename}:{f.lineno} {f.name}" for f in frames[-depth:]]
    return found


class _Probe:
    """The ticking callback, the GC timer and the stack-sampling watchdog."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.loop = hass.loop
        self.loop_thread = threading.get_ident()
        self.stopped = threading.Event()
        self.lags: list[float] = []
        self.slow: list[dict[str, Any]] = []
        self.samples: list[dict[str, Any]] = []
        self.collections: list[dict[str, Any]] = []
        self.max_lag_s = 0.0
        self.ticks = 0
        self.since = self.loop.time()
        self.due = self.loop.time() + INTERVAL_S
        self.sampled_due: float | None = None
        self.gc_start = 0.0
        self.handle = self.loop.call_at(self.due, self.tick)
        threading.Thread(target=self.watch, name=DOMAIN, daemon=True).start()
        gc.callbacks.append(self.on_gc)

    def reset(self) -> None:
        self.max_lag_s, self.ticks, self.since = 0.0, 0, self.loop.time()
        self.lags.clear()
        self.slow.clear()
        self.samples.clear()
        self.collections.clear()

    def on_gc(self, phase: str, info: dict[str, Any]) -> None:
        # Python's cyclic GC holds the GIL for the whole collection, in whichever thread.
        if phase == "start":
            self.gc_start = time.perf_counter()
            return
        took = time.perf_counter() - self.gc_start
        if took >= 0.010 and len(self.collections) < MAX_KEPT:
            self.collections.append(
                {
                    "generation": info["generation"],
                    "ms": round(took * 1000, 1),
                    "at": time.time() - took,
                    "thread": threading.current_thread().name,
                }
            )

    def tick(self) -> None:
        now = self.loop.time()
        lag = max(0.0, now - self.due)
        self.ticks += 1
        self.max_lag_s = max(self.max_lag_s, lag)
        if lag > SLOW_S:
            wall = time.time()
            self.slow.append({"lag_ms": round(lag * 1000, 1), "from": wall - lag, "to": wall})
        if len(self.lags) < MAX_LAGS:
            self.lags.append(lag)
        self.due = now + INTERVAL_S
        self.handle = self.loop.call_at(self.due, self.tick)

    def watch(self) -> None:
        # loop.time() is time.monotonic(): comparable from this thread.
        while not self.stopped.wait(INTERVAL_S):
            due = self.due
            overdue = time.monotonic() - due
            if overdue < WATCH_S or self.sampled_due == due or len(self.samples) >= MAX_KEPT:
                continue
            self.sampled_due = due
            stacks = _stacks(self.loop_thread)
            self.samples.append({"at": time.time(), "overdue_ms": round(overdue * 1000, 1), "stacks": stacks})

    def stop(self, _event: Event) -> None:
        self.stopped.set()
        self.handle.cancel()
        gc.callbacks.remove(self.on_gc)

    def figures(self) -> dict[str, Any]:
        ordered = sorted(self.lags)
        p99 = ordered[int(0.99 * (len(ordered) - 1))] if ordered else 0.0
        return {
            "max_lag_ms": round(self.max_lag_s * 1000, 1),
            "p99_lag_ms": round(p99 * 1000, 1),
            "ticks": self.ticks,
            "slow_ticks": len(self.slow),
            "window_s": round(self.loop.time() - self.since, 3),
            "slow": sorted(self.slow, key=lambda s: -s["lag_ms"])[:MAX_KEPT],
            "samples": list(self.samples),
            "gc": list(self.collections),
        }


async def async_setup(hass: HomeAssistant, config: dict[str, Any]) -> bool:
    """Start ticking and register ``loop_lag_probe.report``."""
    probe = _Probe(hass)
    hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, probe.stop)

    async def report(call: ServiceCall) -> ServiceResponse:
        response = probe.figures()
        if call.data.get("reset"):
            probe.reset()
        return response

    hass.services.async_register(
        DOMAIN,
        "report",
        report,
        schema=vol.Schema({vol.Optional("reset", default=False): bool}),
        supports_response=SupportsResponse.ONLY,
    )
    return True
