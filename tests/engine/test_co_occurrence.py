"""Co-occurrence: "when the hallway motion sensor turns on, the hallway light follows".

A pair is kept when support >= 8, confidence >= 0.3, coverage >= 0.5 and lift >= 5
within a 120 s window (the defaults, as the README documents them).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest

from custom_components.ai_automation.engine.co_occurrence import (
    CoOccurrenceParams,
    CoOccurrencePattern,
    detect_co_occurrence,
)
from custom_components.ai_automation.engine.event_log import EventLog, Origin

from .builders import FOUR_WEEKS, MINUTES_PER_DAY, MONDAY, Row, hm, make_log

MOTION = "binary_sensor.hall_motion"
LIGHT = "light.hall"
WINDOW_S = 120.0

# Trigger events sit 90 minutes apart (ten a day from 08:00), far more than the window.
PER_DAY = 10
SPACING = 90


def slot(i: int) -> tuple[int, int]:
    """Local (day, minute) of the ``i``-th trigger event."""
    return MONDAY + i // PER_DAY, hm(8, 0) + SPACING * (i % PER_DAY)


def follows(
    lags: Sequence[int | None],
    trigger: str = MOTION,
    follower: str = LIGHT,
    *,
    trigger_state: str = "on",
    follower_state: str = "on",
    origins: Sequence[Origin] | None = None,
) -> list[Row]:
    """One trigger event per lag; the follower reaches its state ``lag`` minutes later (None: not)."""
    origins = origins or [Origin.PHYSICAL] * len(lags)
    rows: list[Row] = []
    for i, (lag, origin) in enumerate(zip(lags, origins, strict=True)):
        day, minute = slot(i)
        rows.append((trigger, trigger_state, day, minute, Origin.SYSTEM))
        if lag is not None:
            rows.append((follower, follower_state, day, minute + lag, origin))
    return rows


def strays(n: int, entity_id: str = LIGHT, state: str = "on") -> list[Row]:
    """``n`` changes of ``entity_id`` 45 minutes after a trigger slot: following nothing."""
    return [(entity_id, state, *_shift(slot(i), 45), Origin.USER) for i in range(n)]


def _shift(at: tuple[int, int], minutes: int) -> tuple[int, int]:
    day, minute = at
    return day, minute + minutes


def only_followers(log: EventLog, *entity_ids: str) -> np.ndarray:
    """The ``follower_entities`` mask allowing just ``entity_ids`` as B."""
    return np.array([e in entity_ids for e in log.entity_ids], dtype=bool)


def detect(rows: list[Row], params: CoOccurrenceParams | None = None) -> list[CoOccurrencePattern]:
    return detect_co_occurrence(make_log(rows), params=params)


def pairs(patterns: list[CoOccurrencePattern]) -> list[tuple[str, str, str, str]]:
    return [(p.trigger_entity_id, p.trigger_to_state, p.entity_id, p.to_state) for p in patterns]


# --- a follower it finds ------------------------------------------------------------------------


def test_a_light_that_follows_motion_is_found_with_its_lag_and_statistics() -> None:
    """20 motion events, the light 1 min after 10 of them and 2 min after 6, plus 4 changes
    of its own: support 16, confidence 16/20, coverage 16/20."""
    rows = follows([1] * 10 + [2] * 6 + [None] * 4) + strays(4)
    log = make_log(rows)
    (pattern,) = detect_co_occurrence(log)
    assert pairs([pattern]) == [(MOTION, "on", LIGHT, "on")]
    assert (pattern.lag_s, pattern.lag_p90_s) == (60.0, 120.0)
    assert (pattern.occurrences, pattern.trigger_count, pattern.follower_count) == (16, 20, 20)
    assert (pattern.confidence, pattern.coverage) == (0.8, 0.8)
    # Lift: confidence over the Poisson chance of one of B's 20 changes in any 120 s.
    span_s = float(log.ts[-1] - log.ts[0])
    chance = 1.0 - math.exp(-20 / span_s * WINDOW_S)
    assert pattern.lift == pytest.approx(0.8 / chance, abs=0.05)
    assert pattern.lift >= 5
    assert pattern.score == 0.8  # confidence x min(1, coverage / 0.8)
    assert pattern.automated is False
    assert pattern.origins == {"physical": 16}


def test_the_median_and_p90_lag_come_from_the_pairs_found() -> None:
    """Nine followers at 1 min and one at 2 min: median 60 s, p90 between them."""
    (pattern,) = detect(follows([1] * 9 + [2]))
    assert pattern.lag_s == 60.0
    assert pattern.lag_p90_s == round(float(np.quantile([60.0] * 9 + [120.0], 0.9)), 1)
    assert 60.0 < pattern.lag_p90_s < 120.0


def test_an_empty_log_has_no_pairs() -> None:
    assert detect_co_occurrence(make_log([], MONDAY, MONDAY + 6)) == []


# --- direction and window -----------------------------------------------------------------------


def test_direction_matters_a_light_that_precedes_motion_is_no_follower_of_it() -> None:
    """Light first, motion a minute later: light -> motion, never motion -> light."""
    log = make_log(follows([1] * 10, trigger=LIGHT, follower=MOTION))
    assert pairs(detect_co_occurrence(log)) == [(LIGHT, "on", MOTION, "on")]
    # With only the light allowed as a follower nothing is left: it never follows motion.
    assert detect_co_occurrence(log, only_followers(log, LIGHT)) == []


@pytest.mark.parametrize("lag", [1, 2])
def test_a_follower_within_the_window_is_paired(lag: int) -> None:
    """The window is inclusive: 120 s after the trigger still follows it."""
    (pattern,) = detect(follows([lag] * 10))
    assert pattern.lag_s == lag * 60.0
    assert pattern.occurrences == 10


@pytest.mark.parametrize("lag", [0, 3], ids=["same instant", "after the window"])
def test_a_follower_outside_the_window_is_not_paired(lag: int) -> None:
    """180 s is past the 120 s window; a change at the very same instant does not follow."""
    assert detect(follows([lag] * 10)) == []


def test_a_wider_window_pairs_a_slower_follower() -> None:
    (pattern,) = detect(follows([3] * 10), CoOccurrenceParams(window_s=240.0))
    assert pattern.lag_s == 180.0


# --- counting -----------------------------------------------------------------------------------


def test_two_follower_changes_after_one_trigger_count_once_and_the_first_gives_the_lag() -> None:
    """A chatty follower cannot inflate the support: one hit per trigger event, its first."""
    rows = follows([1] * 10) + [(LIGHT, "on", *_shift(slot(i), 2), Origin.PHYSICAL) for i in range(10)]
    (pattern,) = detect(rows)
    assert (pattern.occurrences, pattern.trigger_count, pattern.follower_count) == (10, 10, 20)
    assert (pattern.lag_s, pattern.lag_p90_s) == (60.0, 60.0)
    assert pattern.confidence == 1.0
    # Only the first change after each trigger is explained by it.
    assert pattern.coverage == 0.5


def test_one_follower_change_after_two_triggers_is_covered_once() -> None:
    """Motion twice within the window, the light once: two hits, but coverage is of
    distinct follower changes and stays at 1."""
    rows = follows([2] * 10) + [(MOTION, "on", *_shift(slot(i), 1), Origin.SYSTEM) for i in range(10)]
    (pattern,) = detect(rows)
    assert (pattern.occurrences, pattern.trigger_count, pattern.follower_count) == (20, 20, 10)
    assert (pattern.confidence, pattern.coverage) == (1.0, 1.0)
    assert pattern.lag_s == 90.0  # lags of 120 s and 60 s


# --- thresholds ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("followed", "found"), [(7, False), (8, True)])
def test_support_needs_eight_followed_triggers(followed: int, found: bool) -> None:
    patterns = detect(follows([1] * followed))
    assert [p.occurrences for p in patterns] == ([followed] if found else [])


@pytest.mark.parametrize(("followed", "found"), [(11, False), (12, True)])
def test_confidence_needs_three_in_ten_triggers_followed(followed: int, found: bool) -> None:
    patterns = detect(follows([1] * followed + [None] * (40 - followed)))
    assert [p.confidence for p in patterns] == ([0.3] if found else [])


@pytest.mark.parametrize(("unexplained", "found"), [(10, True), (11, False)])
def test_coverage_needs_half_of_the_followers_changes_after_a_trigger(unexplained: int, found: bool) -> None:
    """A light that changes as often on its own as after motion is still kept; more is not."""
    patterns = detect(follows([1] * 10) + strays(unexplained))
    assert [p.coverage for p in patterns] == ([0.5] if found else [])


def test_a_follower_that_changes_all_the_time_has_no_lift() -> None:
    """The light changes every 3 minutes: it follows every motion event (confidence 1), but
    it would have in any 2 minutes, so even with coverage ignored the lift rejects it."""
    week = range(MONDAY, MONDAY + 7)
    light = [(LIGHT, "on", d, m, Origin.PHYSICAL) for d in week for m in range(1, MINUTES_PER_DAY, 3)]
    motion = [(MOTION, "on", d, m - 1, Origin.SYSTEM) for d in week for m in range(hm(8, 1), hm(18, 0), 60)]
    log = make_log(light + motion)
    mask = only_followers(log, LIGHT)
    assert detect_co_occurrence(log, mask, CoOccurrenceParams(min_coverage=0.0)) == []
    (pattern,) = detect_co_occurrence(log, mask, CoOccurrenceParams(min_coverage=0.0, min_lift=1.0))
    assert pattern.confidence == 1.0
    assert 1.0 <= pattern.lift < 5.0


def test_independent_random_streams_are_not_reported() -> None:
    """Two sensors changing 20 times a day at random land within 2 minutes of each other
    often enough for the support, but that is chance: no pair in either direction."""
    rng = np.random.default_rng(7)
    rows: list[Row] = []
    for entity_id in (MOTION, LIGHT):
        for day in FOUR_WEEKS:
            rows += [
                (entity_id, "on", day, int(m), Origin.PHYSICAL) for m in rng.integers(0, MINUTES_PER_DAY, 20)
            ]
    log = make_log(rows)
    # Not vacuous: the coincidences alone would pass the support threshold.
    motion_ts = log.ts[log.entity == log.entity_ids.index(MOTION)]
    light_ts = log.ts[log.entity == log.entity_ids.index(LIGHT)]
    lo = np.searchsorted(light_ts, motion_ts, side="right")
    hi = np.searchsorted(light_ts, motion_ts + WINDOW_S, side="right")
    assert np.count_nonzero(hi > lo) >= 8
    assert detect_co_occurrence(log) == []


# --- which entities and states take part --------------------------------------------------------


def test_only_controllable_followers_are_considered() -> None:
    """The mask limits B; the trigger itself (a motion sensor) need not be controllable."""
    log = make_log(follows([1] * 10))
    (pattern,) = detect_co_occurrence(log, only_followers(log, LIGHT))
    assert (pattern.trigger_entity_id, pattern.entity_id) == (MOTION, LIGHT)
    assert detect_co_occurrence(log, only_followers(log, MOTION)) == []
    assert detect_co_occurrence(log, only_followers(log)) == []


def test_each_target_state_is_its_own_pair() -> None:
    """Motion on -> light on and motion off -> light off are two patterns, not one."""
    rows = follows([1] * 10) + [
        (e, s, *_shift(slot(i), k), Origin.PHYSICAL)
        for i in range(10)
        for e, s, k in ((MOTION, "off", 30), (LIGHT, "off", 31))
    ]
    assert sorted(pairs(detect(rows))) == [(MOTION, "off", LIGHT, "off"), (MOTION, "on", LIGHT, "on")]


@pytest.mark.parametrize(
    ("trigger_state", "follower_state"),
    [
        ("unavailable", "on"),
        ("unknown", "on"),
        ("21.5", "on"),
        ("on", "unavailable"),
        ("on", "unknown"),
        ("42", "on"),
        ("on", "42"),
    ],
)
def test_unusable_states_are_neither_triggers_nor_targets(trigger_state: str, follower_state: str) -> None:
    """unavailable/unknown say nothing, a numeric value is a measurement: however well they
    line up, no pair is built on them."""
    rows = follows([1] * 10, trigger_state=trigger_state, follower_state=follower_state)
    assert detect(rows) == []


def _dropouts(n: int, entity_id: str, gone: str, back: str) -> list[Row]:
    """``n`` times: ``entity_id`` drops to ``gone`` 45 minutes after a slot, ``back`` a minute on."""
    rows: list[Row] = []
    for i in range(n):
        day, minute = _shift(slot(i), 45)
        rows += [
            (entity_id, gone, day, minute, Origin.SYSTEM),
            (entity_id, back, day, minute + 1, Origin.PHYSICAL),
        ]
    return rows


def test_unusable_changes_in_between_do_not_hide_a_pair_or_count_as_changes() -> None:
    """The light dropping to unavailable and back between its real changes is not one of them."""
    rows = (
        follows([1] * 10) + _dropouts(10, LIGHT, "unavailable", "on") + _dropouts(10, MOTION, "unknown", "on")
    )
    (pattern,) = detect(rows)
    assert pairs([pattern]) == [(MOTION, "on", LIGHT, "on")]
    assert (pattern.trigger_count, pattern.follower_count, pattern.coverage) == (10, 10, 1.0)


def test_coming_back_from_unavailable_is_no_onset() -> None:
    """Restarts: the sensor and the light come back ``on`` together ten times; nobody did anything."""
    rows = _dropouts(10, MOTION, "unavailable", "on") + _dropouts(10, LIGHT, "unknown", "on")
    assert detect(rows) == []


# --- origin -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("by_automation", "automated", "origins"),
    [
        (10, True, {"automation": 10}),
        (6, True, {"automation": 6, "user": 4}),
        (5, False, {"automation": 5, "user": 5}),
        (0, False, {"user": 10}),
    ],
)
def test_a_follower_mostly_changed_by_an_automation_is_automated(
    by_automation: int, automated: bool, origins: dict[str, int]
) -> None:
    """``automated`` when more than half of the changes that followed were an automation's."""
    who = [Origin.AUTOMATION] * by_automation + [Origin.USER] * (10 - by_automation)
    (pattern,) = detect(follows([1] * 10, origins=who))
    assert pattern.automated is automated
    assert pattern.origins == origins


def test_origins_count_only_the_changes_that_followed() -> None:
    """Automated changes of the light that followed no trigger do not make the pair automated."""
    rows = follows([1] * 10) + [(LIGHT, "on", *_shift(slot(i), 45), Origin.AUTOMATION) for i in range(5)]
    (pattern,) = detect(rows)
    assert pattern.automated is False
    assert pattern.origins == {"physical": 10}


# --- ranking ------------------------------------------------------------------------------------


def test_the_more_reliable_follower_is_listed_first() -> None:
    """Light after all 20 motion events, the fan (at the same instant as it) after 12."""
    fan = [("fan.hall", "on", *_shift(slot(i), 1), Origin.PHYSICAL) for i in range(12)]
    rows = follows([1] * 20) + fan
    patterns = detect(rows)
    assert [p.entity_id for p in patterns] == [LIGHT, "fan.hall"]
    assert patterns[0].score > patterns[1].score


def test_the_end_of_what_a_trigger_started_is_no_second_pattern() -> None:
    """Motion on, the light on a minute later and off again a minute after that: both
    follow motion on within the window, but the light going off ends what it started."""
    rows = follows([1] * 40)
    rows += [(LIGHT, "off", *_shift(slot(i), 2), Origin.PHYSICAL) for i in range(40)]
    patterns = detect_co_occurrence(make_log(rows))
    assert [
        (p.trigger_to_state, p.entity_id, p.to_state) for p in patterns if p.trigger_entity_id == MOTION
    ] == [("on", LIGHT, "on")]
