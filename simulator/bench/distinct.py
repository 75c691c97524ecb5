"""Memory per distinct state: detect on a home whose text and timestamp sensors never repeat.

A real home had 1,366 distinct (entity, state) pairs in 1,807 events and the detectors
took +64-102 MB for it: per-pair work grew with the distinct values. Here a realistic
home (``simulate_real_home``) gets text and timestamp sensors until it has ``events``
changes with ``distinct`` values among them; ``detect`` runs once under ``tracemalloc``
(numpy's buffers are traced too) and the peak is the extra memory it needed.
"""

from __future__ import annotations

import time
import tracemalloc
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from custom_components.ai_automation.detection import detect
from simulator.fetched import fetched_history, home_sun_times
from simulator.household import SYSTEM, Change
from simulator.real_home import simulate_real_home
from simulator.score import END, LOOKBACK_DAYS, TZ

TARGET_MB = 50.0  # extra memory of detect for 50,000 distinct values in 100k events
MB = 1 << 20


@dataclass(frozen=True, slots=True)
class DistinctResult:
    """What one measurement found."""

    events: int
    distinct: int
    detect_s: float
    peak_mb: float
    patterns: int


def measure_distinct(distinct: int, events: int = 100_000, seed: int = 1) -> DistinctResult:
    """Detect once on the home; the traced peak is what the detectors needed."""
    start = (END - timedelta(days=LOOKBACK_DAYS)).replace(hour=0)
    home = simulate_real_home(seed, days=LOOKBACK_DAYS + 1, end=END, time_zone=TZ)
    extra = max(events - len(home.changes), 0)
    rng = np.random.default_rng(seed)
    stamps = np.sort(rng.uniform(start.timestamp(), END.timestamp(), extra))
    for i, ts in enumerate(stamps):
        value = i % distinct
        # Half free text, half timestamps: a notification sensor and a "next alarm".
        state = f"message {value}" if value % 2 else (start + timedelta(seconds=value)).isoformat()
        home.changes.append(Change(f"sensor.text_{i % 7}", state, float(ts), SYSTEM))
    home.changes.sort(key=lambda c: (c.ts, c.entity_id))
    # Every row: the compact history would drop these values; the detectors must not
    # depend on that.
    fetched = fetched_history(home, start, END, compacted=False)
    sun = home_sun_times(TZ, start, END)
    tracemalloc.start()
    t0 = time.perf_counter()
    detection = detect(fetched, TZ, start, END, sun=sun)
    detect_s = time.perf_counter() - t0
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return DistinctResult(len(fetched), len(fetched.states), detect_s, peak / MB, detection.pattern_count)


def print_distinct(result: DistinctResult) -> None:
    """The figures and the target."""
    ok = result.peak_mb <= TARGET_MB
    print(
        f"\n{result.events:,} events with {result.distinct:,} distinct states: detect {result.detect_s:.2f} s"
        f" (under tracemalloc), peak {result.peak_mb:.1f} MB extra, {result.patterns} patterns"
        f"\n  target: <= {TARGET_MB:.0f} MB: {'PASS' if ok else 'MISS'}"
    )
