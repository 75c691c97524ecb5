"""Habits change: a routine that moved is suggested at its new time, one that stopped is not, one
that started counts from its first day."""

from __future__ import annotations

from custom_components.ai_automation.engine.time_of_day import TimeOfDayPattern, detect_time_of_day

from .builders import FOUR_WEEKS, MONDAY, Row, hm, jitter, make_log, routine

LAST = MONDAY + 27


def _kitchen(rows: list[Row]) -> list[TimeOfDayPattern]:
    log = make_log(rows, MONDAY, LAST)
    return [p for p in detect_time_of_day(log) if (p.entity_id, p.to_state) == ("light.kitchen", "on")]


def test_a_routine_that_moved_is_suggested_at_its_new_time() -> None:
    """06:45 for two weeks, 07:15 since: the routine is the 07:15 one, counted from the move."""
    early, late = list(FOUR_WEEKS)[:14], list(FOUR_WEEKS)[14:]
    rows = routine("light.kitchen", "on", early, hm(6, 45), jitter(1, 14, 4))
    rows += routine("light.kitchen", "on", late, hm(7, 15), jitter(2, 14, 4))

    (pattern,) = _kitchen(rows)

    assert abs(pattern.minute - hm(7, 15)) <= 4
    assert pattern.day_set == "daily"
    assert (pattern.occurrences, pattern.eligible_days) == (14, 14)


def test_a_routine_that_moved_far_is_one_routine_at_its_new_time() -> None:
    """07:00 for three weeks, 09:00 for the last one: the old one stopped, the new one started."""
    old, new = list(FOUR_WEEKS)[:19], list(FOUR_WEEKS)[19:]
    rows = routine("light.kitchen", "on", old, hm(7, 0), jitter(3, len(old), 4))
    rows += routine("light.kitchen", "on", new, hm(9, 0), jitter(4, len(new), 4))

    (pattern,) = _kitchen(rows)

    assert abs(pattern.minute - hm(9, 0)) <= 4
    assert pattern.eligible_days == len(new)


def test_a_routine_that_stopped_is_not_suggested() -> None:
    """Every morning for two and a half weeks, then not for the last eleven days."""
    days = list(FOUR_WEEKS)[:17]

    assert _kitchen(routine("light.kitchen", "on", days, hm(6, 45), jitter(5, len(days), 4))) == []


def test_a_routine_that_started_a_week_ago_is_found() -> None:
    days = list(FOUR_WEEKS)[-8:]

    (pattern,) = _kitchen(routine("light.kitchen", "on", days, hm(6, 45), jitter(6, 8, 4)))

    assert (pattern.occurrences, pattern.eligible_days) == (8, 8)


def test_a_few_odd_days_are_no_new_routine() -> None:
    days = list(FOUR_WEEKS)[-5:]

    assert _kitchen(routine("light.kitchen", "on", days, hm(6, 45), jitter(7, 5, 4))) == []


def test_a_routine_with_its_usual_spread_did_not_move() -> None:
    """Times wander by up to a quarter of an hour either way, as they do: one routine, all month."""
    days = list(FOUR_WEEKS)
    (pattern,) = _kitchen(routine("light.kitchen", "on", days, hm(6, 45), jitter(8, len(days), 12)))

    assert pattern.eligible_days == 28
