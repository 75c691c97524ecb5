"""The event loop's lag while ``ai_automation.run_analysis`` runs inside a real ``hass``.

The loop-lag probe (``loop_lag_probe/``) ticks every 10 ms; around each run the bench
reads how late its ticks ran and which GC pause or thread stack was behind each stall.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from simulator.bench.real_hass import LOOP_LAG_PROBE, RealHass, running_hass

TARGET_LAG_MS = 50.0  # worst event-loop lag while a job runs inside a real hass


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


def _explain_stall(stall: dict[str, Any], job: dict[str, Any], lag: dict[str, Any]) -> str:
    """When a tick later than 50 ms was due, and the GC or stack behind it."""
    start, end = stall["from"], stall["to"]
    where = f"stall {stall['lag_ms']:.0f} ms in {_phase_at(job, start)}"
    collections = [
        c for c in lag.get("gc", []) if c["at"] <= end and c["at"] + c["ms"] / 1000 >= start - 0.005
    ]
    if collections:
        pauses = (f"gen-{c['generation']} GC {c['ms']:.0f} ms in {c['thread']}" for c in collections)
        return where + ": " + ", ".join(pauses)
    sample = min(lag.get("samples", []), key=lambda s: abs(s["at"] - end), default=None)
    if sample is None or not start <= sample["at"] <= end + 0.02:
        return where + ": no GC, no stack sample"
    busy = {name: frames[-1] for name, frames in sample["stacks"].items() if frames and name != "loop"}
    loop = " <- ".join(_short(f) for f in reversed(sample["stacks"].get("loop", [])[-3:]))
    return f"{where}: loop at {loop}; busy: " + "; ".join(f"{n} at {_short(f)}" for n, f in busy.items())


def _explain_stalls(job: dict[str, Any], lag: dict[str, Any], limit: int = 5) -> list[str]:
    """One line per tick later than 50 ms (the ``limit`` worst)."""
    return [_explain_stall(stall, job, lag) for stall in lag.get("slow", [])[:limit]]


def _timed_run(hass: RealHass) -> tuple[float, dict[str, Any], dict[str, Any]]:
    """One ``run_analysis``: its wall time, its job record, the loop lag while it ran."""
    hass.call(LOOP_LAG_PROBE, "report", {"reset": True})
    t1 = time.perf_counter()
    job = hass.call("ai_automation", "run_analysis")["job"]
    wall = time.perf_counter() - t1
    lag = hass.call(LOOP_LAG_PROBE, "report", {"reset": True})
    phases = ", ".join(f"{k.removesuffix('_s')} {v:.3f}" for k, v in job["phases"].items())
    # The first run back-fills the compact history from the recorder; the next ones read
    # their window from it (no new day to read within the same day).
    days_read = (job.get("history") or {}).get("days_read", "?")
    print(
        f"  run_analysis: {job['status']}, {days_read} days read from the recorder,"
        f" {job['events']} events, {job['patterns']} patterns,"
        f" {job['suggestions']} suggestions in {wall:.2f} s (job {job['duration_s']:.3f} s: {phases})"
        f" | loop lag max {lag['max_lag_ms']:.1f} ms, p99 {lag['p99_lag_ms']:.1f} ms,"
        f" {lag['slow_ticks']} of {lag['ticks']} ticks over {TARGET_LAG_MS:.0f} ms"
    )
    for line in _explain_stalls(job, lag):
        print("    " + line)
    return wall, job, lag


def measure_loop_lag(
    rows: int, db_path: Path, work_dir: Path, port: int, runs: int, integration: Path | None = None
) -> LagResult:
    """Run the job ``runs`` times in a real hass process and read the probe around each."""
    result = LagResult(rows=rows)
    base = work_dir / "hass"
    try:
        with running_hass(base, port, db_path, [LOOP_LAG_PROBE], integration) as hass:
            result.start_s = hass.start_s
            hass.call(LOOP_LAG_PROBE, "report", {"reset": True})
            time.sleep(2.0)
            result.idle = hass.call(LOOP_LAG_PROBE, "report", {"reset": True})
            for _ in range(runs):
                result.runs.append(_timed_run(hass))
    except (RuntimeError, OSError, KeyError) as err:
        result.error = f"{type(err).__name__}: {err} (see {base / 'home-assistant.log'})"
    return result
