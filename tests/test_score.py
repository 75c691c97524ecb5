"""The suggestion score (``scripts/score``): its classifier on hand-built cases, its real
home's traps, and one run of the harness whose figures must add up.

The quality targets themselves are not asserted here: they are what the detectors are
being changed to reach; ``scripts/score`` prints them.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from itertools import pairwise

import pytest

from custom_components.ai_automation.engine.event_log import Origin
from custom_components.ai_automation.engine.time_of_day import TimeOfDayPattern
from custom_components.ai_automation.suggestions import Candidate, pattern_id, service_for
from simulator.fetched import ORIGINS
from simulator.household import PHYSICAL, SYSTEM, WEEKDAYS, Change
from simulator.real_home import SCRIPT, RealHome, simulate_noise_home, simulate_real_home
from simulator.score import (
    END,
    RIGHT,
    TZ,
    UNPLANTED,
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


def _state(trigger: tuple[str, str], entity_id: str, to_state: str, **extra: object) -> Shown:
    return Shown(
        {"trigger": "state", "entity_id": trigger[0], "to": trigger[1], **extra}, entity_id, to_state
    )


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
        (_state(("binary_sensor.stairs_motion", "on"), "light.stairs", "on"), RIGHT),
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
    """Right, wrong kind or unplanted against the real home's ground truth."""
    assert classify(shown, _home()).label == label, classify(shown, _home())


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
    coffee machine's 25 minutes, and the automation's own guest-room light."""
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
        c.origin for c in home.changes if c.entity_id == "input_boolean.movie_mode" and c.state == "on"
    } == {SCRIPT}
    assert ORIGINS[SCRIPT] == Origin.AUTOMATION
    for c in home.changes:
        if c.entity_id == "light.stairs" and c.state == "on" and c not in returns:
            local = datetime.fromtimestamp(c.ts, TZ)
            assert 18 * 60 <= local.hour * 60 + local.minute <= 23 * 60 + 31, local
    coffee = [c for c in home.changes if c.entity_id == "switch.coffee_machine" and c.state in ("on", "off")]
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
        assert s.count(RIGHT) + s.count(WRONG_KIND) + s.count(UNPLANTED) == s.shown <= 10
        assert 0 <= s.pairs_found <= s.pairs_total == 4
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
