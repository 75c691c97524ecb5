"""Build ``EventLog`` objects by hand for the engine tests.

The world is "UTC as local time": an event on local day ``d`` at local minute ``m`` has
``ts = d * 86400 + m * 60``, and its weekday is ``(d + 3) % 7`` (1970-01-01 was a
Thursday), exactly as the shell would derive them for a zone with offset 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date

import numpy as np

from custom_components.ai_automation.engine.event_log import EventLog, Origin

MINUTES_PER_DAY = 1_440
SECONDS_PER_DAY = 86_400

# Local day number of Monday 2026-01-05: the first day of every test window.
MONDAY = (date(2026, 1, 5) - date(1970, 1, 1)).days
FOUR_WEEKS = range(MONDAY, MONDAY + 28)

Row = tuple[str, str, int, int, Origin]  # (entity_id, state, local_day, minute, origin)


def weekday_of(day: int) -> int:
    """Weekday of a local day number, 0 = Monday."""
    return (day + 3) % 7


def hm(hours: int, minutes: int) -> int:
    """Local minute of day of HH:MM."""
    return hours * 60 + minutes


def make_log(
    rows: Iterable[Row],
    first_day: int | None = None,
    last_day: int | None = None,
    *,
    covered: Iterable[int] | None = None,
    since: Mapping[str, int] | None = None,
) -> EventLog:
    """Return the ``EventLog`` of ``rows``; the window defaults to their day range.

    With an explicit window, rows outside it are dropped: the shell only hands the
    engine the analysed window. The recorder has history of every window day unless
    ``covered`` lists the days it has; every entity exists from the window's start
    unless ``since`` gives the local day of its first row.
    """
    rows = list(rows)
    if first_day is None:
        first_day = min(r[2] for r in rows)
    if last_day is None:
        last_day = max(r[2] for r in rows)
    rows = sorted(
        (r for r in rows if first_day <= r[2] <= last_day),
        key=lambda r: (r[2] * MINUTES_PER_DAY + r[3], r[0], r[1]),
    )
    entity_ids = tuple(sorted({r[0] for r in rows}))
    states = tuple(sorted({r[1] for r in rows}))
    day = np.array([r[2] for r in rows], dtype=np.int64)
    minute = np.array([r[3] for r in rows], dtype=np.int64)
    assert np.all((minute >= 0) & (minute < MINUTES_PER_DAY))
    window = np.arange(first_day, last_day + 1)
    covered_mask = np.ones(window.size, dtype=bool) if covered is None else np.isin(window, list(covered))
    since = since or {}
    entity_first_day = np.array([since.get(e, first_day) for e in entity_ids], dtype=np.int32)
    return EventLog(
        entity_ids=entity_ids,
        states=states,
        entity=np.array([entity_ids.index(r[0]) for r in rows], dtype=np.int32),
        state=np.array([states.index(r[1]) for r in rows], dtype=np.int32),
        ts=(day * SECONDS_PER_DAY + minute * 60).astype(np.float64),
        origin=np.array([int(r[4]) for r in rows], dtype=np.int8),
        offset_change_ts=np.zeros(1),  # UTC: the local fields are the given ones
        offset_s=np.zeros(1, dtype=np.int64),
        first_day=first_day,
        last_day=last_day,
        covered=covered_mask,
        entity_first_day=entity_first_day,
    )


def routine(
    entity_id: str,
    state: str,
    days: Iterable[int],
    minute: int,
    offsets: Sequence[int] | None = None,
    origin: Origin = Origin.USER,
) -> list[Row]:
    """One event per day in ``days`` at ``minute`` plus that day's offset.

    Offsets may carry an event over midnight: 23:55 + 10 is 00:05 of the next day.
    """
    days = list(days)
    if offsets is None:
        offsets = [0] * len(days)
    assert len(offsets) == len(days)
    rows: list[Row] = []
    for day, offset in zip(days, offsets, strict=True):
        total = day * MINUTES_PER_DAY + minute + int(offset)
        rows.append((entity_id, state, total // MINUTES_PER_DAY, total % MINUTES_PER_DAY, origin))
    return rows


def jitter(seed: int, n: int, width: int) -> list[int]:
    """``n`` reproducible offsets, uniform in ``[-width, width]`` minutes."""
    rng = np.random.default_rng(seed)
    return [int(x) for x in rng.integers(-width, width + 1, size=n)]


def on_weekdays(days: Iterable[int], weekdays: Iterable[int]) -> list[int]:
    """The days among ``days`` that fall on one of ``weekdays``."""
    wanted = set(weekdays)
    return [d for d in days if weekday_of(d) in wanted]
