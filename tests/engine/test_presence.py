"""Routines and who is home: away days are not missed days, and the routine says who must be home."""

from __future__ import annotations

import numpy as np

from custom_components.ai_automation.engine.event_log import Origin
from custom_components.ai_automation.engine.presence import ANYONE, presence_of
from custom_components.ai_automation.engine.time_of_day import detect_time_of_day

from .builders import FOUR_WEEKS, MONDAY, Row, hm, jitter, make_log, on_weekdays, routine

WEEKDAYS = (0, 1, 2, 3, 4)
VACATION = range(MONDAY + 9, MONDAY + 16)  # Wednesday to Tuesday, nobody home


def away(person: str, days: range) -> list[Row]:
    """``person`` home from the start, away the evening before ``days`` to their last evening."""
    return [(person, "home", MONDAY, 0, Origin.SYSTEM), *trip(person, days)]


def trip(person: str, days: range) -> list[Row]:
    return [
        (person, "not_home", days[0] - 1, hm(22, 0), Origin.SYSTEM),
        (person, "home", days[-1], hm(23, 0), Origin.SYSTEM),
    ]


def kitchen(days: list[int]) -> list[Row]:
    return routine("light.kitchen", "on", days, hm(6, 45), jitter(3, len(days), 4))


def found(rows: list[Row]) -> dict[tuple[str, str], object]:
    log = make_log(rows, MONDAY, MONDAY + 27)
    return {(p.entity_id, p.to_state): p for p in detect_time_of_day(log)}


def test_a_vacation_is_not_missed_days_and_the_routine_needs_someone_home() -> None:
    home_days = [d for d in on_weekdays(FOUR_WEEKS, WEEKDAYS) if d not in VACATION]
    rows = kitchen(home_days) + away("person.alex", VACATION) + away("person.sam", VACATION)

    pattern = found(rows)[("light.kitchen", "on")]

    assert pattern.presence == ANYONE  # type: ignore[attr-defined]
    assert pattern.day_set == "weekdays"  # type: ignore[attr-defined]
    # Five vacation weekdays left out: every day it could have happened, it did.
    assert pattern.eligible_days == len(home_days) == 15  # type: ignore[attr-defined]
    assert pattern.share_of_days == 1.0  # type: ignore[attr-defined]


def test_without_anyone_recorded_nothing_changes() -> None:
    home_days = [d for d in on_weekdays(FOUR_WEEKS, WEEKDAYS) if d not in VACATION]

    pattern = found(kitchen(home_days))[("light.kitchen", "on")]

    assert pattern.presence is None  # type: ignore[attr-defined]
    assert pattern.eligible_days == 20  # type: ignore[attr-defined]


def test_a_routine_that_goes_on_while_away_needs_nobody() -> None:
    """The app turns the light on at 06:45 from the holiday flat too: no condition."""
    rows = kitchen(on_weekdays(FOUR_WEEKS, WEEKDAYS)) + away("person.alex", VACATION)

    assert found(rows)[("light.kitchen", "on")].presence is None  # type: ignore[attr-defined]


def test_a_persons_own_routine_needs_that_person_home() -> None:
    """Sam's desk lamp at 20:00 daily, not on the five days Sam was away and Alex home."""
    sams_trip = range(MONDAY + 2, MONDAY + 7)
    lamp_days = [d for d in FOUR_WEEKS if d not in sams_trip and d not in VACATION]
    rows = routine("light.desk", "on", lamp_days, hm(20, 0), jitter(5, len(lamp_days), 5))
    rows += kitchen([d for d in on_weekdays(FOUR_WEEKS, WEEKDAYS) if d not in VACATION])
    rows += away("person.alex", VACATION)
    rows += away("person.sam", sams_trip) + trip("person.sam", VACATION)

    patterns = found(rows)

    assert patterns[("light.desk", "on")].presence == "person.sam"  # type: ignore[attr-defined]
    assert patterns[("light.desk", "on")].share_of_days == 1.0  # type: ignore[attr-defined]
    # Alex's being away too does not make the kitchen routine Sam's.
    assert patterns[("light.kitchen", "on")].presence == ANYONE  # type: ignore[attr-defined]


def test_presence_reads_persons_first_and_keeps_the_last_state_over_unavailable() -> None:
    rows: list[Row] = [
        ("person.alex", "home", MONDAY, hm(8, 0), Origin.SYSTEM),
        ("person.alex", "unavailable", MONDAY, hm(9, 0), Origin.SYSTEM),
        ("person.alex", "not_home", MONDAY, hm(10, 0), Origin.SYSTEM),
        ("device_tracker.phone", "not_home", MONDAY, hm(8, 30), Origin.SYSTEM),
    ]
    presence = presence_of(make_log(rows, MONDAY, MONDAY + 1))
    assert presence is not None
    assert presence.people == ("person.alex",)

    at = MONDAY * 1440 + np.array([hm(7, 0), hm(9, 30), hm(10, 30)], dtype=np.float64)

    # Before the first state: unknown, counted as home; unavailable keeps "home".
    assert presence.anyone_home(at).tolist() == [True, True, False]
    assert presence.away_days(MONDAY, MONDAY + 1) == (MONDAY + 1,)
