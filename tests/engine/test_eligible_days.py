"""Days a routine could have happened on: recorded days, and only since its entity exists.

The recorder keeps 10 days by default, Home Assistant is sometimes off, and entities are
added: a share of days counts the days with history of the entity, not the window's.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.ai_automation.engine.backtest import backtest_time_of_day
from custom_components.ai_automation.engine.co_occurrence import detect_co_occurrence
from custom_components.ai_automation.engine.event_log import Origin
from custom_components.ai_automation.engine.time_of_day import (
    TimeOfDayParams,
    TimeOfDayPattern,
    detect_time_of_day,
)

from .builders import MINUTES_PER_DAY, MONDAY, Row, hm, jitter, make_log, on_weekdays, routine, weekday_of

WEEKDAYS = (0, 1, 2, 3, 4)
THIRTY_DAYS = range(MONDAY, MONDAY + 30)
LAST_TEN = range(MONDAY + 20, MONDAY + 30)


def only(patterns: list[TimeOfDayPattern], entity_id: str) -> TimeOfDayPattern:
    (pattern,) = [p for p in patterns if p.entity_id == entity_id]
    return pattern


def sensor_readings(days: range) -> list[Row]:
    """A temperature sensor reporting hourly: the recorder has rows of these days."""
    return [("sensor.temperature", "21.5", d, h * 60, Origin.SYSTEM) for d in days for h in range(24)]


# --- the recorder keeps fewer days than the lookback -----------------------------------------


def test_a_routine_on_all_ten_recorded_days_of_a_thirty_day_window_has_share_one() -> None:
    """A default recorder (10 days) under the default lookback (30): 10 of 10, not 10 of 30."""
    rows = routine("light.kitchen", "on", LAST_TEN, hm(6, 45), jitter(1, 10, 8))
    log = make_log(rows, THIRTY_DAYS.start, THIRTY_DAYS.stop - 1, covered=LAST_TEN)
    assert log.day_count == 30
    assert log.days_analysed == 10
    pattern = only(detect_time_of_day(log), "light.kitchen")
    assert pattern.day_set == "daily"
    assert (pattern.occurrences, pattern.eligible_days, pattern.share_of_days) == (10, 10, 1.0)
    assert 0 < pattern.confidence <= 1


def test_the_same_ten_days_in_a_fully_recorded_window_are_a_habit_that_started() -> None:
    """Had the recorder kept all 30 days, a light on only on the last 10 is a new habit:
    its days count from its first one (see test_habits)."""
    rows = routine("light.kitchen", "on", LAST_TEN, hm(6, 45), jitter(1, 10, 8))
    log = make_log(rows, THIRTY_DAYS.start, THIRTY_DAYS.stop - 1)
    pattern = only(detect_time_of_day(log), "light.kitchen")
    assert (pattern.occurrences, pattern.eligible_days) == (10, 10)


def test_a_weekday_routine_counts_the_recorded_weekdays() -> None:
    """The ten recorded days (Sunday to the Tuesday after next) hold 7 weekdays: 6 of 7."""
    weekdays = on_weekdays(LAST_TEN, WEEKDAYS)
    assert len(weekdays) == 7
    days = weekdays[:3] + weekdays[4:]
    rows = routine("light.kitchen", "on", days, hm(6, 45), jitter(2, len(days), 6))
    log = make_log(rows, THIRTY_DAYS.start, THIRTY_DAYS.stop - 1, covered=LAST_TEN)
    pattern = only(detect_time_of_day(log), "light.kitchen")
    assert pattern.days == WEEKDAYS
    assert (pattern.occurrences, pattern.eligible_days) == (6, 7)


# --- an entity added during the window ---------------------------------------------------------


def test_an_entity_added_five_days_ago_has_five_eligible_days() -> None:
    """A new lamp on at 19:00 on each of its 5 days: 5 of 5, though the window has 30."""
    new_days = range(THIRTY_DAYS.stop - 5, THIRTY_DAYS.stop)
    rows = routine("light.new_lamp", "on", new_days, hm(19, 0), jitter(3, 5, 5))
    rows += sensor_readings(THIRTY_DAYS)
    log = make_log(rows, THIRTY_DAYS.start, THIRTY_DAYS.stop - 1, since={"light.new_lamp": new_days.start})
    pattern = only(detect_time_of_day(log), "light.new_lamp")
    assert (pattern.occurrences, pattern.eligible_days, pattern.share_of_days) == (5, 5, 1.0)
    assert set(pattern.hit_days) == set(new_days)


def test_an_entity_that_existed_all_along_counts_every_day() -> None:
    """The same five evenings of a lamp that was there all month: 5 of 30, no routine."""
    new_days = range(THIRTY_DAYS.stop - 5, THIRTY_DAYS.stop)
    rows = routine("light.old_lamp", "on", new_days, hm(19, 0), jitter(3, 5, 5))
    log = make_log(rows, THIRTY_DAYS.start, THIRTY_DAYS.stop - 1)
    assert detect_time_of_day(log) == []


def test_an_entity_counts_only_from_its_first_day_within_the_recorded_days() -> None:
    """Recorded: the last 10 days; the entity arrived 7 days ago. Its days are those 7."""
    since = THIRTY_DAYS.stop - 7
    rows = routine("light.new_lamp", "on", range(since, THIRTY_DAYS.stop), hm(7, 0), jitter(4, 7, 5))
    log = make_log(
        rows, THIRTY_DAYS.start, THIRTY_DAYS.stop - 1, covered=LAST_TEN, since={"light.new_lamp": since}
    )
    assert only(detect_time_of_day(log), "light.new_lamp").eligible_days == 7
    assert len(log.eligible_days("light.new_lamp")) == 7


# --- days Home Assistant was off ---------------------------------------------------------------


def test_days_with_home_assistant_off_are_not_eligible() -> None:
    """Four weeks, off for the 8 days of the second week and a half: 20 of 20 days."""
    window = range(MONDAY, MONDAY + 28)
    off = set(range(MONDAY + 8, MONDAY + 16))
    on = [d for d in window if d not in off]
    rows = routine("cover.blinds", "open", on, hm(7, 15), jitter(5, len(on), 8))
    log = make_log(rows, window.start, window.stop - 1, covered=on)
    assert log.days_analysed == 20
    pattern = only(detect_time_of_day(log), "cover.blinds")
    assert (pattern.occurrences, pattern.eligible_days, pattern.share_of_days) == (20, 20, 1.0)
    assert not off & set(pattern.hit_days)


def test_a_gap_removes_its_weekdays_from_a_weekday_routine() -> None:
    """Off Monday to Friday of the second week: 15 weekdays remain, the routine hit 14."""
    window = range(MONDAY, MONDAY + 28)
    off = set(range(MONDAY + 7, MONDAY + 12))
    on = [d for d in window if d not in off]
    days = [d for d in on_weekdays(on, WEEKDAYS) if d != MONDAY + 15]
    rows = routine("light.kitchen", "on", days, hm(6, 45), jitter(6, len(days), 6))
    log = make_log(rows, window.start, window.stop - 1, covered=on)
    pattern = only(detect_time_of_day(log), "light.kitchen")
    assert pattern.days == WEEKDAYS
    assert (pattern.occurrences, pattern.eligible_days) == (14, 15)


def test_the_evening_before_the_first_recorded_day_is_not_one_of_its_days() -> None:
    """Lights off at 23:55 every evening; the evening before the recorder's first day they
    went off at 00:05, which is on the first recorded day. That evening has no history of
    its own: 10 evenings of 10, not 11.
    """
    evenings = range(LAST_TEN.start - 1, LAST_TEN.stop)
    rows = routine("light.bedroom", "off", evenings, hm(23, 55), [10] + [0] * 10)
    log = make_log(rows, THIRTY_DAYS.start, THIRTY_DAYS.stop - 1, covered=LAST_TEN)
    pattern = only(detect_time_of_day(log), "light.bedroom")
    assert (pattern.occurrences, pattern.eligible_days) == (10, 10)
    assert set(pattern.hit_days) == set(LAST_TEN)


# --- few days: a share must also beat chance ----------------------------------------------------


def plug_switched_at_random(days: range, per_day: int, seed: int) -> list[Row]:
    """``per_day`` changes a day at uniformly random times: no routine at all."""
    rng = np.random.default_rng(seed)
    return [
        ("switch.plug", "on", day, int(m), Origin.USER)
        for day in days
        for m in rng.integers(0, MINUTES_PER_DAY, size=per_day)
    ]


def test_five_of_ten_evenings_are_chance_for_a_plug_switched_at_random() -> None:
    """Switched on once or twice a day at random, about one day in eight has a change in
    any given 2 hours: 5 tight evenings out of 10 are something chance makes (1 in 300)."""
    rows = plug_switched_at_random(LAST_TEN, 1, seed=11)
    evenings = list(LAST_TEN)[::2]
    rows += routine("switch.plug", "on", evenings, hm(20, 45), jitter(12, 5, 5))
    log = make_log(rows, THIRTY_DAYS.start, THIRTY_DAYS.stop - 1, covered=LAST_TEN)
    # By share alone (the chance test off) it would pass: 5 of 10 days, tight, dense.
    (by_share,) = detect_time_of_day(log, TimeOfDayParams(max_chance=1.0))
    assert (by_share.occurrences, by_share.eligible_days) == (5, 10)
    assert detect_time_of_day(log) == []


def test_five_of_ten_evenings_are_a_routine_for_a_lamp_switched_only_then() -> None:
    rows = routine("switch.plug", "on", list(LAST_TEN)[::2], hm(20, 45), jitter(12, 5, 5))
    log = make_log(rows, THIRTY_DAYS.start, THIRTY_DAYS.stop - 1, covered=LAST_TEN)
    (pattern,) = detect_time_of_day(log)
    assert (pattern.occurrences, pattern.eligible_days) == (5, 10)


def test_the_same_habit_over_more_days_is_no_chance() -> None:
    """The randomly switched plug on at 20:45 on 15 of 30 days: that many is no accident."""
    rows = plug_switched_at_random(THIRTY_DAYS, 1, seed=13)
    rows += routine("switch.plug", "on", list(THIRTY_DAYS)[::2], hm(20, 45), jitter(14, 15, 5))
    (pattern,) = detect_time_of_day(make_log(rows, THIRTY_DAYS.start, THIRTY_DAYS.stop - 1))
    assert pattern.occurrences >= 15


# --- the backtest fires where the share counts --------------------------------------------------


def test_the_backtest_fires_only_on_recorded_days() -> None:
    rows = routine("light.kitchen", "on", LAST_TEN, hm(6, 45), jitter(7, 10, 5))
    log = make_log(rows, THIRTY_DAYS.start, THIRTY_DAYS.stop - 1, covered=LAST_TEN)
    pattern = only(detect_time_of_day(log), "light.kitchen")
    result = backtest_time_of_day(log, pattern)
    assert result.would_have_fired == pattern.eligible_days == 10
    assert result.matched == 10
    assert result.precision == 1.0


def test_the_backtest_of_a_new_entity_fires_from_its_first_day() -> None:
    new_days = range(THIRTY_DAYS.stop - 6, THIRTY_DAYS.stop)
    weekdays = on_weekdays(new_days, WEEKDAYS)
    rows = routine("light.new_lamp", "on", new_days, hm(19, 0), jitter(8, 6, 5))
    log = make_log(rows, THIRTY_DAYS.start, THIRTY_DAYS.stop - 1, since={"light.new_lamp": new_days.start})
    pattern = only(detect_time_of_day(log), "light.new_lamp")
    assert backtest_time_of_day(log, pattern).would_have_fired == 6
    weekday_pattern = dataclasses.replace(pattern, days=WEEKDAYS, day_set="weekdays")
    assert backtest_time_of_day(log, weekday_pattern).would_have_fired == len(weekdays)


# --- co-occurrence: chance over the recorded time -----------------------------------------------


def _hallway(days: list[int]) -> list[Row]:
    """Motion 20 times a day at fixed minutes, the light a minute later on 3 of 4."""
    rows: list[Row] = []
    for day in days:
        for i, minute in enumerate(range(7 * 60, 23 * 60, 48)):
            rows.append(("binary_sensor.hall_motion", "on", day, minute, Origin.SYSTEM))
            if i % 4:
                rows.append(("light.hall", "on", day, minute + 1, Origin.PHYSICAL))
    return rows


def test_a_gap_does_not_make_a_follower_look_rarer_than_it_is() -> None:
    """B's chance in any 2 minutes is its rate over the time recorded: a week with Home
    Assistant off between two weeks of history leaves the lift as it was."""
    two_weeks = list(range(MONDAY, MONDAY + 14))
    together = make_log(_hallway(two_weeks), MONDAY, MONDAY + 13)
    split_days = [*range(MONDAY, MONDAY + 7), *range(MONDAY + 14, MONDAY + 21)]
    apart = make_log(_hallway(split_days), MONDAY, MONDAY + 20, covered=split_days)
    (a,) = detect_co_occurrence(together)
    (b,) = detect_co_occurrence(apart)
    assert (a.occurrences, a.confidence, a.coverage) == (b.occurrences, b.confidence, b.coverage)
    assert b.lift == pytest.approx(a.lift, rel=0.1)


# --- properties ---------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    covered=st.lists(st.booleans(), min_size=28, max_size=28),
    since=st.integers(0, 27),
    hit=st.floats(0.3, 1.0),
    seed=st.integers(0, 2**16),
)
def test_occurrences_never_exceed_the_days_it_could_have_happened(
    covered: list[bool], since: int, hit: float, seed: int
) -> None:
    """Whatever the recorded days and the entity's start, hits lie on eligible days."""
    rng = np.random.default_rng(seed)
    recorded = [MONDAY + i for i, c in enumerate(covered) if c]
    days = [d for d in recorded if rng.random() < hit]
    rows = routine("light.a", "on", days, hm(23, 50), [int(x) for x in rng.integers(-20, 21, len(days))])
    rows += [("light.a", "off", d, hm(12, 0), Origin.USER) for d in recorded]
    log = make_log(rows, MONDAY, MONDAY + 27, covered=recorded, since={"light.a": MONDAY + since})
    eligible = set(log.eligible_days("light.a").tolist())
    for pattern in detect_time_of_day(log):
        assert set(pattern.hit_days) <= eligible
        assert pattern.occurrences <= pattern.eligible_days
        assert pattern.eligible_days == sum(1 for d in eligible if weekday_of(d) in pattern.days)
        assert 0.0 <= pattern.share_of_days <= 1.0
        assert backtest_time_of_day(log, pattern).would_have_fired == pattern.eligible_days
