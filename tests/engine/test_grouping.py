"""Routines done together are one: bedtime's TV, lounge light and door lock."""

from __future__ import annotations

import numpy as np

from custom_components.ai_automation.engine.grouping import group_routines
from custom_components.ai_automation.engine.time_of_day import TimeOfDayPattern, detect_time_of_day

from .builders import FOUR_WEEKS, MONDAY, Row, hm, make_log, on_weekdays, routine

WEEKDAYS = (0, 1, 2, 3, 4)


def _bedtime() -> list[Row]:
    """22:30 give or take 8 minutes on weekdays: TV off, a minute later the lounge, then the lock."""
    days = on_weekdays(FOUR_WEEKS, WEEKDAYS)
    start = [int(x) for x in np.random.default_rng(1).integers(-8, 9, len(days))]
    rows = routine("media_player.tv", "off", days, hm(22, 30), start)
    rows += routine("light.lounge", "off", days, hm(22, 31), start)
    rows += routine("lock.front_door", "locked", days, hm(22, 32), start)
    return rows


def _patterns(rows: list[Row]) -> list[TimeOfDayPattern]:
    return detect_time_of_day(make_log(rows, MONDAY, MONDAY + 27))


def test_three_devices_switched_together_are_one_routine() -> None:
    patterns = _patterns(_bedtime())

    (group,) = group_routines(patterns)

    parts = [patterns[i].entity_id for i in group.members]
    assert parts == ["media_player.tv", "light.lounge", "lock.front_door"]
    assert abs(group.minute - hm(22, 30)) <= 3
    assert group.days_together == 20


def test_a_routine_a_quarter_of_an_hour_later_is_its_own() -> None:
    days = on_weekdays(FOUR_WEEKS, WEEKDAYS)
    later = [int(x) for x in np.random.default_rng(2).integers(-8, 9, len(days))]
    rows = _bedtime() + routine("light.bedroom", "on", days, hm(22, 45), later)
    patterns = _patterns(rows)

    (group,) = group_routines(patterns)

    assert "light.bedroom" not in {patterns[i].entity_id for i in group.members}


def test_routines_at_the_same_time_on_other_days_are_not_together() -> None:
    weekends = on_weekdays(FOUR_WEEKS, (5, 6))
    weekdays = on_weekdays(FOUR_WEEKS, WEEKDAYS)
    rows = routine("light.porch", "off", weekends, hm(22, 30)) + routine(
        "light.hall", "off", weekdays, hm(22, 30)
    )

    assert group_routines(_patterns(rows)) == []


def test_each_routine_knows_its_minute_each_day() -> None:
    (tv,) = [p for p in _patterns(_bedtime()) if p.entity_id == "media_player.tv"]

    assert len(tv.hit_minutes) == len(tv.hit_days) == 20
    assert all(abs(m - hm(22, 30)) <= 8 for m in tv.hit_minutes)
