"""Benchmark: the real fetch and detect code on a large recorder database.

For each size (60k and 1M state changes of 200 entities over 30 days) it draws a
synthetic home (:mod:`simulator.large`), seeds a fresh SQLite recorder database with it,
starts a minimal real Home Assistant in this process with the recorder on that file, and,
after one untimed warm-up pass, times three passes of:

- ``raw scan``: a plain ``sqlite3`` scan of the same rows (the reader's WHERE and ORDER
  BY) into Python/numpy, on its own connection: the floor any reader pays;
- ``fetch``: ``recorder_reader.fetch_history`` in the recorder's executor;
- ``detect``: ``analysis.detect`` in an executor (sun times on the loop, as the job does);

with the peak RSS increase over the settled process (VmHWM, reset before each pass).
Then, on the largest database, a real ``hass`` process with a loop-lag probe runs
``ai_automation.run_analysis`` and reports how late the event loop ran a callback due
every 10 ms while the job ran, and which GC pause or stack caused each stall. It prints
figures and ratios; it asserts nothing (it is not a test).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import ctypes
import gc
import io
import json
import logging
import os
import pstats
import re
import resource
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.demo import TIME_ZONE, Client, _configuration, write_config_dir
from simulator.large import N_FOLLOWER, LargeHome, large_home
from simulator.recorder_db import seed_database

ROOT = Path(__file__).resolve().parent.parent
SIZES = (60_000, 1_000_000)
LATITUDE, LONGITUDE = 52.37, 4.89  # the demo home's, for the sun-relative detector

# Targets of the issue: judged on the median of the runs.
TARGET_RATIO = 1.5  # (fetch + detect) / raw scan at 1M rows
TARGET_SMALL_S = 0.3  # fetch + detect at 60k rows
TARGET_RSS_MB = 200.0  # peak RSS increase during fetch + detect at 1M rows
TARGET_LAG_MS = 50.0  # worst event-loop lag while a job runs inside a real hass

MB = 1_000_000


# --- memory -------------------------------------------------------------------------


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
        try:  # glibc: hand freed heap back to the OS, so the baseline holds no spare memory
            self._trim: Callable[[int], int] | None = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            self._trim = None

    @staticmethod
    def _status_kib(key: str) -> int:
        match = re.search(rf"^{key}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
        return int(match.group(1)) if match else 0

    def start(self) -> None:
        """Settle, reset the peak, and remember the current RSS as the baseline."""
        gc.collect()
        if self._trim is not None:
            self._trim(0)
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


def _score(result: SizeResult, home: LargeHome, detection: Any) -> None:
    """How much of the planted ground truth the detectors found (a sanity check)."""
    routines = list(getattr(detection, "time_of_day", getattr(detection, "patterns", [])))
    pairs = list(getattr(detection, "co_occurrence", []))
    result.time_of_day, result.co_occurrence = len(routines), len(pairs)
    found = 0
    for planted in home.routines:
        h, m = (int(x) for x in planted.time.split(":"))
        for p in routines:
            minute = getattr(p, "minute", None)
            if p.entity_id != planted.entity_id or p.to_state != planted.to_state or minute is None:
                continue
            gap = abs(minute - (h * 60 + m))
            if min(gap, 1440 - gap) <= 30 and bool(p.automated) == planted.automated:
                found += 1
                break
    result.planted_found, result.planted = found, len(home.routines)
    result.followers_found = len(
        {p.entity_id for p in pairs if p.entity_id.startswith("light.follower_") and p.to_state == "on"}
    )


async def measure_in_process(
    result: SizeResult, home: LargeHome, db_path: Path, work_dir: Path, runs: int, profile: bool
) -> None:
    """Time raw scan, fetch and detect ``runs`` times inside a real (minimal) hass."""
    from homeassistant.helpers.recorder import get_instance
    from homeassistant.util import dt as dt_util

    from custom_components.ai_automation import analysis
    from custom_components.ai_automation.const import DEFAULT_OPTIONS
    from custom_components.ai_automation.coordinator import entity_filter
    from custom_components.ai_automation.recorder_reader import fetch_history

    config_dir = work_dir / f"core-{result.rows}"
    shutil.rmtree(config_dir, ignore_errors=True)
    config_dir.mkdir(parents=True)
    hass = await _start_core(config_dir, db_path)
    memory = Memory()
    try:
        recorder = get_instance(hass)
        start, end = _window()
        if (start, end) != (home.start, home.end):
            print(f"  note: the job's window {start}..{end} is not the seeded {home.start}..{home.end}")
        wanted = entity_filter(DEFAULT_OPTIONS)
        tz = dt_util.get_default_time_zone()
        sun_times = getattr(analysis, "sun_times", None)

        async def fetch_and_detect(fetch: Callable[..., Any], run_detect: Callable[..., Any]) -> Any:
            t0 = time.perf_counter()
            fetched = await recorder.async_add_executor_job(fetch, hass, start, end, wanted, [])
            t1 = time.perf_counter()
            extra = {"sun": sun_times(hass, start, end)} if sun_times is not None else {}
            detection = await hass.async_add_executor_job(
                partial(run_detect, fetched, tz, start, end, **extra)
            )
            return fetched, detection, t1 - t0, time.perf_counter() - t1

        # One untimed pass first: the allocator's arenas, SQLite's and the OS's caches and
        # the recorder's start-up work then no longer land on the first timed pass.
        raw_rows = await hass.async_add_executor_job(raw_scan, db_path, start.timestamp(), end.timestamp())
        fetched, detection, _fetch_s, _detect_s = await fetch_and_detect(fetch_history, analysis.detect)
        result.fetched, result.entities = len(fetched), len(fetched.entity_ids)
        result.source = fetched.source
        _score(result, home, detection)
        if raw_rows != len(fetched):
            print(f"  note: the raw scan read {raw_rows} rows, the reader {len(fetched)}")
        del fetched, detection

        for run in range(runs):
            await hass.async_add_executor_job(warm, db_path)
            memory.start()
            t0 = time.perf_counter()
            await hass.async_add_executor_job(raw_scan, db_path, start.timestamp(), end.timestamp())
            raw_s = time.perf_counter() - t0
            raw_rss = memory.peak_increase()

            await hass.async_add_executor_job(warm, db_path)
            memory.start()
            fetched, detection, fetch_s, detect_s = await fetch_and_detect(fetch_history, analysis.detect)
            rss = memory.peak_increase()
            del fetched, detection
            result.passes.append(Pass(raw_s, raw_rss, fetch_s, detect_s, rss))
            print(
                f"  pass {run + 1}: raw scan {raw_s:.3f} s (+{raw_rss / MB:.0f} MB) | fetch {fetch_s:.3f} s"
                f" + detect {detect_s:.3f} s = {fetch_s + detect_s:.3f} s (+{rss / MB:.0f} MB)"
                f" | ratio {(fetch_s + detect_s) / raw_s:.2f}x"
            )

        if profile:
            sink: list[str] = []
            await fetch_and_detect(_profiled(fetch_history, sink), _profiled(analysis.detect, sink))
            result.profile = "\n".join(sink)
    finally:
        await hass.async_stop()


# --- loop lag inside a real hass process ----------------------------------------------

PROBE_DOMAIN = "loop_lag_probe"
PROBE_MANIFEST = {
    "domain": PROBE_DOMAIN,
    "name": "Loop lag probe (benchmark)",
    "codeowners": [],
    "documentation": "https://example.invalid/loop_lag_probe",
    "iot_class": "calculated",
    "version": "1.0.0",
}
PROBE_SERVICES = "report:\n  fields:\n    reset:\n      selector:\n        boolean:\n"
PROBE_INIT = '''"""Loop lag probe: how late the event loop runs a callback due every 10 ms.

Every tick later than 50 ms is kept with its wall-clock time. A watchdog thread samples
the stacks of all threads when a tick is overdue by 30 ms: the loop thread's shows what
blocks the loop; the others' show who may be holding the GIL.
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
_IDLE = ("wait", "_worker", "select", "get", "run_forever", "_run_once", "poll", "accept", "sleep")


def _stacks(loop_thread: int) -> dict[str, list[str]]:
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


async def async_setup(hass: HomeAssistant, config: dict[str, Any]) -> bool:
    """Start ticking; ``loop_lag_probe.report`` returns (and optionally resets) the figures."""
    loop = hass.loop
    loop_thread = threading.get_ident()
    stopped = threading.Event()
    stats: dict[str, Any] = {}
    lags: list[float] = []
    slow: list[dict[str, Any]] = []
    samples: list[dict[str, Any]] = []
    collections: list[dict[str, Any]] = []
    state: dict[str, Any] = {"due": loop.time() + INTERVAL_S, "sampled_due": None, "gc_start": 0.0}

    def reset() -> None:
        stats.update(max_lag_s=0.0, ticks=0, since=loop.time())
        lags.clear()
        slow.clear()
        samples.clear()
        collections.clear()

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        # Python's cyclic GC holds the GIL for the whole collection, in whichever thread.
        if phase == "start":
            state["gc_start"] = time.perf_counter()
            return
        took = time.perf_counter() - state["gc_start"]
        if took >= 0.010 and len(collections) < MAX_KEPT:
            collections.append(
                {
                    "generation": info["generation"],
                    "ms": round(took * 1000, 1),
                    "at": time.time() - took,
                    "thread": threading.current_thread().name,
                }
            )

    def tick() -> None:
        now = loop.time()
        lag = max(0.0, now - state["due"])
        stats["ticks"] += 1
        stats["max_lag_s"] = max(stats["max_lag_s"], lag)
        if lag > SLOW_S:
            wall = time.time()
            slow.append({"lag_ms": round(lag * 1000, 1), "from": wall - lag, "to": wall})
        if len(lags) < 1_000_000:
            lags.append(lag)
        state["due"] = now + INTERVAL_S
        state["handle"] = loop.call_at(state["due"], tick)

    def watch() -> None:
        # loop.time() is time.monotonic(): comparable from this thread.
        while not stopped.wait(INTERVAL_S):
            due = state["due"]
            overdue = time.monotonic() - due
            if overdue < WATCH_S or state["sampled_due"] == due or len(samples) >= MAX_KEPT:
                continue
            state["sampled_due"] = due
            stacks = _stacks(loop_thread)
            samples.append({"at": time.time(), "overdue_ms": round(overdue * 1000, 1), "stacks": stacks})

    reset()
    state["handle"] = loop.call_at(state["due"], tick)
    threading.Thread(target=watch, name="loop_lag_probe", daemon=True).start()

    def stop(_event: Event) -> None:
        stopped.set()
        state["handle"].cancel()
        gc.callbacks.remove(on_gc)

    gc.callbacks.append(on_gc)
    hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, stop)

    async def report(call: ServiceCall) -> ServiceResponse:
        ordered = sorted(lags)
        p99 = ordered[int(0.99 * (len(ordered) - 1))] if ordered else 0.0
        response = {
            "max_lag_ms": round(stats["max_lag_s"] * 1000, 1),
            "p99_lag_ms": round(p99 * 1000, 1),
            "ticks": int(stats["ticks"]),
            "slow_ticks": len(slow),
            "window_s": round(loop.time() - stats["since"], 3),
            "slow": sorted(slow, key=lambda s: -s["lag_ms"])[:MAX_KEPT],
            "samples": list(samples),
            "gc": list(collections),
        }
        if call.data.get("reset"):
            reset()
        return response

    hass.services.async_register(
        DOMAIN,
        "report",
        report,
        schema=vol.Schema({vol.Optional("reset", default=False): bool}),
        supports_response=SupportsResponse.ONLY,
    )
    return True
'''


@dataclass(slots=True)
class LagResult:
    """The loop-lag measurements of the real hass runs."""

    rows: int
    start_s: float = 0.0
    idle: dict[str, Any] = field(default_factory=dict)
    runs: list[tuple[float, dict[str, Any], dict[str, Any]]] = field(default_factory=list)  # wall, job, lag
    error: str = ""

    @property
    def worst_ms(self) -> float:
        return max((lag["max_lag_ms"] for _w, _j, lag in self.runs), default=float("nan"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _write_hass_config(base: Path, port: int, db_path: Path) -> Path:
    """The demo's configuration (see simulator.demo) plus the probe, on ``db_path``."""
    config = _configuration(port, db_path)
    config[PROBE_DOMAIN] = {}
    config_dir = write_config_dir(base, config)
    probe = config_dir / "custom_components" / PROBE_DOMAIN
    probe.mkdir()
    (probe / "manifest.json").write_text(json.dumps(PROBE_MANIFEST, indent=2) + "\n")
    (probe / "services.yaml").write_text(PROBE_SERVICES)
    (probe / "__init__.py").write_text(PROBE_INIT)
    return config_dir


def _phase_at(job: dict[str, Any], at: float) -> str:
    """Which phase of ``job`` was running at wall-clock ``at`` (phases run back to back)."""
    t = datetime.fromisoformat(job["started_at"]).timestamp()
    if at < t:
        return "before the job"
    for name, seconds in job["phases"].items():
        t += seconds
        if at < t:
            return str(name).removesuffix("_s")
    return "after the job (response)"


def _short(frame: str) -> str:
    """'/long/path/pkg/module.py:12 func' -> 'pkg/module.py:12 func'."""
    path, _, rest = frame.partition(":")
    return "/".join(Path(path).parts[-2:]) + ":" + rest


def _explain_stalls(job: dict[str, Any], lag: dict[str, Any], limit: int = 5) -> list[str]:
    """One line per tick later than 50 ms: when, and the GC or stack behind it."""
    lines = []
    for stall in lag.get("slow", [])[:limit]:
        start, end = stall["from"], stall["to"]
        where = f"stall {stall['lag_ms']:.0f} ms in {_phase_at(job, start)}"
        collections = [
            c for c in lag.get("gc", []) if c["at"] <= end and c["at"] + c["ms"] / 1000 >= start - 0.005
        ]
        if collections:
            lines.append(
                where
                + ": "
                + ", ".join(
                    f"gen-{c['generation']} GC {c['ms']:.0f} ms in {c['thread']}" for c in collections
                )
            )
            continue
        sample = min(lag.get("samples", []), key=lambda s: abs(s["at"] - end), default=None)
        if sample is None or not start <= sample["at"] <= end + 0.02:
            lines.append(where + ": no GC, no stack sample")
            continue
        busy = {name: frames[-1] for name, frames in sample["stacks"].items() if frames and name != "loop"}
        loop = " <- ".join(_short(f) for f in reversed(sample["stacks"].get("loop", [])[-3:]))
        lines.append(
            f"{where}: loop at {loop}; busy: " + "; ".join(f"{n} at {_short(f)}" for n, f in busy.items())
        )
    return lines


def measure_loop_lag(rows: int, db_path: Path, work_dir: Path, port: int, runs: int) -> LagResult:
    """Run the job ``runs`` times in a real hass process and read the probe around each."""
    result = LagResult(rows=rows)
    base = work_dir / "hass"
    config_dir = _write_hass_config(base, port, db_path)
    log = (base / "hass.log").open("wb")
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "hass"),
            "--config",
            str(config_dir),
            "--skip-pip",
            "--log-file",
            str(base / "home-assistant.log"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    client = Client(port)
    probe_url = f"/api/services/{PROBE_DOMAIN}/report?return_response"
    try:
        client.wait_up(proc)
        result.start_s = time.perf_counter() - t0
        client.onboard(port)
        client.setup_integration({})
        client.request("POST", probe_url, {"reset": True})
        time.sleep(2.0)
        result.idle = client.request("POST", probe_url, {"reset": True})["service_response"]
        for _ in range(runs):
            client.request("POST", probe_url, {"reset": True})
            t1 = time.perf_counter()
            reply = client.request("POST", "/api/services/ai_automation/run_analysis?return_response", {})
            wall = time.perf_counter() - t1
            lag = client.request("POST", probe_url, {"reset": True})["service_response"]
            result.runs.append((wall, reply["service_response"]["job"], lag))
            job = reply["service_response"]["job"]
            phases = ", ".join(f"{k.removesuffix('_s')} {v:.3f}" for k, v in job["phases"].items())
            print(
                f"  run_analysis: {job['status']}, {job['events']} events, {job['patterns']} patterns,"
                f" {job['suggestions']} suggestions in {wall:.2f} s (job {job['duration_s']:.3f} s: {phases})"
                f" | loop lag max {lag['max_lag_ms']:.1f} ms, p99 {lag['p99_lag_ms']:.1f} ms,"
                f" {lag['slow_ticks']} of {lag['ticks']} ticks over {TARGET_LAG_MS:.0f} ms"
            )
            for line in _explain_stalls(job, lag):
                print("    " + line)
    except (RuntimeError, OSError, KeyError) as err:
        result.error = f"{type(err).__name__}: {err} (see {base / 'home-assistant.log'})"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()
    return result


# --- reporting ------------------------------------------------------------------------


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "MISS")


def _summary(results: dict[int, SizeResult], lag: LagResult | None) -> list[tuple[str, str, str, str]]:
    """(what, target, measured, verdict) per target of the issue."""
    table: list[tuple[str, str, str, str]] = []
    big = results.get(1_000_000)
    small = results.get(60_000)
    if big is not None:
        total, raw = big.median(lambda p: p.total_s), big.median(lambda p: p.raw_s)
        ratio = total / raw
        table.append(
            (
                "fetch+detect / raw scan, 1M rows",
                f"<= {TARGET_RATIO:.1f}x",
                f"{ratio:.2f}x ({total:.2f} s / {raw:.2f} s)",
                _verdict(ratio <= TARGET_RATIO),
            )
        )
    if small is not None:
        total = small.median(lambda p: p.total_s)
        table.append(
            (
                "fetch+detect, 60k rows",
                f"<= {TARGET_SMALL_S:.1f} s",
                f"{total:.3f} s",
                _verdict(total <= TARGET_SMALL_S),
            )
        )
    if big is not None:
        rss = big.median(lambda p: p.rss) / MB
        table.append(
            (
                "peak RSS increase, 1M rows",
                f"<= {TARGET_RSS_MB:.0f} MB",
                f"{rss:.0f} MB",
                _verdict(rss <= TARGET_RSS_MB),
            )
        )
    if lag is not None:
        label = f"event-loop lag during a run, {lag.rows:,} rows"
        if lag.error or not lag.runs:
            table.append((label, f"<= {TARGET_LAG_MS:.0f} ms", "not measured", _verdict(None)))
        else:
            table.append(
                (
                    label,
                    f"<= {TARGET_LAG_MS:.0f} ms",
                    f"{lag.worst_ms:.1f} ms",
                    _verdict(lag.worst_ms <= TARGET_LAG_MS),
                )
            )
    return table


def _print_table(rows: Sequence[tuple[str, ...]], header: tuple[str, ...]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print("  " + "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for row in rows:
        print("  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))


def _parse_sizes(text: str) -> list[int]:
    sizes = sorted({int(s.replace("_", "")) for s in text.split(",") if s.strip()})
    if not sizes or min(sizes) < 10_000:
        raise argparse.ArgumentTypeError("sizes are comma-separated row counts of 10000 or more")
    return sizes


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", type=_parse_sizes, default=list(SIZES), help="comma-separated row counts (60000,1000000)"
    )
    parser.add_argument("--skip-hass", action="store_true", help="skip the loop-lag run in a real hass")
    parser.add_argument("--runs", type=int, default=3, help="timed passes per size (best and median)")
    parser.add_argument("--profile", action="store_true", help="cProfile fetch and detect once per size")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=0, help="for the real hass (default: a free one)")
    parser.add_argument(
        "--dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "ai_automation_bench",
        help="work directory (databases are deleted at the end, logs kept)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the seeded databases")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("homeassistant.loader").setLevel(logging.ERROR)  # "custom integration" notice
    sys.path.insert(0, str(ROOT))  # custom_components.ai_automation, as in the tests

    work_dir: Path = args.dir
    work_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    print(
        f"Benchmark {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}: {os.cpu_count()} cores,"
        f" Python {sys.version.split()[0]}, numpy {np.__version__}, SQLite {sqlite3.sqlite_version};"
        f" work dir {work_dir}"
    )
    results: dict[int, SizeResult] = {}
    databases: dict[int, Path] = {}
    for rows in args.sizes:
        print(f"\n{rows:,} state changes, 200 entities, 30 days")
        t0 = time.perf_counter()
        home = large_home(rows, seed=args.seed, time_zone=TIME_ZONE)
        generate_s = time.perf_counter() - t0
        db_path = work_dir / f"home-{rows}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        t0 = time.perf_counter()
        written = seed_database(f"sqlite:///{db_path}", home.changes())
        seed_s = time.perf_counter() - t0
        result = SizeResult(rows, generate_s, seed_s, db_path.stat().st_size / MB)
        print(
            f"  generated in {generate_s:.2f} s; seeded {written:,} rows in {seed_s:.1f} s"
            f" ({written / seed_s:,.0f} rows/s), database {result.db_mb:.0f} MB"
        )
        asyncio.run(measure_in_process(result, home, db_path, work_dir, args.runs, args.profile))
        print(
            f"  reader: {result.fetched:,} rows of {result.entities} entities ({result.source});"
            f" detect: {result.time_of_day} time-of-day and {result.co_occurrence} co-occurrence patterns,"
            f" {result.planted_found}/{result.planted} planted routines and"
            f" {result.followers_found}/{N_FOLLOWER} follower lights found"
        )
        if result.profile:
            print("  profile (cProfile, cumulative):\n" + result.profile)
        results[rows] = result
        databases[rows] = db_path
        del home

    lag: LagResult | None = None
    if not args.skip_hass:
        rows = max(results)
        print(f"\nReal hass process, {rows:,} rows: event-loop lag while the job runs (probe every 10 ms)")
        lag = measure_loop_lag(rows, databases[rows], work_dir, args.port or _free_port(), args.runs)
        if lag.error:
            print(f"  not measured: {lag.error}")
        else:
            idle = lag.idle
            print(
                f"  hass answered after {lag.start_s:.1f} s; idle loop lag over 2 s:"
                f" max {idle['max_lag_ms']:.1f} ms, p99 {idle['p99_lag_ms']:.1f} ms"
            )

    print("\nPer size (median of the passes; best in brackets):")
    per_size = []
    for rows, r in results.items():
        total = r.median(lambda p: p.total_s)
        per_size.append(
            (
                f"{rows:,}",
                f"{r.seed_s:.1f} s ({rows / r.seed_s / 1000:.0f}k/s)",
                f"{r.median(lambda p: p.raw_s):.3f} ({r.best(lambda p: p.raw_s):.3f})",
                f"{r.median(lambda p: p.fetch_s):.3f} ({r.best(lambda p: p.fetch_s):.3f})",
                f"{r.median(lambda p: p.detect_s):.3f} ({r.best(lambda p: p.detect_s):.3f})",
                f"{total:.3f} ({r.best(lambda p: p.total_s):.3f})",
                f"{rows / total / 1000:,.0f}k",
                f"{total / r.median(lambda p: p.raw_s):.2f}x",
                f"{r.median(lambda p: p.rss) / MB:.0f} MB ({r.median(lambda p: p.raw_rss) / MB:.0f})",
            )
        )
    _print_table(
        per_size,
        (
            "rows",
            "seed",
            "raw scan s",
            "fetch s",
            "detect s",
            "fetch+detect s",
            "rows/s",
            "ratio",
            "peak RSS (raw)",
        ),
    )

    print("\nTargets:")
    _print_table(_summary(results, lag), ("target", "goal", "measured", ""))
    print(f"\nTotal {time.perf_counter() - started:.0f} s")
    if not args.keep:
        for db_path in databases.values():
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
