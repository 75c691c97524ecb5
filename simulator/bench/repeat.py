"""Memory over many runs: ``run_analysis`` N times in a row in one real ``hass``.

The memory probe (``memory_probe/``) reads the process's RSS after run 1, 10, every
tenth run and the last; the growth after the warm-up (run 10 to the last) is what a
home that runs the job every night for months would keep adding. With ``trace`` it
starts ``tracemalloc`` at run 5, takes its baseline after run 10 and, after the last,
lists how the traced memory changed since, by traceback and by file, and the object
types whose count grew.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.bench.real_hass import MEMORY_PROBE, RealHass, running_hass

MIB = 1 << 20
WARM_UP_RUNS = 10
TARGET_GROWTH_MIB = 5.0  # RSS growth from the end of the warm-up to the last run
# Tracing starts some runs before the baseline (see the memory probe's _Tracer).
TRACE_FROM = WARM_UP_RUNS // 2
TRACE_FRAMES = 6  # tracemalloc slows the job about tenfold; more frames slow it more


@dataclass(slots=True)
class RepeatResult:
    """RSS (bytes) after the runs it was read at, and what the last diff found."""

    rows: int
    runs: int
    rss: dict[int, int] = field(default_factory=dict)
    gc_objects: dict[int, int] = field(default_factory=dict)
    settled: dict[int, int] = field(default_factory=dict)
    job_s: list[float] = field(default_factory=list)
    trace: dict[str, Any] = field(default_factory=dict)
    by_file: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    @property
    def growth_after_warm_up(self) -> int:
        """RSS growth from run 10 (or the first read) to the last run."""
        first = WARM_UP_RUNS if WARM_UP_RUNS in self.rss else min(self.rss)
        return self.rss[max(self.rss)] - self.rss[first]


def _checkpoints(runs: int) -> set[int]:
    return {1, WARM_UP_RUNS, runs} | set(range(WARM_UP_RUNS, runs + 1, WARM_UP_RUNS))


def _read(hass: RealHass, result: RepeatResult, run: int, settle: bool) -> None:
    figures = hass.call(MEMORY_PROBE, "report", {"settle": settle})
    result.rss[run] = figures["rss"]
    result.gc_objects[run] = figures["gc_objects"]
    if settle:
        result.settled[run] = figures["rss_settled"]
    print(
        f"  after run {run:3d}: RSS {figures['rss'] / MIB:7.1f} MiB"
        + (f" ({figures['rss_settled'] / MIB:.1f} after gc + malloc_trim)" if settle else "")
        + f", {figures['gc_objects']:,} objects tracked by the GC,"
        f" job {result.job_s[-1]:.2f} s"
    )


def _run_all(hass: RealHass, result: RepeatResult, trace: bool, settle: bool) -> None:
    checkpoints = _checkpoints(result.runs)
    for run in range(1, result.runs + 1):
        t0 = time.perf_counter()
        job = hass.call("ai_automation", "run_analysis")["job"]
        result.job_s.append(time.perf_counter() - t0)
        if run == 1:
            print(
                f"  run 1: {job['status']}, {job['events']:,} events, {job['patterns']} patterns,"
                f" {job['suggestions']} suggestions"
            )
        if run in checkpoints:
            _read(hass, result, run, settle)
        if trace and run == TRACE_FROM:
            hass.call(MEMORY_PROBE, "trace_start", {"frames": TRACE_FRAMES})
        if trace and run == WARM_UP_RUNS:
            hass.call(MEMORY_PROBE, "trace_mark")
    if trace:
        result.trace = hass.call(MEMORY_PROBE, "trace_diff", {"limit": 12, "group_by": "traceback"})
        result.by_file = hass.call(MEMORY_PROBE, "trace_diff", {"limit": 12, "group_by": "filename"})


def measure_repeat(
    rows: int,
    db_path: Path,
    work_dir: Path,
    port: int,
    runs: int,
    *,
    trace: bool = False,
    settle: bool = False,
    integration: Path | None = None,
) -> RepeatResult:
    """``run_analysis`` ``runs`` times in one real hass on ``db_path``, reading its memory."""
    result = RepeatResult(rows=rows, runs=runs)
    base = work_dir / "hass-repeat"
    try:
        with running_hass(base, port, db_path, [MEMORY_PROBE], integration) as hass:
            print(f"  hass answered after {hass.start_s:.1f} s")
            _run_all(hass, result, trace, settle)
    except (RuntimeError, OSError, KeyError) as err:
        result.error = f"{type(err).__name__}: {err} (see {base / 'home-assistant.log'})"
    return result


def _short(frame: str) -> str:
    """'/long/path/site-packages/pkg/module.py:12' -> 'pkg/module.py:12'."""
    return "/".join(Path(frame).parts[-3:])


def print_repeat(result: RepeatResult) -> None:
    """The figures, and where the traced growth was allocated."""
    if result.error:
        print(f"  not measured: {result.error}")
        return
    last = max(result.rss)
    reads = ", ".join(f"run {run}: {rss / MIB:.1f} MiB" for run, rss in sorted(result.rss.items()))
    growth = result.growth_after_warm_up / MIB
    verdict = "PASS" if growth <= TARGET_GROWTH_MIB else "MISS"
    print(f"\nRSS after {reads}")
    print(
        f"Growth: runs 1->{last} {(result.rss[last] - result.rss[min(result.rss)]) / MIB:.1f} MiB;"
        f" after the warm-up (runs {WARM_UP_RUNS}->{last}) {growth:.1f} MiB"
        f" (goal <= {TARGET_GROWTH_MIB:.0f} MiB: {verdict})"
    )
    if result.trace.get("tracing"):
        _print_trace(result, last)


def _print_trace(result: RepeatResult, last: int) -> None:
    trace, by_file = result.trace, result.by_file
    print(
        f"\ntracemalloc (on from run {TRACE_FROM}; it slows the job and adds to the RSS above),"
        f" runs {WARM_UP_RUNS}->{last}: {trace['growth_bytes'] / MIB:+.2f} MiB"
        f" (traced now {trace['traced_bytes'] / MIB:.1f} MiB). By file:"
    )
    for stat in by_file["top"]:
        where = _short(stat["frames"][0]).removesuffix(":0")
        print(f"  {stat['size_diff'] / 1024:+9.1f} KiB {stat['count_diff']:+7d} blocks  {where}")
    print("By traceback (allocating line last):")
    for stat in trace["top"][:8]:
        print(f"  {stat['size_diff'] / 1024:+9.1f} KiB {stat['count_diff']:+7d} blocks")
        for frame in stat["frames"][-6:]:
            print(f"      {_short(frame)}")
    print("Object types whose count grew: " + ", ".join(f"{name} +{n}" for name, n in trace["types"]))
