"""Time-of-day routines: what the detector calls a routine, and what it must not."""

from __future__ import annotations

import numpy as np
import pytest

from custom_components.ai_automation.engine.event_log import Origin
from custom_components.ai_automation.engine.time_of_day import (
    TimeOfDayParams,
    TimeOfDayPattern,
    detect_time_of_day,
    routine_state_mask,
)

from .builders import (
    FOUR_WEEKS,
    MINUTES_PER_DAY,
    MONDAY,
    Row,
    hm,
    jitter,
    make_log,
    on_weekdays,
    routine,
    weekday_of,
)

WEEKDAYS = (0, 1, 2, 3, 4)
WEEKEND = (5, 6)
EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)
SIX_WEEKS = range(MONDAY, MONDAY + 42)


def clock_distance(a: int, b: int) -> int:
    """Minutes between two times of day, the short way round the clock."""
    d = abs(a - b) % MINUTES_PER_DAY
    return min(d, MINUTES_PER_DAY - d)


def detect(rows: list[Row], window: range = FOUR_WEEKS) -> list[TimeOfDayPattern]:
    return detect_time_of_day(make_log(rows, window.start, window.stop - 1))


def kitchen_weekday_routine(origin: Origin = Origin.USER) -> list[Row]:
    """Kitchen light on at 06:45 +-10 min on weekdays, three weekdays skipped."""
    days = [d for d in on_weekdays(FOUR_WEEKS, WEEKDAYS) if d - MONDAY not in {2, 10, 18}]
    return routine("light.kitchen", "on", days, hm(6, 45), jitter(1, len(days), 10), origin)


def random_toggles(
    entity_id: str, per_day: int, seed: int, states: tuple[str, str] = ("on", "off")
) -> list[Row]:
    """``per_day`` changes a day, each at a uniformly random time to a random one of two states.

    (Alternating states at sorted random times would not be structureless: the second
    change of a day is later than the first, so "off" would lean towards the evening.)
    """
    rng = np.random.default_rng(seed)
    rows: list[Row] = []
    for day in FOUR_WEEKS:
        minutes = rng.integers(0, MINUTES_PER_DAY, size=per_day)
        picks = rng.integers(0, 2, size=per_day)
        rows += [
            (entity_id, states[int(k)], day, int(m), Origin.SYSTEM)
            for m, k in zip(minutes, picks, strict=True)
        ]
    return rows


# --- routines it finds ----------------------------------------------------------------------


def test_a_weekday_routine_with_jitter_and_missed_days_is_one_weekday_pattern() -> None:
    (pattern,) = detect(kitchen_weekday_routine())
    assert (pattern.entity_id, pattern.to_state) == ("light.kitchen", "on")
    assert pattern.day_set == "weekdays"
    assert pattern.days == WEEKDAYS
    assert pattern.day_names == ["mon", "tue", "wed", "thu", "fri"]
    assert clock_distance(pattern.minute, hm(6, 45)) <= 3
    assert pattern.occurrences == 17
    assert pattern.eligible_days == 20
    assert pattern.share_of_days == pytest.approx(17 / 20)
    assert 0 < pattern.spread_min <= 10
    assert 0 < pattern.confidence <= 1
    assert pattern.automated is False
    assert pattern.origins == {"user": 17}
    assert len(pattern.hit_days) == 17
    assert all(weekday_of(d) in WEEKDAYS for d in pattern.hit_days)


def test_a_midnight_routine_counts_only_evenings_inside_the_window() -> None:
    """Lights off at 23:50 every evening of four weeks; the window's first day also holds
    00:05, the tail of the evening before the window. That evening is not in the window:
    28 evenings, 28 occurrences, share 1.0 at most.
    """
    rows = routine("light.living", "off", [MONDAY - 1], hm(23, 55), [10])  # 00:05 on MONDAY
    rows += routine("light.living", "off", FOUR_WEEKS, hm(23, 50))
    (pattern,) = detect(rows)
    assert pattern.eligible_days == 28
    assert all(FOUR_WEEKS.start <= d < FOUR_WEEKS.stop for d in pattern.hit_days)
    assert pattern.occurrences <= pattern.eligible_days
    assert pattern.share_of_days <= 1.0


def test_confidence_stays_within_zero_and_one_at_the_window_edge() -> None:
    """A perfect 23:55 routine in a one-week window, plus the 00:05 tail of the evening before."""
    week = range(MONDAY, MONDAY + 7)
    rows = routine("light.living", "off", [MONDAY - 1], hm(23, 55), [10])
    rows += routine("light.living", "off", week, hm(23, 55))
    (pattern,) = detect(rows, week)
    assert 0.0 <= pattern.confidence <= 1.0


def test_the_pattern_time_reads_as_hh_mm() -> None:
    (pattern,) = detect(routine("light.hall", "on", FOUR_WEEKS, hm(6, 5)))
    assert pattern.minute == hm(6, 5)
    assert pattern.time == "06:05"
    assert pattern.spread_min == 0


def test_a_routine_that_crosses_midnight_is_one_routine() -> None:
    """Lights off at 23:55 +-15 min every day, half the nights only after midnight."""
    after = np.random.default_rng(2).integers(6, 16, size=len(FOUR_WEEKS))  # 00:01 .. 00:10
    before = np.random.default_rng(3).integers(6, 16, size=len(FOUR_WEEKS))  # 23:40 .. 23:49
    offsets = [int(a) if i % 2 else -int(b) for i, (a, b) in enumerate(zip(after, before, strict=True))]
    rows = routine("light.living", "off", FOUR_WEEKS, hm(23, 55), offsets)
    assert sum(r[3] < hm(1, 0) for r in rows) == 14  # half the events fall after midnight

    (pattern,) = detect(rows)
    assert pattern.day_set == "daily"
    assert pattern.days == EVERY_DAY
    assert clock_distance(pattern.minute, hm(23, 55)) <= 8
    # Each night counts once, on the evening it belongs to: the last night's 00:0x event
    # falls after the window, the other 27 nights are all in.
    assert pattern.occurrences == 27
    assert pattern.hit_days == tuple(FOUR_WEEKS)[:27]


def test_a_routine_that_crosses_midnight_keeps_its_evening_weekdays() -> None:
    """Friday and Saturday nights at 23:55 +-10: the 00:0x events land on Sat/Sun local days."""
    days = on_weekdays(SIX_WEEKS, (4, 5))
    offsets = [8 if i % 2 else -6 for i in range(len(days))]
    rows = routine("light.porch", "off", days, hm(23, 55), offsets)
    (pattern,) = detect(rows, SIX_WEEKS)
    assert pattern.day_set == "custom"
    assert pattern.days == (4, 5)
    assert pattern.day_names == ["fri", "sat"]
    assert pattern.occurrences == 12


def test_a_weekend_routine_is_a_weekends_pattern() -> None:
    days = on_weekdays(FOUR_WEEKS, WEEKEND)
    (pattern,) = detect(routine("cover.bedroom", "open", days, hm(9, 30), jitter(4, len(days), 5)))
    assert pattern.day_set == "weekends"
    assert pattern.days == WEEKEND
    assert pattern.occurrences == pattern.eligible_days == 8
    assert clock_distance(pattern.minute, hm(9, 30)) <= 5


def test_a_monday_wednesday_friday_routine_is_a_custom_pattern() -> None:
    days = on_weekdays(SIX_WEEKS, (0, 2, 4))
    (pattern,) = detect(routine("switch.gym_fan", "on", days, hm(18, 0), jitter(5, len(days), 8)), SIX_WEEKS)
    assert pattern.day_set == "custom"
    assert pattern.days == (0, 2, 4)
    assert pattern.day_names == ["mon", "wed", "fri"]
    assert pattern.occurrences == pattern.eligible_days == 18


def test_a_morning_and_an_evening_routine_of_one_state_are_two_patterns() -> None:
    rows = routine("light.hall", "on", FOUR_WEEKS, hm(7, 0), jitter(6, 28, 10))
    rows += routine("light.hall", "on", FOUR_WEEKS, hm(19, 0), jitter(7, 28, 10))
    patterns = detect(rows)
    assert len(patterns) == 2
    assert {(p.entity_id, p.to_state, p.day_set) for p in patterns} == {("light.hall", "on", "daily")}
    morning, evening = sorted(patterns, key=lambda p: p.minute)
    assert clock_distance(morning.minute, hm(7, 0)) <= 5
    assert clock_distance(evening.minute, hm(19, 0)) <= 5
    assert morning.occurrences == evening.occurrences == 28


def test_each_entity_and_state_is_its_own_routine() -> None:
    rows = routine("light.hall", "on", FOUR_WEEKS, hm(7, 0), jitter(8, 28, 5))
    rows += routine("light.hall", "off", FOUR_WEEKS, hm(8, 0), jitter(9, 28, 5))
    rows += routine("light.porch", "on", FOUR_WEEKS, hm(7, 0), jitter(10, 28, 5))
    patterns = detect(rows)
    assert sorted((p.entity_id, p.to_state) for p in patterns) == [
        ("light.hall", "off"),
        ("light.hall", "on"),
        ("light.porch", "on"),
    ]


def test_many_events_in_one_minute_are_one_vote() -> None:
    """A chattering switch at 07:00 sharp is still a routine of one occurrence a day."""
    rows = routine("switch.kettle", "on", FOUR_WEEKS, hm(7, 0)) * 5
    (pattern,) = detect(rows)
    assert pattern.occurrences == 28
    assert pattern.minute == hm(7, 0)


# --- automation or person -------------------------------------------------------------------


def test_a_routine_an_automation_performs_is_flagged_automated() -> None:
    (pattern,) = detect(kitchen_weekday_routine(Origin.AUTOMATION))
    assert pattern.automated is True
    assert pattern.origins == {"automation": 17}


def test_a_routine_mostly_done_by_an_automation_is_automated() -> None:
    rows = [
        (*r[:4], Origin.USER if i < 4 else Origin.AUTOMATION) for i, r in enumerate(kitchen_weekday_routine())
    ]
    (pattern,) = detect(rows)
    assert pattern.origins == {"user": 4, "automation": 13}
    assert pattern.automated is True


def test_a_routine_half_done_by_an_automation_is_not_automated() -> None:
    days = on_weekdays(FOUR_WEEKS, WEEKDAYS)
    rows = [
        (*r[:4], Origin.AUTOMATION if i % 2 else Origin.PHYSICAL)
        for i, r in enumerate(routine("light.kitchen", "on", days, hm(6, 45)))
    ]
    (pattern,) = detect(rows)
    assert pattern.origins == {"physical": 10, "automation": 10}
    assert pattern.automated is False


# --- what is not a routine --------------------------------------------------------------------


def test_a_noisy_motion_sensor_is_no_routine() -> None:
    """200 random motion events a day, every day."""
    assert detect(random_toggles("binary_sensor.hall_motion", 200, seed=11)) == []


@pytest.mark.parametrize("seed", [12, 13, 14])
def test_an_entity_toggled_at_random_times_is_no_routine(seed: int) -> None:
    assert detect(random_toggles("light.guest", 4, seed=seed)) == []


def test_random_toggling_never_looks_like_a_confident_routine() -> None:
    """400 random histories (1-4 toggles a day): chance clusters stay rare and weak.

    Four weeks of random times do now and then bunch up on a few weekdays, and the
    detector may report that as a faint "custom" routine; none may come anywhere near
    the default suggestion bar of 0.5.
    """
    found = [
        p
        for per_day in (1, 2, 3, 4)
        for seed in range(100)
        for p in detect(random_toggles("x", per_day, 1000 * per_day + seed))
    ]
    assert len(found) <= 20  # 5 %
    assert all(p.confidence < 0.35 for p in found)


@pytest.mark.parametrize("state", ["unavailable", "unknown", ""])
def test_unavailable_and_unknown_are_never_routines(state: str) -> None:
    """A device dropping off the network at 03:00 every night is not something people do."""
    rows = routine("light.garage", state, FOUR_WEEKS, hm(3, 0))
    rows += routine("light.kitchen", "on", FOUR_WEEKS, hm(6, 45))  # control: this one is found
    patterns = detect(rows)
    assert [(p.entity_id, p.to_state) for p in patterns] == [("light.kitchen", "on")]


@pytest.mark.parametrize("state", ["21.5", "0", "-3", "1e3", "nan"])
def test_numeric_states_are_measurements_not_routines(state: str) -> None:
    rows = routine("sensor.living_temperature", state, FOUR_WEEKS, hm(7, 0))
    rows += routine("light.kitchen", "on", FOUR_WEEKS, hm(6, 45))
    patterns = detect(rows)
    assert [(p.entity_id, p.to_state) for p in patterns] == [("light.kitchen", "on")]


def test_routine_state_mask() -> None:
    states = ("on", "unavailable", "21.5", "unknown", "off", "", "heat", "22")
    assert routine_state_mask(states).tolist() == [True, False, False, False, True, False, True, False]


def test_timestamps_and_free_text_are_no_states() -> None:
    """A timestamp sensor's value, a user agent: never a routine's state; a zone's name is one."""
    states = (
        "2025-04-04T00:30:10+00:00",
        "2025-04-04",
        "06:45:00",
        "Mozilla/5.0 (Linux; Android 10; SM-T510) AppleWebKit/537.36 (KHTML, like Gecko)",
        "Grandma's house",
        "not_home",
    )
    assert routine_state_mask(states).tolist() == [False, False, False, False, True, True]


def test_fewer_days_than_min_occurrences_is_nothing() -> None:
    """Four mornings, however many events each, are not a routine of five days."""
    days = list(FOUR_WEEKS)[:4]
    rows = [r for offset in range(-3, 4) for r in routine("light.kitchen", "on", days, hm(6, 45) + offset)]
    assert len(rows) >= TimeOfDayParams().min_occurrences
    assert detect(rows) == []


def test_min_occurrences_counts_days() -> None:
    days = list(FOUR_WEEKS)[:5]
    assert detect(routine("light.kitchen", "on", days, hm(6, 45)), range(days[0], days[-1] + 1)) != []
    strict = TimeOfDayParams(min_occurrences=6)
    assert detect_time_of_day(make_log(routine("light.kitchen", "on", days, hm(6, 45))), strict) == []


def test_a_routine_kept_on_too_few_of_its_days_is_nothing() -> None:
    """Eight scattered weekdays at 06:45 in six weeks, at most two on any one weekday.

    That is 8 of 30 weekdays, below the minimum share of days (0.3) of every day set.
    """
    days = on_weekdays(SIX_WEEKS, WEEKDAYS)[::4]
    assert len(days) == 8
    assert max(np.bincount([weekday_of(d) for d in days])) == 2
    assert detect(routine("light.kitchen", "on", days, hm(6, 45)), SIX_WEEKS) == []


def test_an_empty_log_is_nothing() -> None:
    log = make_log([("light.a", "on", MONDAY, 0, Origin.USER)])
    empty = type(log)(
        entity_ids=(),
        states=(),
        entity=log.entity[:0],
        state=log.state[:0],
        ts=log.ts[:0],
        origin=log.origin[:0],
        offset_change_ts=log.offset_change_ts,
        offset_s=log.offset_s,
        first_day=MONDAY,
        last_day=MONDAY + 27,
        covered=np.ones(28, dtype=bool),
        entity_first_day=log.entity_first_day[:0],
    )
    assert detect_time_of_day(empty) == []


# --- output contract ----------------------------------------------------------------------------


def household() -> list[Row]:
    """Several routines of different strength, plus noise."""
    rows = kitchen_weekday_routine()
    rows += routine("light.hall", "on", FOUR_WEEKS, hm(19, 0), jitter(20, 28, 25))
    rows += routine("light.hall", "on", FOUR_WEEKS[::2], hm(7, 0), jitter(21, 14, 5))
    days = on_weekdays(FOUR_WEEKS, WEEKEND)
    rows += routine("cover.bedroom", "open", days, hm(9, 30), jitter(22, len(days), 3))
    rows += routine("switch.coffee", "on", FOUR_WEEKS, hm(6, 30), jitter(23, 28, 2), Origin.AUTOMATION)
    rows += random_toggles("binary_sensor.hall_motion", 50, seed=24)
    return rows


def test_output_is_sorted_strongest_first() -> None:
    patterns = detect(household())
    assert len(patterns) >= 4
    confidences = [p.confidence for p in patterns]
    assert confidences == sorted(confidences, reverse=True)
    assert all(0 < c <= 1 for c in confidences)


def test_output_is_deterministic() -> None:
    first = detect(household())
    second = detect(household())
    assert first == second
    assert detect(list(reversed(household()))) == first


def test_many_groups_are_screened_in_bounded_chunks() -> None:
    """1,300 (entity, state) groups screened 128 at a time find exactly what one pass finds."""
    from custom_components.ai_automation.engine import minute_histogram as mh

    rng = np.random.default_rng(11)
    n_groups = 1_300
    group = np.sort(rng.integers(0, n_groups, 40_000)).astype(np.int64)
    day = rng.integers(0, 28, group.size).astype(np.int64)
    # Every third group has a routine at its own minute; the rest are random.
    routine = (group % 3 == 0) & (rng.random(group.size) < 0.8)
    minute = np.where(routine, (group * 7) % 1440, rng.integers(0, 1440, group.size)).astype(np.int64)
    params = TimeOfDayParams()
    test = mh.PeakTest(
        kernel=mh.gaussian_kernel_fft(params.kernel_sigma_min),
        window_min=params.window_min,
        min_peak_lift=params.min_peak_lift,
        min_window_lift=params.min_window_lift,
    )
    chunked = mh.groups_with_peaks(group, day, minute, n_groups, test)
    whole = mh._groups_with_peaks(group, day, minute, n_groups, test)
    assert sorted(chunked) == sorted(whole)
    assert all(chunked[g].tolist() == whole[g].tolist() for g in chunked)
    assert sum(g in chunked for g in range(0, n_groups, 3)) > 0.9 * len(range(0, n_groups, 3))
    # A group's peaks are those of its histogram alone.
    for g in list(chunked)[:20]:
        own = group == g
        (alone,) = mh._groups_with_peaks(
            np.zeros(own.sum(), dtype=np.int64), day[own], minute[own], 1, test
        ).values()
        assert alone.tolist() == chunked[g].tolist()
