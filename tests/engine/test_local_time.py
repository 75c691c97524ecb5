"""UTC timestamps to local wall-clock fields across DST, in zones with odd offsets."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from custom_components.ai_automation.engine.local_time import (
    local_day_of,
    local_fields,
    utc_offsets,
    weekday_of,
)

from .builders import hm

NEW_YORK = ZoneInfo("America/New_York")
EST = -5 * 3600
EDT = -4 * 3600
EPOCH = date(1970, 1, 1)


def utc(*args: int) -> float:
    """Epoch seconds of a UTC wall-clock time."""
    return datetime(*args, tzinfo=UTC).timestamp()


def day_number(d: date) -> int:
    """Days since 1970-01-01."""
    return (d - EPOCH).days


def fields_of(tz: ZoneInfo, stamps: list[float], start: float, end: float) -> list[tuple[int, int, int]]:
    """(minute, local_day, weekday) per timestamp, via the engine."""
    change_ts, offset_s = utc_offsets(tz, start, end)
    minute, day = local_fields(np.asarray(stamps, dtype=np.float64), change_ts, offset_s)
    weekday = weekday_of(day.astype(np.int64))
    return [(int(m), int(d), int(w)) for m, d, w in zip(minute, day, weekday, strict=True)]


def expected_fields(tz: ZoneInfo, ts: float) -> tuple[int, int, int]:
    """(minute, local_day, weekday) of one timestamp, via datetime."""
    local = datetime.fromtimestamp(ts, tz=UTC).astimezone(tz)
    return local.hour * 60 + local.minute, day_number(local.date()), local.weekday()


# --- utc_offsets: the offset changes, found to the second ---------------------------------


def test_spring_forward_is_found_to_the_second() -> None:
    """New York jumps from 02:00 EST to 03:00 EDT on 2026-03-08, i.e. at 07:00:00 UTC."""
    start, end = utc(2026, 3, 7), utc(2026, 3, 10)
    change_ts, offset_s = utc_offsets(NEW_YORK, start, end)
    assert change_ts.tolist() == [start, utc(2026, 3, 8, 7)]
    assert offset_s.tolist() == [EST, EDT]


def test_fall_back_is_found_to_the_second() -> None:
    """New York goes from 02:00 EDT back to 01:00 EST on 2026-11-01, i.e. at 06:00:00 UTC."""
    start, end = utc(2026, 10, 31), utc(2026, 11, 3)
    change_ts, offset_s = utc_offsets(NEW_YORK, start, end)
    assert change_ts.tolist() == [start, utc(2026, 11, 1, 6)]
    assert offset_s.tolist() == [EDT, EST]


def test_a_window_without_a_change_has_one_offset() -> None:
    """A summer week in New York: the offset in force at the start, nothing else."""
    start, end = utc(2026, 7, 1), utc(2026, 7, 8)
    change_ts, offset_s = utc_offsets(NEW_YORK, start, end)
    assert change_ts.tolist() == [start]
    assert offset_s.tolist() == [EDT]


def test_a_window_starting_on_the_change_second_starts_with_the_new_offset() -> None:
    start = utc(2026, 3, 8, 7)
    change_ts, offset_s = utc_offsets(NEW_YORK, start, start + 86_400)
    assert change_ts.tolist() == [start]
    assert offset_s.tolist() == [EDT]


@pytest.mark.parametrize(
    ("zone", "changes"),
    [
        ("UTC", []),
        ("Asia/Kathmandu", []),
        ("America/New_York", [(utc(2026, 3, 8, 7), EDT), (utc(2026, 11, 1, 6), EST)]),
        ("Europe/Amsterdam", [(utc(2026, 3, 29, 1), 2 * 3600), (utc(2026, 10, 25, 1), 3600)]),
        # Lord Howe Island: +11:00 in summer, +10:30 in winter; a half-hour shift that
        # happens at 02:00 local, so at hh:30 UTC when going into DST.
        (
            "Australia/Lord_Howe",
            [(utc(2026, 4, 4, 15), 37_800), (utc(2026, 10, 3, 15, 30), 39_600)],
        ),
    ],
)
def test_every_change_of_a_year_is_found(zone: str, changes: list[tuple[float, int]]) -> None:
    tz = ZoneInfo(zone)
    start, end = utc(2026, 1, 1), utc(2027, 1, 1)
    change_ts, offset_s = utc_offsets(tz, start, end)
    first_offset = int(datetime.fromtimestamp(start, tz=UTC).astimezone(tz).utcoffset().total_seconds())
    assert list(zip(change_ts.tolist(), offset_s.tolist(), strict=True)) == [(start, first_offset), *changes]
    # Each change is the first second of its offset: one second earlier the old one held.
    for ts, before in zip(change_ts[1:], offset_s[:-1], strict=True):
        prev = datetime.fromtimestamp(ts - 1, tz=UTC).astimezone(tz).utcoffset()
        assert int(prev.total_seconds()) == before


# --- local_fields: the wall clock of each event ----------------------------------------------


def test_spring_forward_skips_from_0159_to_0300() -> None:
    """The last second before the jump reads 01:59, the jump itself 03:00, same day."""
    jump = utc(2026, 3, 8, 7)
    got = fields_of(NEW_YORK, [jump - 1, jump - 0.5, jump, jump + 59], utc(2026, 3, 7), utc(2026, 3, 10))
    march_8 = day_number(date(2026, 3, 8))
    sunday = 6
    assert got == [
        (hm(1, 59), march_8, sunday),
        (hm(1, 59), march_8, sunday),
        (hm(3, 0), march_8, sunday),
        (hm(3, 0), march_8, sunday),
    ]


def test_the_repeated_hour_maps_both_0130s_to_minute_90_of_the_same_day() -> None:
    """01:30 EDT (05:30 UTC) and 01:30 EST (06:30 UTC) on 2026-11-01 are both 01:30 local."""
    first_0130, second_0130 = utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 30)
    start, end = utc(2026, 10, 31), utc(2026, 11, 3)
    got = fields_of(NEW_YORK, [first_0130, second_0130], start, end)
    november_1 = day_number(date(2026, 11, 1))
    assert got == [(90, november_1, 6), (90, november_1, 6)]
    assert local_day_of(NEW_YORK, first_0130) == local_day_of(NEW_YORK, second_0130) == november_1


def test_the_repeated_hour_rolls_back_at_the_change() -> None:
    """01:59:59 EDT is followed by 01:00:00 EST."""
    change = utc(2026, 11, 1, 6)
    got = fields_of(NEW_YORK, [change - 1, change], utc(2026, 10, 31), utc(2026, 11, 3))
    assert [m for m, _, _ in got] == [hm(1, 59), hm(1, 0)]


def test_local_midnight_not_utc_midnight_starts_the_day() -> None:
    """23:30 in New York on Saturday 2026-03-07 is already Sunday 04:30 UTC."""
    ts = utc(2026, 3, 8, 4, 30)
    (got,) = fields_of(NEW_YORK, [ts], utc(2026, 3, 7), utc(2026, 3, 10))
    assert got == (hm(23, 30), day_number(date(2026, 3, 7)), 5)
    assert local_day_of(NEW_YORK, ts) == day_number(date(2026, 3, 7))


ZONES = ["UTC", "America/New_York", "Europe/Amsterdam", "Asia/Kathmandu", "Australia/Lord_Howe"]


@pytest.mark.parametrize("zone", ZONES)
def test_random_timestamps_over_a_year_match_datetime(zone: str) -> None:
    """Minute, local day and weekday agree with ``datetime`` for 400 random instants."""
    tz = ZoneInfo(zone)
    start, end = utc(2026, 1, 1), utc(2027, 1, 1)
    rng = np.random.default_rng(sum(map(ord, zone)))
    stamps = np.sort(rng.uniform(start, end, size=400)).tolist()
    assert fields_of(tz, stamps, start, end) == [expected_fields(tz, ts) for ts in stamps]


@pytest.mark.parametrize("zone", ZONES)
def test_instants_around_each_change_match_datetime(zone: str) -> None:
    """Seconds either side of every change (where an hourly rounding error would show)."""
    tz = ZoneInfo(zone)
    start, end = utc(2026, 1, 1), utc(2027, 1, 1)
    change_ts, _ = utc_offsets(tz, start, end)
    stamps = sorted(float(c + d) for c in change_ts[1:] for d in (-3601, -61, -1, 0, 1, 60, 1799, 3600))
    assert fields_of(tz, stamps, start, end) == [expected_fields(tz, ts) for ts in stamps]


@pytest.mark.parametrize("zone", ZONES)
def test_local_day_of_matches_datetime(zone: str) -> None:
    tz = ZoneInfo(zone)
    rng = np.random.default_rng(len(zone))
    for ts in rng.uniform(utc(2026, 1, 1), utc(2027, 1, 1), size=300).tolist():
        assert local_day_of(tz, ts) == expected_fields(tz, ts)[1]


def test_weekday_zero_is_monday() -> None:
    """Monday 2026-01-05 noon UTC is weekday 0, and the week runs on to Sunday = 6."""
    monday_noon = utc(2026, 1, 5, 12)
    stamps = [monday_noon + i * 86_400 for i in range(7)]
    got = fields_of(ZoneInfo("UTC"), stamps, monday_noon, stamps[-1])
    assert [w for _, _, w in got] == list(range(7))
    assert [d for _, d, _ in got] == [day_number(date(2026, 1, 5) + timedelta(days=i)) for i in range(7)]
