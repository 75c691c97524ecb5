"""A first run and a nightly run through the compact history, in the bench's in-process hass.

The seeded home has one day more than the window (31 days). The *first run* is the job
of yesterday: an empty compact history, back-filled from the recorder day by day up to
the start of yesterday, then its 30-day window read and detected. The *nightly run* is
today's job on the same compact history: it reads the one new day from the recorder,
then the window. Each is timed (read + detect) and its peak RSS increase taken, against
the plain scan of the same 30-day window.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from simulator.bench.in_process import Memory, warm


@dataclass(slots=True)
class HistoryRun:
    """One run through the compact history."""

    read_s: float
    detect_s: float
    rss: int  # peak RSS increase over the settled process
    days_read: int
    rows_read: int
    rows: int  # changes in the window, as the detectors get them
    size_bytes: int
    patterns: int

    @property
    def total_s(self) -> float:
        return self.read_s + self.detect_s


async def _one_run(
    hass: Any, store: Any, window: tuple[datetime, datetime], wanted: Any, memory: Memory
) -> HistoryRun:
    from homeassistant.util import dt as dt_util

    from custom_components.ai_automation.const import DEFAULT_OPTIONS
    from custom_components.ai_automation.detection import detect, sun_times
    from custom_components.ai_automation.history_store import selection_of

    start, end = window
    memory.start()
    t0 = time.perf_counter()
    fetched, status = await store.async_read(window, wanted, selection_of(DEFAULT_OPTIONS), lambda: False)
    t1 = time.perf_counter()
    sun = sun_times(hass, start, end)
    detection = await hass.async_add_executor_job(
        partial(detect, fetched, dt_util.get_default_time_zone(), start, end, sun=sun)
    )
    t2 = time.perf_counter()
    rss = memory.peak_increase()
    run = HistoryRun(
        read_s=t1 - t0,
        detect_s=t2 - t1,
        rss=rss,
        days_read=status.days_read,
        rows_read=status.rows_read,
        rows=len(fetched),
        size_bytes=status.size_bytes,
        patterns=detection.pattern_count,
    )
    del fetched, detection
    return run


async def measure_history_runs(
    hass: Any, window: tuple[datetime, datetime], wanted: Any, db_path: Path
) -> tuple[HistoryRun, HistoryRun]:
    """The first run (yesterday's job, empty history) and the nightly one (today's)."""
    from custom_components.ai_automation.history_store import HistoryStore

    shutil.rmtree(Path(hass.config.path(".storage")), ignore_errors=True)
    store = HistoryStore(hass, "bench")
    memory = Memory()
    start, end = window
    yesterday = (start - timedelta(days=1), end - timedelta(days=1))
    await hass.async_add_executor_job(warm, db_path)
    first = await _one_run(hass, store, yesterday, wanted, memory)
    await hass.async_add_executor_job(warm, db_path)
    nightly = await _one_run(hass, store, window, wanted, memory)
    return first, nightly
