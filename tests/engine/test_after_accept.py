"""After accept: an automation the household undoes, pre-empts or never needs is found, with its fix."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from custom_components.ai_automation.engine.after_accept import (
    DONE_BEFORE,
    NOT_TRIGGERED,
    PROPOSE_MOVE,
    PROPOSE_REMOVE,
    PROPOSE_SOMEONE_HOME,
    PROPOSE_WEEKDAYS,
    REVERTED,
    Watched,
    check,
    check_all,
    usual_minute,
)
from custom_components.ai_automation.engine.event_log import Origin
from custom_components.ai_automation.engine.presence import presence_of

from .builders import FOUR_WEEKS, MONDAY, SECONDS_PER_DAY, Row, hm, make_log, on_weekdays, routine

LIGHT = "light.kitchen"
WEEKDAYS = (0, 1, 2, 3, 4)
ACCEPTED = MONDAY + 14  # two weeks of history before, two after
AFTER = [d for d in FOUR_WEEKS if d >= ACCEPTED]
# What the shell makes of "Turn on Kitchen light at 06:45" on weekdays, accepted that morning.
KITCHEN = Watched(
    key="ai_1", entity_id=LIGHT, to_state="on", since_ts=ACCEPTED * SECONDS_PER_DAY, weekdays=WEEKDAYS,
    minute=hm(6, 45),
)  # fmt: skip
NOW = (MONDAY + 28) * SECONDS_PER_DAY


def fires(days: list[int], minute: int = hm(6, 45)) -> list[Row]:
    """The automation turning the light on (an automation's context)."""
    return routine(LIGHT, "on", days, minute, origin=Origin.AUTOMATION)


def by_hand(state: str, days: list[int], minute: int, origin: Origin = Origin.PHYSICAL) -> list[Row]:
    return routine(LIGHT, state, days, minute, origin=origin)


def before_accept() -> list[Row]:
    """The routine as it was found: on by hand at 06:45, off an hour later."""
    days = on_weekdays([d for d in FOUR_WEEKS if d < ACCEPTED], WEEKDAYS)
    return by_hand("on", days, hm(6, 45), Origin.USER) + by_hand("off", days, hm(7, 45))


def test_undone_by_hand_and_done_later_proposes_the_later_time() -> None:
    """Off again at 06:50 every morning, on by hand at 07:30: move it to 07:30."""
    days = on_weekdays(AFTER, WEEKDAYS)
    log = make_log(
        before_accept()
        + fires(days)
        + by_hand("off", days, hm(6, 50))
        + by_hand("on", days, hm(7, 30), Origin.USER)
        + by_hand("off", days, hm(8, 30)),
        FOUR_WEEKS[0],
        FOUR_WEEKS[-1],
    )

    found = check(log, KITCHEN, NOW)

    assert found is not None
    assert (found.problem, found.proposal, found.fired, found.undone) == (REVERTED, PROPOSE_MOVE, 7, 7)
    assert found.new_minute == found.usual_minute == hm(7, 30)
    assert found.last_fired_ts == (days[-1] * 1440 + hm(6, 45)) * 60


def test_kept_on_is_no_problem() -> None:
    days = on_weekdays(AFTER, WEEKDAYS)
    log = make_log(
        before_accept() + fires(days) + by_hand("off", days, hm(7, 45)), FOUR_WEEKS[0], FOUR_WEEKS[-1]
    )

    assert check(log, KITCHEN, NOW) is None


def test_off_after_more_than_ten_minutes_is_not_undoing_it() -> None:
    days = on_weekdays(AFTER, WEEKDAYS)
    log = make_log(
        before_accept() + fires(days) + by_hand("off", days, hm(6, 56)), FOUR_WEEKS[0], FOUR_WEEKS[-1]
    )

    assert check(log, KITCHEN, NOW) is None


def test_two_of_the_last_seven_firings_undone_is_not_enough_three_are() -> None:
    days = on_weekdays(AFTER, WEEKDAYS)
    rows = before_accept() + fires(days) + by_hand("off", days[-2:], hm(6, 50))
    kept_on = by_hand("off", days[:-2], hm(7, 45))
    assert check(make_log(rows + kept_on, FOUR_WEEKS[0], FOUR_WEEKS[-1]), KITCHEN, NOW) is None

    rows = before_accept() + fires(days) + by_hand("off", days[-3:], hm(6, 50))
    found = check(
        make_log(rows + by_hand("off", days[:-3], hm(7, 45)), FOUR_WEEKS[0], FOUR_WEEKS[-1]), KITCHEN, NOW
    )
    assert found is not None
    assert (found.problem, found.fired, found.undone, found.proposal) == (REVERTED, 7, 3, PROPOSE_REMOVE)


def test_undone_only_from_friday_to_sunday_proposes_the_other_days() -> None:
    """(Only at weekends would be two of any seven firings: not enough to tell.)"""
    every_day = replace(KITCHEN, weekdays=(0, 1, 2, 3, 4, 5, 6))
    weekdays, weekend = on_weekdays(AFTER, (0, 1, 2, 3)), on_weekdays(AFTER, (4, 5, 6))
    log = make_log(
        fires(AFTER) + by_hand("off", weekend, hm(6, 48)) + by_hand("off", weekdays, hm(7, 45)),
        FOUR_WEEKS[0],
        FOUR_WEEKS[-1],
    )

    found = check(log, every_day, NOW)

    assert found is not None
    assert (found.problem, found.proposal, found.weekdays) == (REVERTED, PROPOSE_WEEKDAYS, (0, 1, 2, 3))
    assert (found.fired, found.undone) == (7, 3)


def test_undone_from_the_app_while_nobody_is_home_proposes_someone_home() -> None:
    """Away for the last week: each morning someone turns it off in the app."""
    days = on_weekdays(AFTER, WEEKDAYS)
    away_from = days[-5]
    home = [
        ("person.alex", "home", FOUR_WEEKS[0], 0, Origin.SYSTEM),
        ("person.alex", "not_home", away_from - 1, hm(22, 0), Origin.SYSTEM),
    ]
    log = make_log(
        home
        + fires(days)
        + by_hand("off", [d for d in days if d >= away_from], hm(6, 47), Origin.USER)
        + by_hand("off", [d for d in days if d < away_from], hm(7, 45)),
        FOUR_WEEKS[0],
        FOUR_WEEKS[-1],
    )

    found = check(log, KITCHEN, NOW, presence=presence_of(log))

    assert found is not None
    assert (found.problem, found.proposal, found.undone) == (REVERTED, PROPOSE_SOMEONE_HOME, 5)
    # It already needs someone home: no such proposal again.
    again = check(log, replace(KITCHEN, needs_someone_home=True), NOW, presence=presence_of(log))
    assert again is not None
    assert again.proposal == PROPOSE_REMOVE
    assert again.usual_minute == hm(6, 47)  # when it is undone: the household's only usual time


def test_firings_before_it_was_accepted_and_other_automations_do_not_count() -> None:
    """An automation of the house's own at 12:00 switches the same light on and off again."""
    before = on_weekdays([d for d in FOUR_WEEKS if d < ACCEPTED], WEEKDAYS)
    days = on_weekdays(AFTER, WEEKDAYS)
    log = make_log(
        fires(before) + by_hand("off", before, hm(6, 50))  # someone else's automation, before
        + fires(days, hm(12, 0)) + by_hand("off", days, hm(12, 5))  # another one, at noon
        + fires(days) + by_hand("off", days, hm(7, 45)),
        FOUR_WEEKS[0],
        FOUR_WEEKS[-1],
    )  # fmt: skip

    assert check(log, KITCHEN, NOW) is None


def test_done_by_hand_well_before_proposes_the_earlier_time() -> None:
    """On by hand at 06:20 every morning: at 06:45 it finds the light on and does nothing."""
    days = on_weekdays(AFTER, WEEKDAYS)
    log = make_log(
        before_accept() + by_hand("on", days, hm(6, 20), Origin.USER) + by_hand("off", days, hm(7, 45)),
        FOUR_WEEKS[0],
        FOUR_WEEKS[-1],
    )

    found = check(log, KITCHEN, NOW)

    assert found is not None
    assert (found.problem, found.proposal, found.fired, found.undone) == (DONE_BEFORE, PROPOSE_MOVE, 7, 7)
    assert found.new_minute == hm(6, 20)


def test_done_by_hand_just_before_proposes_removing_it() -> None:
    days = on_weekdays(AFTER, WEEKDAYS)
    log = make_log(
        by_hand("on", days, hm(6, 41), Origin.USER) + by_hand("off", days, hm(7, 45)),
        FOUR_WEEKS[0],
        FOUR_WEEKS[-1],
    )

    found = check(log, KITCHEN, NOW)

    assert found is not None
    assert (found.problem, found.proposal, found.usual_minute) == (DONE_BEFORE, PROPOSE_REMOVE, hm(6, 41))


def test_on_by_hand_an_hour_before_is_not_pre_empting_it() -> None:
    days = on_weekdays(AFTER, WEEKDAYS)
    log = make_log(
        by_hand("on", days, hm(5, 40)) + by_hand("off", days, hm(7, 45)), FOUR_WEEKS[0], FOUR_WEEKS[-1]
    )

    assert check(log, KITCHEN, NOW) is None


def test_a_state_trigger_undone_after_it_follows_its_trigger() -> None:
    """The hallway light on two seconds after the motion, off by hand a minute later."""
    motion = routine("binary_sensor.motion", "on", AFTER, hm(19, 0))
    light_on = [("light.hallway", "on", d, hm(19, 0), Origin.AUTOMATION) for d in AFTER]
    light_off = [("light.hallway", "off", d, hm(19, 1), Origin.PHYSICAL) for d in AFTER]
    # The same light on by some other automation at noon: not this one's firing.
    other = [("light.hallway", "on", d, hm(12, 0), Origin.AUTOMATION) for d in AFTER]
    other += [("light.hallway", "off", d, hm(12, 30), Origin.AUTOMATION) for d in AFTER]
    log = make_log(motion + light_on + light_off + other, FOUR_WEEKS[0], FOUR_WEEKS[-1])
    hallway = Watched(
        key="ai_2", entity_id="light.hallway", to_state="on", since_ts=ACCEPTED * SECONDS_PER_DAY,
        trigger_entity_id="binary_sensor.motion", trigger_to_state="on",
    )  # fmt: skip

    found = check(log, hallway, NOW)

    assert found is not None
    assert (found.problem, found.fired, found.undone, found.proposal) == (REVERTED, 7, 7, PROPOSE_REMOVE)
    assert found.last_fired_ts == (AFTER[-1] * 1440 + hm(19, 0)) * 60


def test_not_triggered_for_thirty_days_proposes_removing_it() -> None:
    log = make_log(before_accept(), FOUR_WEEKS[0], FOUR_WEEKS[-1])
    old = replace(KITCHEN, since_ts=NOW - 40 * SECONDS_PER_DAY)

    found = check(log, old, NOW)

    assert found is not None
    assert (found.problem, found.proposal, found.fired) == (NOT_TRIGGERED, PROPOSE_REMOVE, 0)
    # Not 30 days old yet, or fired a few days ago (before the window, as its entity says).
    assert check(log, replace(old, since_ts=NOW - 20 * SECONDS_PER_DAY), NOW) is None
    assert check(log, replace(old, last_triggered_ts=NOW - 5 * SECONDS_PER_DAY), NOW) is None


def test_a_target_the_history_lacks_is_only_checked_for_idleness() -> None:
    log = make_log(routine("light.other", "on", AFTER, hm(6, 0)), FOUR_WEEKS[0], FOUR_WEEKS[-1])
    old = replace(KITCHEN, since_ts=NOW - 40 * SECONDS_PER_DAY)

    assert check(log, KITCHEN, NOW) is None
    assert [f.problem for f in check_all(log, [KITCHEN, old], NOW)] == [NOT_TRIGGERED]


def test_a_usual_time_needs_most_acts_close_together() -> None:
    assert usual_minute(np.array([400.0, 402.0, 405.0, 1300.0])) == 402
    assert usual_minute(np.array([400.0, 402.0, 900.0, 1300.0])) is None
    assert usual_minute(np.array([1435.0, 1438.0, 2.0])) == 1438


def test_without_origins_only_idleness_is_told() -> None:
    """The history API fallback: the automation's change and the wall switch look alike."""
    days = on_weekdays(AFTER, WEEKDAYS)
    log = make_log(
        before_accept() + fires(days) + by_hand("off", days, hm(6, 50)), FOUR_WEEKS[0], FOUR_WEEKS[-1]
    )
    old = replace(KITCHEN, since_ts=NOW - 40 * SECONDS_PER_DAY)

    assert check(log, KITCHEN, NOW, origin_known=False) is None
    found = check(log, old, NOW, origin_known=False)
    assert found is not None
    assert found.problem == NOT_TRIGGERED


def test_the_heating_off_when_the_last_one_leaves_undone_on_coming_back() -> None:
    """Accepted "off when everyone has left": it fires on each leave, and each time someone
    turns the heating back on minutes later (they were not gone: a phone that drops off
    the wifi). Its firings are the household's leaves; undone, it is reported."""
    heating, people = "climate.heating", ("person.alex", "person.sam")
    rows: list[Row] = [(p, "home", MONDAY, 0, Origin.SYSTEM) for p in people]
    days = on_weekdays(AFTER, WEEKDAYS)
    for day in days:
        rows += [
            (people[1], "not_home", day, hm(8, 0), Origin.SYSTEM),
            (people[0], "not_home", day, hm(8, 20), Origin.SYSTEM),
        ]
        rows += [
            (heating, "off", day, hm(8, 20), Origin.AUTOMATION),
            (heating, "heat", day, hm(8, 24), Origin.PHYSICAL),
        ]
        rows += [
            (people[0], "home", day, hm(8, 25), Origin.SYSTEM),
            (people[1], "home", day, hm(17, 0), Origin.SYSTEM),
        ]
    log = make_log(rows, MONDAY, MONDAY + 27)
    leave = Watched(
        key="ai_2",
        entity_id=heating,
        to_state="off",
        since_ts=ACCEPTED * SECONDS_PER_DAY,
        presence_event="leave",
    )

    found = check(log, leave, NOW, presence=presence_of(log))

    assert found is not None and found.problem == REVERTED
    assert (found.fired, found.undone) == (7, 7)
