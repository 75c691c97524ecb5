"""Properties that hold for every input hypothesis can think of."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.ai_automation.engine.co_occurrence import detect_co_occurrence
from custom_components.ai_automation.engine.event_log import EventLog, Origin
from custom_components.ai_automation.engine.local_time import local_fields, utc_offsets, weekday_of
from custom_components.ai_automation.engine.time_of_day import detect_time_of_day

from .builders import FOUR_WEEKS, MINUTES_PER_DAY, make_log

ZONES = ("America/New_York", "Europe/Amsterdam", "Asia/Kathmandu", "Australia/Lord_Howe", "UTC")


def _routine_rows(
    minute: int, jitter: list[int], missed: set[int]
) -> list[tuple[str, str, int, int, Origin]]:
    rows = []
    for i, day in enumerate(FOUR_WEEKS):
        if i in missed:
            continue
        m = minute + jitter[i % len(jitter)]
        rows.append(("light.lamp", "on", day + m // MINUTES_PER_DAY, m % MINUTES_PER_DAY, Origin.PHYSICAL))
    return rows


@settings(max_examples=60, deadline=None)
@given(
    minute=st.integers(0, MINUTES_PER_DAY - 1),
    jitter=st.lists(st.integers(-12, 12), min_size=1, max_size=28),
    missed=st.sets(st.integers(0, 27), max_size=4),
)
def test_a_daily_routine_is_found_wherever_it_sits_on_the_clock(
    minute: int, jitter: list[int], missed: set[int]
) -> None:
    """Any time of day, midnight included, jitter up to 12 min, up to 4 missed days: one routine."""
    log = make_log(_routine_rows(minute, jitter, missed), FOUR_WEEKS[0], FOUR_WEEKS[-1])
    patterns = detect_time_of_day(log)
    assert len(patterns) == 1
    found = patterns[0]
    distance = abs(found.minute - minute) % MINUTES_PER_DAY
    assert min(distance, MINUTES_PER_DAY - distance) <= 12
    assert 0.0 <= found.confidence <= 1.0
    assert found.occurrences <= found.eligible_days


@settings(max_examples=40, deadline=None)
@given(shift=st.integers(1, MINUTES_PER_DAY - 1), seed=st.integers(0, 2**16))
def test_shifting_every_event_shifts_the_routine_alike(shift: int, seed: int) -> None:
    """The clock is a circle: moving all times by k minutes moves the routine by k."""
    rng = np.random.default_rng(seed)
    minute = int(rng.integers(0, MINUTES_PER_DAY))
    jitter = [int(j) for j in rng.integers(-10, 11, 28)]
    base = detect_time_of_day(make_log(_routine_rows(minute, jitter, set()), FOUR_WEEKS[0], FOUR_WEEKS[-1]))
    moved = detect_time_of_day(
        make_log(_routine_rows(minute + shift, jitter, set()), FOUR_WEEKS[0], FOUR_WEEKS[-1])
    )
    assert len(base) == len(moved) == 1
    delta = (moved[0].minute - base[0].minute - shift) % MINUTES_PER_DAY
    assert min(delta, MINUTES_PER_DAY - delta) <= 3
    # Alike, not equal (a few minutes of median, half a minute of spread): a routine
    # shifted across midnight loses the event that now falls after the window's last
    # midnight (the shell reads complete days only).
    assert abs(moved[0].spread_min - base[0].spread_min) <= 0.5
    assert abs(moved[0].occurrences - base[0].occurrences) <= 1


@settings(max_examples=60, deadline=None)
@given(zone=st.sampled_from(ZONES), stamps=st.lists(st.integers(1_700_000_000, 1_900_000_000), min_size=1))
def test_local_fields_agree_with_datetime(zone: str, stamps: list[int]) -> None:
    """Minute, day and weekday equal what datetime says, in every zone, DST or not."""
    tz = ZoneInfo(zone)
    ts = np.array(sorted(stamps), dtype=np.float64)
    change_ts, offsets = utc_offsets(tz, float(ts[0]), float(ts[-1]) + 1)
    minute, day = local_fields(ts, change_ts, offsets)
    weekday = weekday_of(day.astype(np.int64))
    for i, stamp in enumerate(ts):
        local = datetime.fromtimestamp(stamp, UTC).astimezone(tz)
        assert minute[i] == local.hour * 60 + local.minute
        assert weekday[i] == local.weekday()
        assert day[i] == (local.date() - datetime(1970, 1, 1).date()).days


@settings(max_examples=40, deadline=None)
@given(
    triggers=st.lists(st.floats(0, 30 * 86_400, allow_nan=False), min_size=1, max_size=300),
    follow=st.floats(0, 1),
    seed=st.integers(0, 2**16),
)
def test_co_occurrence_counts_are_consistent(triggers: list[float], follow: float, seed: int) -> None:
    """Hits never exceed triggers or followers; lags lie inside the window."""
    rng = np.random.default_rng(seed)
    a = np.sort(np.asarray(triggers))
    b = np.sort(a[rng.random(a.size) < follow] + 3.0)
    ts = np.concatenate([a, b])
    entity = np.concatenate([np.zeros(a.size, np.int32), np.ones(b.size, np.int32)])
    order = np.argsort(ts, kind="stable")
    n = ts.size
    log = EventLog(
        entity_ids=("binary_sensor.motion", "light.hall"),
        states=("on",),
        entity=entity[order],
        state=np.zeros(n, np.int32),
        ts=ts[order],
        origin=np.full(n, int(Origin.PHYSICAL), np.int8),
        offset_change_ts=np.zeros(1),
        offset_s=np.zeros(1, dtype=np.int64),
        first_day=0,
        last_day=30,
        covered=np.ones(31, dtype=bool),
        entity_first_day=np.zeros(2, np.int32),
    )
    for p in detect_co_occurrence(log):
        assert p.occurrences <= p.trigger_count
        assert p.occurrences <= p.follower_count * p.trigger_count
        assert 0.0 <= p.confidence <= 1.0 and 0.0 <= p.coverage <= 1.0
        assert 0.0 <= p.lag_s <= p.lag_p90_s <= 120.0
