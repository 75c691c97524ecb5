"""Replaying a time-of-day trigger over the home's own history."""

from __future__ import annotations

import dataclasses

import pytest

from custom_components.ai_automation.engine.backtest import Backtest, backtest_time_of_day, tolerance_for
from custom_components.ai_automation.engine.event_log import Origin
from custom_components.ai_automation.engine.time_of_day import TimeOfDayPattern, detect_time_of_day

from .builders import FOUR_WEEKS, MONDAY, Row, hm, jitter, make_log, on_weekdays, routine

WEEKDAYS = (0, 1, 2, 3, 4)
EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)
MISSED = {MONDAY + 2, MONDAY + 10, MONDAY + 18}  # a Wednesday, a Thursday, a Friday


def pattern(
    minute: int,
    days: tuple[int, ...] = WEEKDAYS,
    spread_min: float = 0.0,
    entity_id: str = "light.kitchen",
    to_state: str = "on",
) -> TimeOfDayPattern:
    """A hand-made pattern: the backtest reads only entity, state, minute, days and spread."""
    return TimeOfDayPattern(
        entity_id=entity_id,
        to_state=to_state,
        minute=minute,
        days=days,
        day_set="weekdays" if days == WEEKDAYS else "custom",
        spread_min=spread_min,
        occurrences=0,
        eligible_days=0,
        share_of_days=0.0,
        confidence=0.0,
        automated=False,
    )


def kitchen_routine() -> list[Row]:
    """Kitchen light on at 06:45 +-5 on weekdays, three weekdays skipped."""
    days = [d for d in on_weekdays(FOUR_WEEKS, WEEKDAYS) if d not in MISSED]
    return routine("light.kitchen", "on", days, hm(6, 45), jitter(31, len(days), 5))


def distractions() -> list[Row]:
    """Changes that must not count as matches of the weekday 06:45 firing."""
    # The same light at the same time on weekends: not a firing day.
    rows = routine("light.kitchen", "on", on_weekdays(FOUR_WEEKS, (5, 6)), hm(6, 45))
    # On the skipped days: on far too late, off at 06:45, another light on at 06:45.
    rows += [
        ("light.kitchen", "on", MONDAY + 2, hm(9, 0), Origin.USER),
        ("light.kitchen", "off", MONDAY + 10, hm(6, 45), Origin.USER),
        ("light.pantry", "on", MONDAY + 18, hm(6, 45), Origin.USER),
    ]
    return rows


def test_a_planted_routine_fires_on_its_days_and_matches_where_it_happened() -> None:
    log = make_log(kitchen_routine() + distractions(), FOUR_WEEKS.start, FOUR_WEEKS.stop - 1)
    result = backtest_time_of_day(log, pattern(hm(6, 45)))
    assert result == Backtest(would_have_fired=20, matched=17, tolerance_min=15)
    assert result.precision == pytest.approx(17 / 20)


def test_the_detected_pattern_backtests_like_its_history() -> None:
    """End to end: detect the planted routine, then replay it over the same log."""
    log = make_log(kitchen_routine(), FOUR_WEEKS.start, FOUR_WEEKS.stop - 1)
    (found,) = [p for p in detect_time_of_day(log) if p.entity_id == "light.kitchen" and p.to_state == "on"]
    assert found.day_set == "weekdays"
    result = backtest_time_of_day(log, found)
    assert result.would_have_fired == found.eligible_days == 20
    assert result.matched == found.occurrences == 17
    assert result.precision == pytest.approx(found.share_of_days)


@pytest.mark.parametrize(
    ("days", "fired"),
    [(EVERY_DAY, 28), (WEEKDAYS, 20), ((5, 6), 8), ((0, 2, 4), 12), ((3,), 4)],
)
def test_would_have_fired_counts_the_window_days_in_the_day_set(days: tuple[int, ...], fired: int) -> None:
    log = make_log(routine("light.kitchen", "on", FOUR_WEEKS, hm(6, 45)))
    result = backtest_time_of_day(log, pattern(hm(6, 45), days))
    assert result.would_have_fired == fired
    assert result.matched == fired
    assert result.precision == 1.0


def test_a_trigger_at_2350_matches_an_event_at_0005_the_next_day() -> None:
    """Every evening's 23:50 firing is met at 00:05: 15 minutes later, within tolerance."""
    week = range(MONDAY, MONDAY + 7)
    rows = routine("light.porch", "off", week, hm(23, 50), [15] * 7)  # the last one leaves the window
    log = make_log(rows, week.start, week.stop - 1)
    result = backtest_time_of_day(
        log, pattern(hm(23, 50), EVERY_DAY, entity_id="light.porch", to_state="off")
    )
    assert result.tolerance_min == 15
    assert result.would_have_fired == 7
    assert result.matched == 6  # Sunday evening's 00:05 falls after the window


def test_an_after_midnight_match_belongs_to_the_evening_before() -> None:
    """Weekday trigger at 23:50. 00:05 on Saturday answers Friday's firing; 00:05 on Monday
    answers Sunday evening, when nothing fired, so it matches no Monday firing either."""
    week = range(MONDAY, MONDAY + 7)
    friday, sunday = MONDAY + 4, MONDAY + 6
    rows = routine("light.porch", "off", [friday, sunday], hm(23, 50), [15, 15])
    log = make_log(rows, week.start, week.stop)  # the window runs on to the next Monday
    result = backtest_time_of_day(log, pattern(hm(23, 50), WEEKDAYS, entity_id="light.porch", to_state="off"))
    assert result.would_have_fired == 6  # Mon..Fri and the next Monday
    assert result.matched == 1  # Friday only


def test_an_early_event_can_match_a_trigger_just_after_midnight() -> None:
    """Trigger at 00:05; the light went off at 23:55 the evening before: 10 minutes early."""
    week = range(MONDAY, MONDAY + 7)
    rows = routine("light.porch", "off", week, hm(0, 5), [-10] * 7)  # 23:55 the day before
    log = make_log(rows, week.start, week.stop - 1)
    result = backtest_time_of_day(log, pattern(hm(0, 5), EVERY_DAY, entity_id="light.porch", to_state="off"))
    assert result.would_have_fired == 7
    assert result.matched == 6  # Monday's 00:05 was answered on the Sunday before the window


@pytest.mark.parametrize(
    ("offset", "matches"), [(-16, False), (-15, True), (0, True), (15, True), (16, False)]
)
def test_tolerance_is_inclusive(offset: int, matches: bool) -> None:
    log = make_log(routine("light.kitchen", "on", [MONDAY], hm(6, 45), [offset]), MONDAY, MONDAY)
    result = backtest_time_of_day(log, pattern(hm(6, 45)))
    assert result.tolerance_min == 15
    assert result.would_have_fired == 1
    assert result.matched == int(matches)


def test_several_events_on_one_day_are_one_match() -> None:
    rows = routine("light.kitchen", "on", [MONDAY] * 3, hm(6, 45), [-5, 0, 5])
    result = backtest_time_of_day(make_log(rows, MONDAY, MONDAY + 6), pattern(hm(6, 45)))
    assert (result.would_have_fired, result.matched) == (5, 1)


def test_a_wider_spread_widens_the_tolerance() -> None:
    """Spread 20 min: tolerance 40, so an event 35 minutes late still matches."""
    log = make_log(routine("light.kitchen", "on", [MONDAY], hm(6, 45), [35]), MONDAY, MONDAY)
    assert backtest_time_of_day(log, pattern(hm(6, 45))).matched == 0
    result = backtest_time_of_day(log, pattern(hm(6, 45), spread_min=20.0))
    assert (result.tolerance_min, result.matched) == (40, 1)


@pytest.mark.parametrize(
    ("spread", "tolerance"),
    [
        (0.0, 15),
        (5.0, 15),
        (7.4, 15),
        (7.6, 15),
        (8.0, 16),
        (10.0, 20),
        (22.5, 45),
        (30.0, 60),
        (45.0, 60),
        (500.0, 60),
    ],
)
def test_tolerance_is_twice_the_spread_clamped_to_15_and_60(spread: float, tolerance: int) -> None:
    assert tolerance_for(pattern(hm(6, 45), spread_min=spread)) == tolerance


def test_precision_of_nothing_fired_is_zero() -> None:
    assert Backtest(would_have_fired=0, matched=0, tolerance_min=15).precision == 0.0
    assert Backtest(would_have_fired=3, matched=2, tolerance_min=15).precision == 0.667


def test_a_pattern_not_in_the_day_set_fires_nowhere() -> None:
    """A Saturday-only pattern over a Monday-to-Friday window never fires."""
    log = make_log(routine("light.kitchen", "on", range(MONDAY, MONDAY + 5), hm(6, 45)))
    result = backtest_time_of_day(log, dataclasses.replace(pattern(hm(6, 45)), days=(5,)))
    assert (result.would_have_fired, result.matched, result.precision) == (0, 0, 0.0)
