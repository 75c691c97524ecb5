"""A follower that follows in part of the day only: the pair carries that part as its window."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from custom_components.ai_automation.engine.co_occurrence import detect_co_occurrence
from custom_components.ai_automation.engine.co_occurrence_window import (
    BINS,
    best_window,
    dark_mask,
    upper_rate,
)
from custom_components.ai_automation.engine.event_log import Origin
from custom_components.ai_automation.engine.local_time import MINUTES_PER_DAY
from custom_components.ai_automation.engine.sun_relative import SunTimes

from .builders import FOUR_WEEKS, Row, hm, make_log

MOTION = "binary_sensor.stairs_motion"
LIGHT = "light.stairs"
# Motion every 90 minutes from 08:00 to 21:30, every day for four weeks.
TIMES = [hm(8, 0) + 90 * i for i in range(10)]


def _stairs(follows_from: int) -> list[Row]:
    """The light follows motion a minute later, only from ``follows_from`` on."""
    rows: list[Row] = []
    for day in FOUR_WEEKS:
        for minute in TIMES:
            rows.append((MOTION, "on", day, minute, Origin.SYSTEM))
            if minute >= follows_from:
                rows.append((LIGHT, "on", day, minute + 1, Origin.PHYSICAL))
    return rows


def test_an_evening_follower_is_found_with_its_window() -> None:
    """Over the day the light follows 2 of 10 motions; from 20:00 on, every one."""
    (pattern,) = detect_co_occurrence(make_log(_stairs(hm(20, 0))))
    assert (pattern.trigger_entity_id, pattern.entity_id) == (MOTION, LIGHT)
    assert pattern.window is not None
    start, end = pattern.window
    assert hm(19, 30) <= start <= hm(20, 0) and hm(21, 30) < end <= hm(22, 30)
    assert pattern.confidence == 1.0
    assert pattern.trigger_count == pattern.occurrences == 2 * len(FOUR_WEEKS)


def test_a_follower_of_the_whole_day_has_no_window() -> None:
    """Following every motion from 08:00 to 21:30: nothing to restrict."""
    (pattern,) = detect_co_occurrence(make_log(_stairs(0)))
    assert pattern.window is None
    assert pattern.confidence == 1.0


def test_a_window_across_midnight() -> None:
    """Hits from 22:00 to 02:00 only, triggers all day: the window runs across midnight."""
    triggers = np.full(BINS, 10, dtype=np.int64)
    hits = np.zeros(BINS, dtype=np.int64)
    hits[44:] = 9
    hits[:4] = 9
    window = best_window(hits, triggers, 0.3)
    assert window is not None
    assert (window.start_min, window.end_min) == (hm(22, 0), hm(2, 0))
    assert window.confidence == 0.9


def test_following_a_bit_more_in_the_evening_is_no_window() -> None:
    """Outside the best window the follower still follows half as often: all day, no window."""
    triggers = np.full(BINS, 10, dtype=np.int64)
    hits = np.full(BINS, 4, dtype=np.int64)
    hits[36:44] = 8
    assert best_window(hits, triggers, 0.3) is None


# --- the dark of the day ---------------------------------------------------------------------

DRIVEWAY, PORCH = "binary_sensor.driveway_motion", "light.driveway"
# Motion every 40 minutes, day and night.
ROUND_THE_CLOCK = list(range(10, MINUTES_PER_DAY, 40))


def _sun(sunset_start: int, sunset_step: float, sunrise: int = hm(7, 30)) -> SunTimes:
    """Four weeks: sunset moves ``sunset_step`` minutes a day (the end of summer time: -4)."""
    n = len(FOUR_WEEKS)
    return SunTimes(
        first_day=FOUR_WEEKS[0],
        sunrise=np.full(n, float(sunrise)),
        sunset=sunset_start + sunset_step * np.arange(n, dtype=np.float64),
    )


def _follows(sun: SunTimes, follows: Callable[[int, int], bool]) -> list[Row]:
    rows: list[Row] = []
    for i, day in enumerate(FOUR_WEEKS):
        for minute in ROUND_THE_CLOCK:
            rows.append((DRIVEWAY, "on", day, minute, Origin.SYSTEM))
            if follows(i, minute):
                rows.append((PORCH, "on", day, minute + 1, Origin.PHYSICAL))
    return rows


def test_a_follower_in_the_dark_gets_the_dark_as_its_window() -> None:
    """Sunset moves from 19:00 to 17:12 over the month; the light follows only after it
    (or before sunrise): no clock window holds that without daylight hours."""
    sun = _sun(hm(19, 0), -4.0)
    rows = _follows(sun, lambda i, m: m >= sun.sunset[i] or m < sun.sunrise[i])
    (pattern,) = detect_co_occurrence(make_log(rows), sun=sun)
    assert pattern.after_dark and pattern.window is None
    assert pattern.confidence == 1.0
    # Without the sun the best it can do is a clock window that leaves out the early
    # evenings of the last weeks: fewer right firings.
    (clock,) = detect_co_occurrence(make_log(rows))
    assert clock.window is not None and not clock.after_dark
    assert clock.occurrences < 0.95 * pattern.occurrences


def test_an_evening_follower_stays_on_the_clock_though_the_sun_is_known() -> None:
    """From 20:00 to 23:30 only: the dark also holds the night and the early evening, when
    the light does not follow, so the clock window does more."""
    sun = _sun(hm(19, 0), -4.0)
    rows = _follows(sun, lambda _i, m: hm(20, 0) <= m < hm(23, 30))
    (pattern,) = detect_co_occurrence(make_log(rows), sun=sun)
    assert not pattern.after_dark
    assert pattern.window is not None
    assert pattern.window[0] == hm(20, 0) and hm(23, 0) <= pattern.window[1] <= hm(23, 30)


def test_dark_mask_is_false_where_the_sun_neither_rises_nor_sets() -> None:
    """Polar night: no sunrise or sunset that day, so no 'after sunset' either."""
    sun = SunTimes(first_day=0, sunrise=np.array([420.0, np.nan]), sunset=np.array([1020.0, np.nan]))
    day = np.array([0, 0, 0, 1, 5], dtype=np.int32)
    minute = np.array([400, 600, 1100, 1100, 1100], dtype=np.int16)
    assert dark_mask(day, minute, sun).tolist() == [True, False, True, False, False]


def test_a_few_events_outside_prove_no_window() -> None:
    """Followed on all 40 evening events and none of 3 afternoon ones: 3 events cannot show
    that it would not follow in the afternoon (the TV is rarely off then)."""
    triggers = np.zeros(BINS, dtype=np.int64)
    hits = np.zeros(BINS, dtype=np.int64)
    triggers[40:44], hits[40:44] = 10, 10
    triggers[28] = 3
    assert best_window(hits, triggers, 0.3) is None
    triggers[28] = 30  # thirty afternoon events without it do
    window = best_window(hits, triggers, 0.3)
    assert window is not None and (window.start_min, window.end_min) == (hm(20, 0), hm(22, 0))


def test_upper_rate_is_the_wilson_bound() -> None:
    assert upper_rate(0, 0) == 1.0
    assert 0.55 < upper_rate(0, 3) < 0.57
    assert 0.10 < upper_rate(0, 30) < 0.12
    assert upper_rate(5, 10) > 0.5 > upper_rate(0, 10)
