"""A suggestion's evidence day by day, and its backtest replayed for an edited version."""

from __future__ import annotations

import numpy as np

from custom_components.ai_automation.engine.backtest import backtest_time_of_day
from custom_components.ai_automation.engine.event_log import Origin
from custom_components.ai_automation.engine.evidence import (
    ACT_HIT,
    ACT_MISSED,
    ACT_OTHER,
    TRIGGER_HELD,
    TRIGGER_STATE,
    TRIGGER_SUN,
    TRIGGER_TIME,
    Conditions,
    Evidence,
    Trigger,
    away_days,
    chart,
    gather,
    replay,
)
from custom_components.ai_automation.engine.sun_relative import SunTimes

from .builders import FOUR_WEEKS, MONDAY, SECONDS_PER_DAY, Row, hm, jitter, make_log, on_weekdays, routine
from .test_backtest import MISSED, WEEKDAYS, kitchen_routine, pattern

SUNRISE, SUNSET = hm(7, 30), hm(17, 0)


def four_weeks_of_sun() -> SunTimes:
    n = len(FOUR_WEEKS)
    return SunTimes(first_day=MONDAY, sunrise=np.full(n, float(SUNRISE)), sunset=np.full(n, float(SUNSET)))


def kitchen_evidence(rows: list[Row] | None = None, **log_args: object) -> Evidence:
    log = make_log(rows or kitchen_routine(), MONDAY, MONDAY + 27, **log_args)  # type: ignore[arg-type]
    return gather(log, four_weeks_of_sun(), ("light.kitchen", "on"), tolerance_s=15 * 60)


def test_the_replay_of_the_suggested_time_agrees_with_the_backtest() -> None:
    log = make_log(kitchen_routine(), MONDAY, MONDAY + 27)
    suggested = pattern(hm(6, 45), spread_min=3)
    backtest = backtest_time_of_day(log, suggested)
    evidence = gather(log, None, ("light.kitchen", "on"), tolerance_s=backtest.tolerance_min * 60)

    result = replay(evidence, Trigger(TRIGGER_TIME, minute=hm(6, 45)), Conditions(weekdays=WEEKDAYS))

    assert (
        (result.would_have_fired, result.matched) == (backtest.would_have_fired, backtest.matched) == (20, 17)
    )
    assert result.missed == 0


def test_a_time_moved_away_from_the_routine_matches_nothing() -> None:
    result = replay(
        kitchen_evidence(), Trigger(TRIGGER_TIME, minute=hm(8, 45)), Conditions(weekdays=WEEKDAYS)
    )

    assert (result.would_have_fired, result.matched) == (20, 0)
    assert set(result.act_outcome.tolist()) == {ACT_OTHER}


def test_a_weekday_left_out_turns_its_acts_into_misses() -> None:
    no_friday = Conditions(weekdays=(0, 1, 2, 3))

    result = replay(kitchen_evidence(), Trigger(TRIGGER_TIME, minute=hm(6, 45)), no_friday)

    fridays = [d for d in on_weekdays(FOUR_WEEKS, (4,)) if d not in MISSED]
    assert result.would_have_fired == 16
    assert result.missed == len(fridays) == 3
    assert result.matched == 17 - 3


def test_days_without_history_neither_fire_nor_miss_and_show_as_such() -> None:
    covered = [d for d in FOUR_WEEKS if d not in (MONDAY, MONDAY + 1)]
    evidence = kitchen_evidence(covered=covered)

    result = replay(evidence, Trigger(TRIGGER_TIME, minute=hm(6, 45)), Conditions(weekdays=WEEKDAYS))

    assert result.would_have_fired == 18
    rows = chart(evidence, result)
    assert [r["status"] for r in rows[:3]] == ["no_data", "no_data", "ok"]
    assert rows[0]["fired"] == [] and rows[3]["fired"] == [[hm(6, 45), True]]
    assert len(rows) == 28


def test_a_sun_trigger_fires_at_each_days_sunset_plus_the_offset() -> None:
    days = list(FOUR_WEEKS)
    rows = routine("light.porch", "on", days, SUNSET - 10, jitter(5, len(days), 3))
    log = make_log(rows, MONDAY, MONDAY + 27)
    evidence = gather(log, four_weeks_of_sun(), ("light.porch", "on"), tolerance_s=15 * 60)

    right = replay(evidence, Trigger(TRIGGER_SUN, sun_event="sunset", offset_min=-10), Conditions())
    late = replay(evidence, Trigger(TRIGGER_SUN, sun_event="sunset", offset_min=60), Conditions())

    assert (right.would_have_fired, right.matched) == (28, 28)
    assert late.matched == 0


def hallway(seconds_held: int) -> list[Row]:
    """Motion in the hallway at 08:00 and 21:00 daily, the light on a minute later."""
    rows: list[Row] = []
    for day in FOUR_WEEKS:
        for minute in (hm(8, 0), hm(21, 0)):
            rows.append(("binary_sensor.hallway_motion", "on", day, minute, Origin.PHYSICAL))
            rows.append(("light.hallway", "on", day, minute + 1, Origin.USER))
            rows.append(
                ("binary_sensor.hallway_motion", "off", day, minute + seconds_held // 60, Origin.PHYSICAL)
            )
            rows.append(("light.hallway", "off", day, minute + 30, Origin.USER))
    return rows


def hallway_evidence(seconds_held: int = 300) -> Evidence:
    log = make_log(hallway(seconds_held), MONDAY, MONDAY + 27)
    return gather(
        log,
        four_weeks_of_sun(),
        ("light.hallway", "on"),
        trigger=("binary_sensor.hallway_motion", "on"),
        tolerance_s=120,
    )


def test_a_state_trigger_fires_on_each_trigger_event_and_the_follower_is_its_hit() -> None:
    result = replay(hallway_evidence(), Trigger(TRIGGER_STATE), Conditions())

    assert (result.would_have_fired, result.matched, result.missed) == (56, 56, 0)


def test_only_in_the_dark_keeps_the_evening_firings_and_misses_the_morning_ones() -> None:
    result = replay(hallway_evidence(), Trigger(TRIGGER_STATE), Conditions(dark=True))

    assert (result.would_have_fired, result.matched, result.missed) == (28, 28, 28)


def test_a_window_across_midnight_is_the_night() -> None:
    night = Conditions(window=(hm(20, 0), hm(6, 0)))

    assert replay(hallway_evidence(), Trigger(TRIGGER_STATE), night).would_have_fired == 28


def test_a_for_longer_than_the_motion_lasts_never_fires() -> None:
    evidence = hallway_evidence(seconds_held=300)

    held = replay(evidence, Trigger(TRIGGER_STATE, for_s=240), Conditions())
    too_long = replay(evidence, Trigger(TRIGGER_STATE, for_s=600), Conditions())

    assert held.would_have_fired == 56
    assert (too_long.would_have_fired, too_long.missed) == (0, 56)


def test_a_held_trigger_fires_on_the_episodes_that_lasted() -> None:
    # The bathroom fan on for 20 minutes and turned off by hand, daily; twice only 5 minutes.
    rows: list[Row] = []
    for day in FOUR_WEEKS:
        length = 5 if day in (MONDAY + 3, MONDAY + 9) else 20
        rows.append(("fan.bathroom", "on", day, hm(7, 0), Origin.USER))
        rows.append(("fan.bathroom", "off", day, hm(7, length), Origin.USER))
    log = make_log(rows, MONDAY, MONDAY + 27)
    evidence = gather(log, None, ("fan.bathroom", "off"), trigger=("fan.bathroom", "on"), tolerance_s=300)

    result = replay(evidence, Trigger(TRIGGER_HELD, for_s=18 * 60), Conditions())

    assert (result.would_have_fired, result.matched, result.missed) == (26, 26, 2)


def test_days_nobody_was_home_are_away() -> None:
    # Someone home every day but a weekend away: left Friday 18:00, back Monday 10:00.
    friday = MONDAY + 4
    rows: list[Row] = [("person.alex", "home", MONDAY, 0, Origin.SYSTEM)]
    rows += [("person.alex", "not_home", friday, hm(18, 0), Origin.SYSTEM)]
    rows += [("person.alex", "home", friday + 3, hm(10, 0), Origin.SYSTEM)]
    rows += kitchen_routine()
    log = make_log(rows, MONDAY, MONDAY + 27)

    assert away_days(log) == (friday + 1, friday + 2)
    assert away_days(make_log(kitchen_routine(), MONDAY, MONDAY + 27)) == ()


def test_evidence_survives_its_stored_form() -> None:
    evidence = hallway_evidence()

    again = Evidence.from_dict(evidence.as_dict())

    assert again == evidence
    assert replay(again, Trigger(TRIGGER_STATE), Conditions()).matched == 56


def test_chart_marks_hits_and_misses_in_minutes_of_day() -> None:
    evidence = hallway_evidence()
    result = replay(evidence, Trigger(TRIGGER_STATE), Conditions(dark=True))

    first = chart(evidence, result)[0]

    assert first["day"] == MONDAY and first["status"] == "ok"
    assert first["fired"] == [[hm(21, 0), True]]
    assert first["acts"] == [[hm(8, 1), ACT_MISSED], [hm(21, 1), ACT_HIT]]
    assert evidence.acts[0] == MONDAY * SECONDS_PER_DAY + hm(8, 1) * 60


def test_moved_away_from_the_suggested_time_the_routine_is_missed_every_day() -> None:
    """With the suggestion as the reference, the household's 06:45 acts are its misses."""
    suggested = Trigger(TRIGGER_TIME, minute=hm(6, 45))

    result = replay(kitchen_evidence(), Trigger(TRIGGER_TIME, minute=hm(8, 45)), Conditions(), suggested)

    assert result.missed == 17
    assert set(result.act_outcome.tolist()) == {ACT_MISSED}
