"""The compact history's files: what they keep, and that no restart or kill loses or breaks them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from custom_components.ai_automation.engine.history_files import (
    INDEX,
    Columns,
    HistoryFiles,
    compact,
    hour_runs,
    readings_only,
)

DAY = 86_400.0
T0 = 1_700_000_000.0 // DAY * DAY  # a UTC midnight


def columns(rows: list[tuple[str, str, float, int]]) -> Columns:
    """Columns from (entity_id, state, ts, origin) rows."""
    entity_ids = tuple(dict.fromkeys(r[0] for r in rows))
    states = tuple(dict.fromkeys(r[1] for r in rows))
    return Columns(
        entity_ids=entity_ids,
        states=states,
        entity=np.asarray([entity_ids.index(r[0]) for r in rows], np.int32),
        state=np.asarray([states.index(r[1]) for r in rows], np.int32),
        ts=np.asarray([r[2] for r in rows], np.float64),
        origin=np.asarray([r[3] for r in rows], np.int8),
    )


def rows_of(c: Columns) -> list[tuple[str, str, float, int]]:
    return [
        (c.entity_ids[e], c.states[s], float(t), int(o))
        for e, s, t, o in zip(c.entity, c.state, c.ts, c.origin, strict=True)
    ]


def hours(start: float, end: float) -> np.ndarray:
    return np.arange(int(start // 3600), int((end - 1) // 3600) + 1, dtype=np.int64)


DAY1 = [
    ("light.kitchen", "on", T0 + 6.75 * 3600, 1),
    ("sensor.temperature", "21.5", T0 + 6.8 * 3600, 0),
    ("sensor.last_boot", "2026-11-30T06:00:00+00:00", T0 + 6.9 * 3600, 0),
    ("sensor.agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/1", T0 + 7 * 3600, 0),
    ("light.kitchen", "unavailable", T0 + 7.5 * 3600, 0),
    ("light.kitchen", "off", T0 + 8 * 3600, 2),
    ("binary_sensor.motion", "on", T0 + 9 * 3600, 0),
]


def test_compact_keeps_what_a_detector_reads() -> None:
    """Readings, timestamps and free text go; on/off, unavailable and the name tables they use stay."""
    kept = compact(columns(DAY1))
    assert rows_of(kept) == [DAY1[0], DAY1[4], DAY1[5], DAY1[6]]
    assert set(kept.entity_ids) == {"light.kitchen", "binary_sensor.motion"}
    assert set(kept.states) == {"on", "off", "unavailable"}


def test_an_entity_of_readings_goes_whole() -> None:
    """A power sensor's readings and its 'unavailable' go; so it is not asked for again."""
    rows = [
        ("sensor.power", "12.5", T0 + 60, 0),
        ("sensor.power", "unavailable", T0 + 120, 0),
        ("sensor.power", "13.0", T0 + 180, 0),
        ("light.kitchen", "unavailable", T0 + 240, 0),
        ("light.kitchen", "on", T0 + 300, 1),
    ]
    read = columns(rows)
    kept = compact(read)
    assert rows_of(kept) == rows[3:]
    assert readings_only(read, kept) == {"sensor.power"}


def test_hour_runs() -> None:
    assert hour_runs(np.asarray([5, 3, 4, 9, 10, 12], np.int64)) == ((3, 5), (9, 10), (12, 12))
    assert hour_runs(np.empty(0, np.int64)) == ()


def test_spans_round_trip_across_a_restart(tmp_path: Path) -> None:
    """What two days stored is read back, joined and in order, by a fresh instance too."""
    files = HistoryFiles(tmp_path / "h")
    day2 = [(e, s, t + DAY, o) for e, s, t, o in DAY1]
    files.add(T0, T0 + DAY, compact(columns(DAY1)), hours(T0, T0 + DAY))
    files.add(T0 + DAY, T0 + 2 * DAY, compact(columns(day2)), hours(T0 + DAY, T0 + 12 * 3600 + DAY))
    for reader in (files, HistoryFiles(tmp_path / "h")):
        window = reader.window(T0, T0 + 2 * DAY)
        kept = [r for r in (*DAY1, *day2) if not r[0].startswith("sensor.")]
        assert rows_of(window.columns) == kept
        assert window.recorded_hours.size == 24 + 12
        assert window.origin_known and window.spans == 2
    # A part of the window, and only some entities.
    part = files.window(T0 + DAY, T0 + DAY + 8.5 * 3600, lambda e: e.startswith("light."))
    assert rows_of(part.columns) == [day2[0], day2[4], day2[5]]
    assert part.recorded_hours.size == 9


def test_gaps_drop_and_size(tmp_path: Path) -> None:
    files = HistoryFiles(tmp_path / "h")
    files.add(T0 + DAY, T0 + 2 * DAY, compact(columns(DAY1)), hours(T0, T0 + DAY))
    files.add(T0 + 3 * DAY, T0 + 4 * DAY, compact(columns([])), np.empty(0, np.int64))
    assert files.gaps(T0, T0 + 5 * DAY) == [
        (T0, T0 + DAY),
        (T0 + 2 * DAY, T0 + 3 * DAY),
        (T0 + 4 * DAY, T0 + 5 * DAY),
    ]
    assert files.size_bytes() > 0
    # An empty day has no file, only its entry: the range is known to have nothing.
    assert [s.file is None for s in files.spans()] == [False, True]
    assert files.drop_before(T0 + 2 * DAY) == 1
    assert [s.start for s in files.spans()] == [T0 + 3 * DAY]
    assert sorted(p.name for p in (tmp_path / "h").iterdir()) == [INDEX]


def test_the_oldest_days_go_past_the_size_bound(tmp_path: Path) -> None:
    files = HistoryFiles(tmp_path / "h")
    for day in range(5):
        shifted = [(e, s, t + day * DAY, o) for e, s, t, o in DAY1]
        files.add(T0 + day * DAY, T0 + (day + 1) * DAY, compact(columns(shifted)), hours(T0, T0 + DAY))
    each = files.spans()[0].bytes
    assert files.keep_within(3 * each) == 2
    assert [s.start for s in files.spans()] == [T0 + d * DAY for d in (2, 3, 4)]


def test_selecting_fewer_entities_rewrites_the_days(tmp_path: Path) -> None:
    """An entity no longer selected leaves every stored day, its name included."""
    files = HistoryFiles(tmp_path / "h")
    files.add(T0, T0 + DAY, compact(columns(DAY1)), hours(T0, T0 + DAY))
    assert (
        files.select({"exclude_entities": ["binary_sensor.motion"]}, lambda e: e != "binary_sensor.motion")
        == 1
    )
    again = HistoryFiles(tmp_path / "h")
    again.load()
    assert again.index.selection == {"exclude_entities": ["binary_sensor.motion"]}
    window = again.window(T0, T0 + DAY)
    assert window.columns.entity_ids == ("light.kitchen",)
    assert len(window.columns) == 3
    assert window.recorded_hours.size == 24


def test_an_unreadable_day_is_dropped_and_the_rest_kept(tmp_path: Path) -> None:
    files = HistoryFiles(tmp_path / "h")
    for day in range(2):
        shifted = [(e, s, t + day * DAY, o) for e, s, t, o in DAY1]
        files.add(T0 + day * DAY, T0 + (day + 1) * DAY, compact(columns(shifted)), hours(T0, T0 + DAY))
    broken = tmp_path / "h" / str(files.spans()[0].file)
    broken.write_bytes(broken.read_bytes()[:40])
    fresh = HistoryFiles(tmp_path / "h")
    window = fresh.window(T0, T0 + 2 * DAY)
    assert len(window.columns) == 4 and window.spans == 1
    # Dropped from the index too: the next read of the recorder fills that day again.
    assert HistoryFiles(tmp_path / "h").gaps(T0, T0 + 2 * DAY) == [(T0, T0 + DAY)]


def test_an_unreadable_or_newer_index_starts_afresh(tmp_path: Path) -> None:
    files = HistoryFiles(tmp_path / "h")
    files.add(T0, T0 + DAY, compact(columns(DAY1)), hours(T0, T0 + DAY))
    index = tmp_path / "h" / INDEX
    index.write_text(json.dumps({"version": 99, "spans": []}))
    assert HistoryFiles(tmp_path / "h").spans() == []
    index.write_text("{not json")
    fresh = HistoryFiles(tmp_path / "h")
    assert fresh.spans() == []
    # The files no index names are gone with it.
    assert sorted(p.name for p in (tmp_path / "h").iterdir()) == [INDEX]


_WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from custom_components.ai_automation.engine.history_files import Columns, HistoryFiles
    files = HistoryFiles(__import__("pathlib").Path(sys.argv[1]))
    rng = np.random.default_rng(int(sys.argv[2]))
    day = 0
    print("ready", flush=True)
    while True:
        n = int(rng.integers(20_000, 60_000))
        cols = Columns(
            ("light.a", "light.b"), ("on", "off"),
            rng.integers(0, 2, n).astype(np.int32), rng.integers(0, 2, n).astype(np.int32),
            np.sort(rng.uniform(day * 86400.0, (day + 1) * 86400.0, n)), np.ones(n, np.int8),
        )
        files.add(day * 86400.0, (day + 1) * 86400.0, cols, np.arange(day * 24, day * 24 + 24))
        files.drop_before((day - 5) * 86400.0)
        if day == 0:
            print("wrote", flush=True)
        day += 1
    """
)


@pytest.mark.parametrize("seed", range(4))
def test_a_kill_during_a_write_leaves_a_readable_history(tmp_path: Path, seed: int) -> None:
    """SIGKILL a process that writes days as fast as it can: what is left loads whole.

    Every day the index names reads back with the row count it names, nothing unnamed
    is left behind, and the history goes on being written after the kill.
    """
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(tmp_path / "h"), str(seed)],
        cwd=root,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"ready"
    assert proc.stdout.readline().strip() == b"wrote"
    time.sleep(0.05 + 0.13 * seed)  # then killed at some point of a later day's write
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    files = HistoryFiles(tmp_path / "h")
    spans = files.spans()
    assert spans
    window = files.window(spans[0].start, spans[-1].end)
    assert window.spans == len(spans)
    assert len(window.columns) == sum(s.rows for s in spans)
    assert np.all(np.diff(window.columns.ts) >= 0)
    listed = {s.file for s in files.spans()} | {INDEX}
    assert {p.name for p in (tmp_path / "h").iterdir()} <= listed
    end = spans[-1].end
    files.add(end, end + DAY, compact(columns([("light.a", "on", end + 60, 1)])), hours(end, end + DAY))
    assert HistoryFiles(tmp_path / "h").spans()[-1].rows == 1
