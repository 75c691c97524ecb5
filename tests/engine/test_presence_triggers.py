"""Comings and goings as triggers: done on the way out when the last one leaves, or on coming home."""

from __future__ import annotations

import numpy as np

from custom_components.ai_automation.engine.event_log import Origin
from custom_components.ai_automation.engine.presence_triggers import (
    ARRIVE,
    LEAVE,
    PresencePattern,
    detect_presence_triggers,
    event_rows,
)
from custom_components.ai_automation.engine.sun_relative import SunTimes

from .builders import FOUR_WEEKS, MONDAY, Row, hm, make_log

ALEX, SAM = "person.alex", "person.sam"
HEATING, PORCH, PLUG = "climate.heating", "light.porch", "switch.plug"
# Sunset at 17:00 and sunrise at 07:30 every day of the window.
SUN = SunTimes(MONDAY, np.full(28, float(hm(7, 30))), np.full(28, float(hm(17, 0))))


def _home(rows: list[Row]) -> list[Row]:
    return [(ALEX, "home", MONDAY, 0, Origin.SYSTEM), (SAM, "home", MONDAY, 0, Origin.SYSTEM), *rows]


def _weekdays() -> list[int]:
    return [d for d in FOUR_WEEKS if (d + 3) % 7 < 5]


def _commute(days: list[int], leave: int, back: int, sam_out: bool) -> list[Row]:
    """Alex out from ``leave`` to ``back``; Sam out too (the house empty) when ``sam_out``."""
    rows: list[Row] = []
    for day in days:
        rows += [(ALEX, "not_home", day, leave, Origin.SYSTEM), (ALEX, "home", day, back, Origin.SYSTEM)]
        if sam_out:
            rows += [
                (SAM, "not_home", day, leave - 1, Origin.SYSTEM),
                (SAM, "home", day, back + 30, Origin.SYSTEM),
            ]
    return rows


def _found(rows: list[Row]) -> dict[tuple[str, str, str], PresencePattern]:
    log = make_log(_home(rows), MONDAY, MONDAY + 27)
    return {
        (p.entity_id, p.to_state, p.event): p
        for p in detect_presence_triggers(log, [HEATING, PORCH, PLUG], SUN)
    }


def test_the_heating_off_on_the_way_out_is_what_the_last_one_leaving_triggers() -> None:
    """Off three minutes before the phones say both are gone, on two minutes after Alex is
    back: a leave and an arrival routine; nobody home is what the leave means."""
    days = _weekdays()[:12]
    rows = _commute(days, hm(8, 20), hm(17, 50), sam_out=True)
    for day in days:
        rows += [
            (HEATING, "off", day, hm(8, 16), Origin.PHYSICAL),
            (HEATING, "heat", day, hm(17, 52), Origin.USER),
        ]

    found = _found(rows)

    leave = found[(HEATING, "off", LEAVE)]
    arrive = found[(HEATING, "heat", ARRIVE)]
    assert leave.occurrences == leave.events == 12
    assert leave.lag_s < 0 and leave.people == (ALEX, SAM)
    assert arrive.occurrences == 12 and not arrive.after_dark


def test_someone_leaving_while_another_stays_is_no_leave() -> None:
    """Alex commutes every weekday, Sam stays: the house is never empty, nothing to trigger."""
    days = _weekdays()
    rows = _commute(days, hm(8, 20), hm(17, 50), sam_out=False)
    rows += [(HEATING, "off", d, hm(8, 16), Origin.PHYSICAL) for d in days]
    log = make_log(_home(rows), MONDAY, MONDAY + 27)

    assert event_rows(log, LEAVE).size == 0
    assert (HEATING, "off", LEAVE) not in _found(rows)


def test_the_porch_light_on_coming_home_holds_in_the_dark_only() -> None:
    """Home at 18:30 (dark) or 15:00 (light): the lamp goes on only in the dark."""
    days = _weekdays()
    rows: list[Row] = []
    for i, day in enumerate(days):
        back = hm(18, 30) if i % 2 else hm(15, 0)
        rows += _commute([day], hm(8, 20), back, sam_out=False)
        if i % 2:
            rows += [
                (PORCH, "on", day, back + 1, Origin.PHYSICAL),
                (PORCH, "off", day, back + 15, Origin.PHYSICAL),
            ]

    porch = _found(rows)[(PORCH, "on", ARRIVE)]

    assert porch.after_dark
    assert porch.occurrences == porch.events == len(days) // 2


def test_a_plug_switched_all_day_is_no_homecoming_routine() -> None:
    """A plug on every half hour lands near every arrival by chance: not a routine."""
    days = _weekdays()
    rows = _commute(days, hm(8, 20), hm(17, 50), sam_out=True)
    for day in FOUR_WEEKS:
        rows += [(PLUG, "on" if k % 2 else "off", day, k * 30 + 2, Origin.PHYSICAL) for k in range(48)]

    assert not [k for k in _found(rows) if k[0] == PLUG]


def test_already_in_the_state_is_not_a_miss() -> None:
    """The heating was already off some mornings (a mild week): those leaves are not counted."""
    days = _weekdays()[:12]
    rows = _commute(days, hm(8, 20), hm(17, 50), sam_out=True)
    for i, day in enumerate(days):
        if i < 4:
            rows.append((HEATING, "off", day - 1 if day > MONDAY else day, hm(22, 0), Origin.PHYSICAL))
        else:
            rows.append((HEATING, "off", day, hm(8, 15), Origin.PHYSICAL))
        rows.append((HEATING, "heat", day, hm(17, 52), Origin.USER))

    leave = _found(rows)[(HEATING, "off", LEAVE)]

    assert leave.occurrences == 8 and leave.events <= 9
