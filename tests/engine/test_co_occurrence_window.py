"""A follower that follows in part of the day only: the pair carries that part as its window."""

from __future__ import annotations

import numpy as np

from custom_components.ai_automation.engine.co_occurrence import detect_co_occurrence
from custom_components.ai_automation.engine.co_occurrence_window import BINS, best_window
from custom_components.ai_automation.engine.event_log import Origin

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
