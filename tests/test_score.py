"""The suggestion score (``scripts/score``): its classifier on hand-built cases, its real
home's traps, one run of the harness whose figures must add up, and the quality targets
on a few seeds (``scripts/score`` prints them over 20).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from itertools import pairwise

import pytest
from astral import LocationInfo
from astral.sun import sunrise, sunset

from custom_components.ai_automation.engine.co_occurrence import CoOccurrencePattern
from custom_components.ai_automation.engine.event_log import Origin
from custom_components.ai_automation.engine.time_of_day import TimeOfDayPattern
from custom_components.ai_automation.suggestions import Candidate, back_and_forth, pattern_id, service_for
from simulator.fetched import ORIGINS
from simulator.household import PHYSICAL, SYSTEM, WEEKDAYS, Change
from simulator.judge import DARK
from simulator.real_home import SCRIPT, RealHome, simulate_noise_home, simulate_real_home
from simulator.score import (
    END,
    RIGHT,
    TZ,
    UNPLANTED,
    WRONG_CONDITION,
    WRONG_KIND,
    Shown,
    classify,
    contradictions,
    is_absurd_sun,
    loops,
    print_figures,
    score,
    shown_of,
)

MEAN_SUN = {"sunrise": 7 * 60 + 40, "sunset": 17 * 60 + 30}


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No hass: the score calls the detectors directly."""


@cache
def _home() -> RealHome:
    return simulate_real_home(seed=1, days=15, end=END, time_zone=TZ)


def _time(at: str, entity_id: str, to_state: str, days: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)) -> Shown:
    h, m = (int(x) for x in at.split(":")[:2])
    return Shown({"trigger": "time", "at": at}, entity_id, to_state, days, minute=h * 60 + m)


def _state(
    trigger: tuple[str, str],
    entity_id: str,
    to_state: str,
    window: tuple[str, str] | None = None,
    **extra: object,
) -> Shown:
    return Shown(
        {"trigger": "state", "entity_id": trigger[0], "to": trigger[1], **extra},
        entity_id,
        to_state,
        window=window,
    )


STAIRS_EVENING = ("18:00", "23:30")


def _sun(event: str, offset: str, entity_id: str, to_state: str) -> Shown:
    shown = Shown({"trigger": "sun", "event": event, "offset": offset}, entity_id, to_state)
    return Shown(shown.trigger, entity_id, to_state, minute=MEAN_SUN[event] + (shown.sun_offset_min or 0))


def test_a_clock_routine_built_as_a_job_builds_it_is_right() -> None:
    """The kitchen light at 06:48 on weekdays, through ``automation_config``."""
    pattern = TimeOfDayPattern(
        entity_id="light.kitchen",
        to_state="on",
        minute=6 * 60 + 48,
        days=WEEKDAYS,
        day_set="weekdays",
        spread_min=6.0,
        occurrences=19,
        eligible_days=21,
        share_of_days=0.905,
        confidence=0.81,
        automated=False,
    )
    action = service_for("light.kitchen", "on", None)
    assert action is not None
    backtest = {"would_have_fired": 21, "matched": 19, "precision": 0.905, "tolerance_min": 15}
    shown = shown_of(Candidate(pattern_id(pattern), pattern, backtest, *action), _home(), MEAN_SUN)
    assert (shown.kind, shown.minute, shown.days, shown.entity_id) == ("time", 408, WEEKDAYS, "light.kitchen")
    verdict = classify(shown, _home())
    assert verdict.label == RIGHT
    assert verdict.planted in _home().routines


@pytest.mark.parametrize(
    ("shown", "label"),
    [
        (_time("06:40:00", "light.kitchen", "on", WEEKDAYS), RIGHT),
        (_time("06:40:00", "light.kitchen", "on", (0, 1, 2)), RIGHT),  # some of its days
        (_time("06:40:00", "light.kitchen", "on"), UNPLANTED),  # also on weekends
        (_time("07:30:00", "light.kitchen", "on", WEEKDAYS), UNPLANTED),  # 45 min late
        (_time("00:10:00", "light.bedroom", "off"), RIGHT),  # 23:55 across midnight
        (_time("23:30:00", "light.garden", "off"), RIGHT),
        (_sun("sunset", "00:20:00", "light.garden", "on"), RIGHT),
        (_sun("sunrise", "00:15:00", "light.garden", "on"), UNPLANTED),
        (_time("18:45:00", "light.garden", "on"), WRONG_KIND),  # a clock time for a sun routine
        (_sun("sunset", "-00:10:00", "light.kitchen", "off"), WRONG_KIND),  # sun for a clock routine
        (_state(("binary_sensor.hallway_motion", "on"), "light.hallway", "on"), RIGHT),
        (_state(("binary_sensor.stairs_motion", "on"), "light.stairs", "on", STAIRS_EVENING), RIGHT),
        (_state(("binary_sensor.stairs_motion", "on"), "light.stairs", "on", ("18:30", "23:00")), RIGHT),
        (_state(("binary_sensor.stairs_motion", "on"), "light.stairs", "on"), WRONG_CONDITION),  # all day
        (_state(("binary_sensor.stairs_motion", "on"), "light.stairs", "on", DARK), WRONG_CONDITION),
        (_state(("binary_sensor.driveway_motion", "on"), "light.driveway", "on", DARK), RIGHT),
        (_state(("binary_sensor.driveway_motion", "off"), "light.driveway", "off", DARK), RIGHT),  # back
        (
            _state(("binary_sensor.driveway_motion", "on"), "light.driveway", "on", ("19:00", "07:30")),
            WRONG_CONDITION,
        ),
        (_state(("media_player.tv", "on"), "light.tv_backlight", "on", ("18:30", "21:30")), WRONG_CONDITION),
        (_time("19:34:00", "light.stairs", "on"), WRONG_KIND),  # the motion light by the clock
        (_state(("binary_sensor.living_room_motion", "on"), "light.hallway", "on"), UNPLANTED),
        (
            _state(("switch.coffee_machine", "on"), "switch.coffee_machine", "off", **{"for": "00:26:00"}),
            RIGHT,
        ),
        (
            _state(
                ("switch.coffee_machine", "on"), "switch.coffee_machine", "off", **{"for": {"minutes": 40}}
            ),
            UNPLANTED,
        ),
        (_time("08:30:00", "switch.coffee_machine", "off"), WRONG_KIND),
        (_time("08:05:00", "switch.coffee_machine", "on"), WRONG_KIND),
        (_state(("light.guest_room", "on"), "input_boolean.guest_mode", "on"), UNPLANTED),  # a loop
        (_time("12:00:00", "media_player.kiosk_browser", "on"), UNPLANTED),
    ],
)
def test_classify(shown: Shown, label: str) -> None:
    """Right, wrong kind, wrong condition or unplanted against the real home's ground truth."""
    assert classify(shown, _home()).label == label, classify(shown, _home())


def _follows(
    trigger_state: str, to_state: str, lag_s: float, window: tuple[int, int] | None = None
) -> Candidate:
    pattern = CoOccurrencePattern(
        trigger_entity_id="media_player.tv",
        trigger_to_state=trigger_state,
        entity_id="light.tv_backlight",
        to_state=to_state,
        lag_s=lag_s,
        lag_p90_s=lag_s * 2,
        occurrences=40,
        trigger_count=44,
        follower_count=41,
        confidence=0.909,
        coverage=0.976,
        lift=300.0,
        automated=False,
        window=window,
    )
    backtest = {"would_have_fired": 44, "matched": 40, "precision": 0.909, "within_s": lag_s * 2}
    action = service_for("light.tv_backlight", to_state, None)
    assert action is not None
    return Candidate(pattern_id(pattern), pattern, {**backtest, "correct_per_week": 9.3}, *action)


def test_back_and_forth_built_as_a_job_builds_it_is_right_both_ways() -> None:
    """The backlight on with the TV and off with it: one automation, right for both plants."""
    (both,) = back_and_forth([_follows("on", "on", 3.0), _follows("off", "off", 8.0)])
    assert both.back is not None
    assert (both.backtest["would_have_fired"], both.backtest["matched"]) == (88, 80)
    shown = shown_of(both, _home(), MEAN_SUN)
    assert shown.back is not None
    assert (shown.trigger_key, shown.to_state) == (("media_player.tv", "on"), "on")
    assert (shown.back.trigger_key, shown.back.to_state) == (("media_player.tv", "off"), "off")
    verdict = classify(shown, _home())
    assert verdict.label == RIGHT
    assert {verdict.planted, verdict.also} <= set(_home().co_occurrences)
    assert verdict.planted is not verdict.also
    # The way back only in the evening: the plant is all day, so that way is wrong.
    (evening,) = back_and_forth([_follows("on", "on", 3.0), _follows("off", "off", 8.0, (1080, 1290))])
    assert classify(shown_of(evening, _home(), MEAN_SUN), _home()).label == WRONG_CONDITION


def test_contradicting_pairs() -> None:
    """On at 19:34 and off at 19:37 undo each other; an hour apart they do not; so does a
    pair in both directions unless both are planted."""
    on, off = _time("19:34:00", "light.stairs", "on"), _time("19:37:00", "light.stairs", "off")
    later = _time("20:40:00", "light.stairs", "off")
    weekend_off = _time("19:37:00", "light.stairs", "off", (5, 6))
    weekday_on = _time("19:34:00", "light.stairs", "on", WEEKDAYS)
    a_to_b = _state(("light.guest_room", "on"), "input_boolean.guest_mode", "on")
    b_to_a = _state(("input_boolean.guest_mode", "on"), "light.guest_room", "on")
    one_trigger_both_ways = _state(("binary_sensor.hallway_motion", "on"), "light.hallway", "off")
    hallway = _state(("binary_sensor.hallway_motion", "on"), "light.hallway", "on")

    def count(*shown: Shown) -> int:
        return len(contradictions(shown, [classify(s, _home()) for s in shown]))

    assert count(on, off) == 1
    assert count(on, later) == 0
    assert count(weekday_on, weekend_off) == 0
    assert count(a_to_b, b_to_a) == 1
    assert count(hallway, one_trigger_both_ways) == 1
    assert count(on, off, a_to_b, b_to_a, hallway) == 2


def test_an_absurd_sun_offset() -> None:
    """Three and a half hours after sunset is no sun routine."""
    absurd = _sun("sunset", "03:30:00", "light.garden", "on")
    assert is_absurd_sun(absurd)
    assert classify(absurd, _home()).label == UNPLANTED
    assert not is_absurd_sun(_sun("sunset", "-02:50:00", "light.garden", "on"))
    assert not is_absurd_sun(_time("03:30:00", "light.garden", "on"))


def test_a_suggestion_that_loops_into_an_existing_automation() -> None:
    """Guest room light -> guest mode, while guest mode -> guest room light is automated."""
    loop = _state(("light.guest_room", "on"), "input_boolean.guest_mode", "on")
    fine = _state(("binary_sensor.hallway_motion", "on"), "light.hallway", "on")
    assert loops([loop, fine, _time("20:00:00", "input_boolean.guest_mode", "on")], _home()) == [loop]


def test_the_real_home_has_its_traps() -> None:
    """Restarts with physical returns, script changes, the evening-only stairs light, the
    driveway light only in the dark, the coffee machine's 25 minutes, and the automation's
    own guest-room light."""
    home = _home()
    assert home.start == datetime(2026, 10, 25, tzinfo=TZ)  # the DST day is the first
    entities = {c.entity_id for c in home.changes}
    restarts: list[set[str]] = []  # entities down within a few seconds of each other
    last_down = -1e9
    for c in home.changes:
        if c.state in ("unavailable", "unknown"):
            if c.ts - last_down > 5:
                restarts.append(set())
            restarts[-1].add(c.entity_id)
            last_down = c.ts
    assert sum(len(r) >= len(entities) - 3 for r in restarts) >= 2  # 15 days: at least 2
    previous: dict[str, str] = {}
    returns: list[Change] = []
    for c in home.changes:
        if previous.get(c.entity_id) in ("unavailable", "unknown"):
            returns.append(c)
        previous[c.entity_id] = c.state
    assert {c.origin for c in returns if c.entity_id.startswith(("light.", "switch.", "media_player."))} == {
        PHYSICAL
    }
    assert {c.origin for c in returns if c.entity_id.startswith("sensor.")} == {SYSTEM}
    assert {
        c.origin
        for c in home.changes
        if c.entity_id == "input_boolean.movie_mode" and c.state == "on" and c not in returns
    } == {SCRIPT}
    assert ORIGINS[SCRIPT] == Origin.AUTOMATION
    for c in home.changes:
        if c.entity_id == "light.stairs" and c.state == "on" and c not in returns:
            local = datetime.fromtimestamp(c.ts, TZ)
            assert 18 * 60 <= local.hour * 60 + local.minute <= 23 * 60 + 31, local
    observer = LocationInfo(latitude=home.latitude, longitude=home.longitude).observer
    for c in home.changes:
        if c.entity_id == "light.driveway" and c.state == "on" and c not in returns:
            day = datetime.fromtimestamp(c.ts, TZ).date()
            daylight = (sunrise(observer, day, TZ).timestamp(), sunset(observer, day, TZ).timestamp())
            assert not daylight[0] + 10 <= c.ts < daylight[1], datetime.fromtimestamp(c.ts, TZ)
    coffee = [
        c
        for c in home.changes
        if c.entity_id == "switch.coffee_machine" and c.state in ("on", "off") and c not in returns
    ]
    gaps = [(b.ts - a.ts) / 60 for a, b in pairwise(coffee) if (a.state, b.state) == ("on", "off")]
    assert gaps
    assert all(21.9 <= g <= 28.1 for g in gaps if g < 60)
    assert any(c.origin == "automation_child" for c in home.changes if c.entity_id == "light.guest_room")


def test_the_noise_home_plants_nothing() -> None:
    """Only noise: no ground truth, every entity a negative control."""
    home = simulate_noise_home(seed=1, days=15, end=END, time_zone=TZ)
    assert not home.routines and not home.co_occurrences and not home.durations
    assert set(home.negative_controls) == {c.entity_id for c in home.changes}
    assert {"media_player.kiosk_browser", "sensor.last_notification", "switch.plug_1"} <= set(
        home.negative_controls
    )


def test_two_seeds_of_the_harness_add_up(capsys: pytest.CaptureFixture[str]) -> None:
    """Every shown suggestion has one verdict; found never exceeds planted; totals are sums."""
    figures = score(seeds=2, first_seed=1, max_suggestions=10)
    assert [s.seed for s in figures.seeds] == [1, 2]
    for s in figures.seeds:
        assert s.count(RIGHT) + s.count(WRONG_KIND) + s.count(WRONG_CONDITION) + s.count(UNPLANTED) == s.shown
        assert s.shown <= 10
        assert 0 <= s.pairs_found <= s.pairs_total == 5
        assert 0 <= s.durations_found <= s.durations_total == 3
        assert 0 <= s.routines_found <= s.routines_total == 10
        not_found = (
            (s.pairs_total - s.pairs_found + s.durations_total - s.durations_found)
            + s.routines_total
            - s.routines_found
        )
        assert len(s.missed) == not_found
        assert 0 <= s.absurd_sun <= s.shown
        assert 0 <= s.loops <= s.shown
        assert len(s.noise_shown) <= 10
    assert figures.total("shown") == sum(s.shown for s in figures.seeds)
    assert figures.total(RIGHT) == sum(s.count(RIGHT) for s in figures.seeds)
    assert 0.0 <= figures.right_share <= 1.0
    print_figures(figures, verbose=True)
    out = capsys.readouterr().out
    assert out.count("\n") >= 4
    assert any(line.split()[:1] == ["all"] for line in out.splitlines())


def test_the_quality_targets_on_three_seeds() -> None:
    """What the suggestion-quality work set out to reach, held on seeds 1-3 (20 in the note).

    Of the 10 shown: at least 9 in 10 a planted routine with the right trigger and
    conditions, every planted co-occurrence among them as a state trigger; nothing on a
    home of noise, no sun offset over 3 h, no pair that undoes the other, no loop.
    """
    figures = score(seeds=3, first_seed=1)
    assert figures.right_share >= 0.9
    assert figures.total("pairs_found") == figures.total("pairs_total")
    assert figures.total("noise_shown") == 0
    assert figures.total("absurd_sun") == figures.total("contradictions") == figures.total("loops") == 0
