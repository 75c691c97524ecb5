"""Durations: "back off about N minutes after it went on", and what is not one."""

from __future__ import annotations

import numpy as np

from custom_components.ai_automation.engine.duration import _circular_std_min, detect_durations
from custom_components.ai_automation.engine.event_log import Origin

from .builders import FOUR_WEEKS, Row, hm, make_log

DAYS = list(FOUR_WEEKS)


def _episodes(
    entity_id: str, starts: list[int], lengths: list[float], origin: Origin = Origin.USER
) -> list[Row]:
    """On at ``starts`` (local minute, one per day), off ``lengths`` minutes later."""
    rows: list[Row] = []
    for day, start, length in zip(DAYS, starts, lengths, strict=False):
        end = start + round(length)
        rows += [
            (entity_id, "on", day, start, Origin.USER),
            (entity_id, "off", day + end // 1440, end % 1440, origin),
        ]
    return rows


def _random_starts(seed: int) -> list[int]:
    return [int(m) for m in np.random.default_rng(seed).integers(hm(6, 0), hm(10, 30), len(DAYS))]


def test_a_coffee_machine_off_25_minutes_after_on() -> None:
    """On at random morning times, off 25 +- 2 minutes later: a duration, not a clock time."""
    lengths = list(25 + np.random.default_rng(1).uniform(-2, 2, len(DAYS)))
    (pattern,) = detect_durations(make_log(_episodes("switch.coffee", _random_starts(2), lengths)))
    assert (pattern.entity_id, pattern.from_state, pattern.to_state) == ("switch.coffee", "on", "off")
    assert abs(pattern.duration_s / 60 - 25) <= 1.5
    assert pattern.occurrences == pattern.episodes == len(DAYS)
    assert not pattern.automated
    assert 0 < pattern.matched <= pattern.would_have_fired <= len(DAYS)


def test_a_bedtime_is_a_clock_routine_not_a_duration() -> None:
    """On at 19:00 +- 5, off at 23:00 +- 5: the end is the clock's, not the duration's."""
    rng = np.random.default_rng(3)
    starts = [int(m) for m in hm(19, 0) + rng.integers(-5, 6, len(DAYS))]
    ends = hm(23, 0) + rng.integers(-5, 6, len(DAYS))
    log = make_log(_episodes("light.lamp", starts, list(ends - np.array(starts))))
    assert detect_durations(log) == []


def test_durations_spread_over_a_wide_range_are_no_habit() -> None:
    """Watched for 10 to 120 minutes: some band is full, but so are its neighbours."""
    lengths = list(np.random.default_rng(4).uniform(10, 120, len(DAYS)))
    assert detect_durations(make_log(_episodes("media_player.tv", _random_starts(5), lengths))) == []


def test_an_automation_that_switches_off_is_automated() -> None:
    """The ending changes are an automation's: reported as automated (never suggested)."""
    log = make_log(_episodes("switch.fan", _random_starts(6), [20.0] * len(DAYS), Origin.AUTOMATION))
    (pattern,) = detect_durations(log)
    assert pattern.automated


def test_an_episode_broken_by_unavailable_is_left_out() -> None:
    """A drop-out between on and off is no end of the episode, and no start of one."""
    rows = _episodes("switch.coffee", _random_starts(2), [25.0] * len(DAYS))
    broken = [(e, "unavailable", d, m + 5, Origin.SYSTEM) for e, s, d, m, _o in rows if s == "on"][:10]
    (pattern,) = detect_durations(make_log(rows + broken))
    assert pattern.episodes == len(DAYS) - 10


def test_identical_end_minutes_have_no_spread() -> None:
    """Seven ends at 00:01: the mean vector's length rounds to just over 1 (seen on the
    bench's 1M-row home); that is a spread of 0, not a math domain error."""
    assert _circular_std_min(np.full(7, 1, dtype=np.int16)) == 0.0
    assert 8.0 < _circular_std_min(np.array([0, 10, 20], dtype=np.int16)) < 8.3  # about the plain std
