"""Routines relative to sunrise and sunset: found near the sun, never far from it."""

from __future__ import annotations

import numpy as np

from custom_components.ai_automation.engine.sun_relative import SunTimes
from custom_components.ai_automation.engine.time_of_day import detect_time_of_day

from .builders import FOUR_WEEKS, hm, jitter, make_log, routine

DAYS = list(FOUR_WEEKS)


def _sun(sunset_start: int, sunset_step: float, sunrise: int = hm(7, 30)) -> SunTimes:
    """Four weeks of sun: sunset moves ``sunset_step`` minutes a day, sunrise stays."""
    n = len(DAYS)
    return SunTimes(
        first_day=DAYS[0],
        sunrise=np.full(n, float(sunrise)),
        sunset=sunset_start + sunset_step * np.arange(n, dtype=np.float64),
    )


def test_a_light_that_follows_sunset_is_a_sunset_routine() -> None:
    """On 15 minutes after sunset while sunset moves 56 minutes over the month."""
    sun = _sun(hm(17, 0), 2.0)
    offsets = [round(2.0 * i) + j for i, j in enumerate(jitter(7, len(DAYS), 3))]
    log = make_log(routine("light.garden", "on", DAYS, hm(17, 15), offsets))
    (pattern,) = detect_time_of_day(log, sun=sun)
    assert pattern.sun_event == "sunset"
    assert pattern.sun_offset_min is not None
    assert abs(pattern.sun_offset_min - 15) <= 3


def test_a_time_far_from_the_sun_stays_on_the_clock() -> None:
    """20:30 drifting with sunrise (2 minutes a day): the sunrise axis explains it best, but
    no routine is "11 hours before sunrise": it is a clock routine."""
    n = len(DAYS)
    sun = SunTimes(
        first_day=DAYS[0],
        sunrise=hm(7, 30) + 2.0 * np.arange(n, dtype=np.float64),
        sunset=np.full(n, float(hm(17, 0))),
    )
    offsets = [round(2.0 * i) + j for i, j in enumerate(jitter(3, n, 3))]
    log = make_log(routine("light.hallway", "on", DAYS, hm(20, 30), offsets))
    assert [(p.sun_event, p.sun_offset_min) for p in detect_time_of_day(log, sun=sun)] == [(None, None)]
