"""Raw scan, fetch and detect timed inside a minimal real Home Assistant in this process.

A minimal Home Assistant (core, registries, the recorder on the seeded file) runs in
this process; after one untimed warm-up pass, each pass times:

- ``raw scan``: a plain ``sqlite3`` scan of the same rows (the reader's WHERE) into
  Python/numpy, on its own connection: the floor any reader pays;
- ``fetch``: ``recorder_reader.fetch_history`` in the recorder's executor;
- ``detect``: ``detection.detect`` in an executor (sun times on the loop, as the job does);

with the peak RSS increase over the settled process (VmHWM, reset before each pass).
"""

from __future__ import annotations

import cProfile
import gc
import io
import pstats
import re
import resource
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from simulator.demo import TIME_ZONE
from simulator.large import LargeHome

if TYPE_CHECKING:
    from custom_components.ai_automation.detection import Detection
    from simulator.bench.history_runs import HistoryRun

ROOT = Path(__file__).resolve().parent.parent.parent
LATITUDE, LONGITUDE = 52.37, 4.89  # the demo home's, for the sun-relative detector
MB = 1_000_000


class Memory:
    """Peak RSS of this process since a reset, from /proc (Linux) or getrusage."""

    def __init__(self) -> None:
        self.proc = Path("/proc/self/status").exists()
        self.can_reset = False
        if self.proc:
            try:
                Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to VmRSS
                self.can_reset = True
            except OSError:
                pass
        self._base = 0

    @staticmethod
    def _status_kib(key: str) -> int:
        match = re.search(rf"^{key}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
        return int(match.group(1)) if match else 0

    def start(self) -> None:
        """Settle, reset the peak, and remember the current RSS as the baseline."""
        # The integration's own: freed heap handed back (glibc), so the baseline holds no spare.
        from custom_components.ai_automation.heap import release_freed_memory

        gc.collect()
        release_freed_memory()
        if self.can_reset:
            Path("/proc/self/clear_refs").write_text("5")
            self._base = self._status_kib("VmRSS") * 1024
        else:  # ru_maxrss never goes down: only the first pass's increase is right
            self._base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def peak_increase(self) -> int:
        """Bytes the peak RSS rose over the baseline since ``start``."""
        if self.can_reset:
            peak = self._status_kib("VmHWM") * 1024
        else:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        return max(0, peak - self._base)


# --- the baseline: a plain sqlite3 scan -----------------------------------------------


def warm(db_path: Path) -> None:
    """Read the database files once so both contenders start from a warm page cache.

    This VM reclaims idle page cache within seconds (DAMON), which otherwise makes
    whichever reader goes first pay for the disk.
    """
    for suffix in ("", "-wal"):
        path = Path(f"{db_path}{suffix}")
        if path.exists():
            with path.open("rb") as f:
                while f.read(1 << 24):
                    pass


def raw_scan(db_path: Path, start_ts: float, end_ts: float) -> int:
    """Read the rows the reader reads, with sqlite3 alone, into numpy/Python columns.

    Same query as the reader's over every entity: metadata id,
    state, timestamp and the context columns. Ids and timestamps become numpy arrays,
    states and context ids stay Python objects. Returns the row count.
    """
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        # The reader's query when (as here) every entity is wanted: the timestamp index,
        # no ORDER BY (both sort in numpy afterwards).
        sql = (
            "SELECT metadata_id, state, last_updated_ts,"
            " context_user_id_bin IS NOT NULL, context_parent_id_bin IS NOT NULL, context_id_bin"
            " FROM states WHERE last_updated_ts >= ? AND last_updated_ts < ?"
            " AND (last_changed_ts IS NULL OR last_changed_ts = last_updated_ts)"
        )
        cursor = con.execute(sql, [start_ts, end_ts])
        metadata: list[NDArray[np.int32]] = []
        stamps: list[NDArray[np.float64]] = []
        states: list[str] = []
        contexts: list[bytes] = []
        while rows := cursor.fetchmany(50_000):
            metadata.append(np.fromiter((r[0] for r in rows), np.int32, len(rows)))
            stamps.append(np.fromiter((r[2] for r in rows), np.float64, len(rows)))
            states.extend(r[1] for r in rows)
            contexts.extend(r[5] for r in rows)
        count = int(sum(a.shape[0] for a in metadata))
        del metadata, stamps, states, contexts
        return count
    finally:
        con.close()


# --- the real code path, in process ---------------------------------------------------


@dataclass(slots=True)
class Pass:
    """One timed pass: the raw scan, then fetch + detect of the real code."""

    raw_s: float
    raw_rss: int
    fetch_s: float
    detect_s: float
    rss: int  # peak RSS increase during fetch + detect

    @property
    def total_s(self) -> float:
        return self.fetch_s + self.detect_s


@dataclass(slots=True)
class SizeResult:
    """Everything measured for one database size."""

    rows: int
    generate_s: float
    seed_s: float
    db_mb: float
    passes: list[Pass] = field(default_factory=list)
    fetched: int = 0
    entities: int = 0
    source: str = ""
    time_of_day: int = 0
    co_occurrence: int = 0
    planted_found: int = 0
    planted: int = 0
    followers_found: int = 0
    profile: str = ""
    # Through the compact history (see history_runs): yesterday's job on an empty one, then today's.
    first: HistoryRun | None = None
    nightly: HistoryRun | None = None

    def median(self, key: Callable[[Pass], float]) -> float:
        return float(statistics.median(key(p) for p in self.passes))

    def best(self, key: Callable[[Pass], float]) -> float:
        return float(min(key(p) for p in self.passes))


def _profiled(fn: Callable[..., Any], sink: list[str]) -> Callable[..., Any]:
    """Run ``fn`` under cProfile (in whatever thread it runs) and keep the top lines."""

    def run(*args: Any, **kwargs: Any) -> Any:
        profiler = cProfile.Profile()
        result = profiler.runcall(fn, *args, **kwargs)
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(14)
        sink.append(f"--- {fn.__name__} ---\n" + _trim_profile(out.getvalue()))
        return result

    return run


def _trim_profile(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls")), 0)
    site = str(Path(sys.executable).resolve().parent.parent)
    return "\n".join(line.replace(str(ROOT) + "/", "").replace(site, "…") for line in lines[start:])


async def _start_core(config_dir: Path, db_path: Path) -> Any:
    """A minimal real Home Assistant: core, registries, and the recorder on ``db_path``."""
    from homeassistant import bootstrap, loader
    from homeassistant.config_entries import ConfigEntries
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers import recorder as recorder_helper
    from homeassistant.setup import async_setup_component

    hass = HomeAssistant(str(config_dir))
    loader.async_setup(hass)
    hass.config.skip_pip = True
    hass.config.latitude, hass.config.longitude = LATITUDE, LONGITUDE
    await hass.config.async_set_time_zone(TIME_ZONE)
    hass.config_entries = ConfigEntries(hass, {})
    try:
        await bootstrap.async_load_base_functionality(hass)
        recorder_helper.async_initialize_recorder(hass)
        config = {"recorder": {"db_url": f"sqlite:///{db_path}", "purge_keep_days": 60}}
        if not await async_setup_component(hass, "recorder", config):
            raise RuntimeError("the recorder did not set up; see the log above")
        await hass.async_start()
        instance = recorder_helper.get_instance(hass)
        if not await instance.async_db_ready:
            raise RuntimeError("the recorder database is not ready")
        await instance.async_block_till_done()
    except BaseException:
        await hass.async_stop()
        raise
    return hass


def _window() -> tuple[datetime, datetime]:
    """The job's window for a 30-day lookback (as the coordinator computes it)."""
    from homeassistant.util import dt as dt_util

    end = dt_util.start_of_local_day()
    first = end - timedelta(days=30) + timedelta(hours=12)
    return dt_util.start_of_local_day(first.date()), end


def _score(result: SizeResult, home: LargeHome, detection: Detection) -> None:
    """How much of the planted ground truth the detectors found (a sanity check)."""
    routines, pairs = detection.time_of_day, detection.co_occurrence
    result.time_of_day, result.co_occurrence = len(routines), len(pairs)
    found = 0
    for planted in home.routines:
        h, m = (int(x) for x in planted.time.split(":"))
        for p in routines:
            if p.entity_id != planted.entity_id or p.to_state != planted.to_state:
                continue
            gap = abs(p.minute - (h * 60 + m))
            if min(gap, 1440 - gap) <= 30 and p.automated == planted.automated:
                found += 1
                break
    result.planted_found, result.planted = found, len(home.routines)
    result.followers_found = len(
        {p.entity_id for p in pairs if p.entity_id.startswith("light.follower_") and p.to_state == "on"}
    )


class _Contender:
    """The real code's fetch and detect over the job's window, run as the job runs them."""

    def __init__(self, hass: Any, home: LargeHome) -> None:
        from homeassistant.helpers.recorder import get_instance
        from homeassistant.util import dt as dt_util

        from custom_components.ai_automation.const import DEFAULT_OPTIONS
        from custom_components.ai_automation.jobs import entity_filter

        self.hass = hass
        self.recorder = get_instance(hass)
        self.start, self.end = _window()
        if self.end != home.end or self.start < home.start:
            seeded = f"{home.start}..{home.end}"
            print(f"  note: the job's window {self.start}..{self.end} is not the seeded {seeded}")
        self.wanted = entity_filter(DEFAULT_OPTIONS)
        self.tz = dt_util.get_default_time_zone()

    async def raw_scan(self, db_path: Path) -> int:
        return int(
            await self.hass.async_add_executor_job(
                raw_scan, db_path, self.start.timestamp(), self.end.timestamp()
            )
        )

    async def fetch_and_detect(
        self, fetch: Callable[..., Any] | None = None, run_detect: Callable[..., Any] | None = None
    ) -> tuple[Any, Detection, float, float]:
        """Fetched rows, detection, fetch seconds, detect seconds (``fetch``, ``run_detect``:
        the real ones wrapped, e.g. by ``_profiled``)."""
        from custom_components.ai_automation.detection import detect, sun_times
        from custom_components.ai_automation.recorder_reader import fetch_history

        t0 = time.perf_counter()
        fetched = await self.recorder.async_add_executor_job(
            fetch or fetch_history, self.hass, self.start, self.end, self.wanted, []
        )
        t1 = time.perf_counter()
        sun = sun_times(self.hass, self.start, self.end)
        found = await self.hass.async_add_executor_job(
            partial(run_detect or detect, fetched, self.tz, self.start, self.end, sun=sun)
        )
        return fetched, found, t1 - t0, time.perf_counter() - t1


async def _warm_up(result: SizeResult, home: LargeHome, contender: _Contender, db_path: Path) -> None:
    """One untimed pass, scored: the allocator's arenas, SQLite's and the OS's caches and
    the recorder's start-up work then no longer land on the first timed pass."""
    raw_rows = await contender.raw_scan(db_path)
    fetched, detection, _fetch_s, _detect_s = await contender.fetch_and_detect()
    result.fetched, result.entities = len(fetched), len(fetched.entity_ids)
    result.source = fetched.source
    _score(result, home, detection)
    if raw_rows != len(fetched):
        print(f"  note: the raw scan read {raw_rows} rows, the reader {len(fetched)}")


async def _timed_pass(contender: _Contender, db_path: Path, memory: Memory) -> Pass:
    """The raw scan, then fetch + detect, each from a warm page cache and a settled heap."""
    hass = contender.hass
    await hass.async_add_executor_job(warm, db_path)
    memory.start()
    t0 = time.perf_counter()
    await contender.raw_scan(db_path)
    raw_s = time.perf_counter() - t0
    raw_rss = memory.peak_increase()

    await hass.async_add_executor_job(warm, db_path)
    memory.start()
    fetched, detection, fetch_s, detect_s = await contender.fetch_and_detect()
    rss = memory.peak_increase()
    del fetched, detection
    return Pass(raw_s, raw_rss, fetch_s, detect_s, rss)


async def measure_in_process(
    result: SizeResult, home: LargeHome, db_path: Path, work_dir: Path, runs: int, profile: bool
) -> None:
    """Time raw scan, fetch and detect ``runs`` times inside a real (minimal) hass."""
    from custom_components.ai_automation.detection import detect
    from custom_components.ai_automation.recorder_reader import fetch_history

    config_dir = work_dir / f"core-{result.rows}"
    shutil.rmtree(config_dir, ignore_errors=True)
    config_dir.mkdir(parents=True)
    hass = await _start_core(config_dir, db_path)
    memory = Memory()
    try:
        contender = _Contender(hass, home)
        await _warm_up(result, home, contender, db_path)
        for run in range(runs):
            p = await _timed_pass(contender, db_path, memory)
            result.passes.append(p)
            print(
                f"  pass {run + 1}: raw scan {p.raw_s:.3f} s (+{p.raw_rss / MB:.0f} MB)"
                f" | fetch {p.fetch_s:.3f} s + detect {p.detect_s:.3f} s"
                f" = {p.total_s:.3f} s (+{p.rss / MB:.0f} MB)"
                f" | ratio {p.total_s / p.raw_s:.2f}x"
            )
        from simulator.bench.history_runs import measure_history_runs

        result.first, result.nightly = await measure_history_runs(
            hass, (contender.start, contender.end), contender.wanted, db_path
        )
        for label, run in (("first run", result.first), ("nightly run", result.nightly)):
            print(
                f"  {label} through the compact history: {run.days_read} days ({run.rows_read:,} changes)"
                f" read from the recorder, {run.rows:,} in the window"
                f" | read {run.read_s:.3f} s + detect {run.detect_s:.3f} s = {run.total_s:.3f} s"
                f" (+{run.rss / MB:.0f} MB) | {run.patterns} patterns, history {run.size_bytes / MB:.1f} MB"
            )
        if profile:
            sink: list[str] = []
            await contender.fetch_and_detect(_profiled(fetch_history, sink), _profiled(detect, sink))
            result.profile = "\n".join(sink)
    finally:
        await hass.async_stop()
