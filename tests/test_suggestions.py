"""The builder: every supported domain gives an automation Home Assistant's validator accepts."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed, async_mock_service

from custom_components.ai_automation.engine.co_occurrence import CoOccurrencePattern
from custom_components.ai_automation.engine.time_of_day import TimeOfDayPattern
from custom_components.ai_automation.suggestions import (
    Candidate,
    action_for,
    async_is_valid,
    automation_config,
    back_and_forth,
    grouped,
    pattern_id,
)
from tests.wording_cases import async_suggestions

BACKTEST = {
    "would_have_fired": 21,
    "matched": 19,
    "precision": 0.905,
    "tolerance_min": 15,
    "correct_per_week": 6.33,
}


def _routine(entity_id: str, to_state: str, **extra: Any) -> TimeOfDayPattern:
    fields: dict[str, Any] = {
        "entity_id": entity_id,
        "to_state": to_state,
        "minute": 6 * 60 + 45,
        "days": (0, 1, 2, 3, 4),
        "day_set": "weekdays",
        "spread_min": 6.0,
        "occurrences": 19,
        "eligible_days": 21,
        "share_of_days": 0.905,
        "confidence": 0.81,
        "automated": False,
    }
    fields.update(extra)
    return TimeOfDayPattern(**fields)


def _candidate(hass: HomeAssistant, pattern: TimeOfDayPattern | CoOccurrencePattern) -> Candidate:
    action = action_for(hass, pattern.entity_id, pattern.to_state)
    assert action is not None
    return Candidate(pattern_id(pattern), pattern, BACKTEST, action[0], action[1])


@pytest.mark.parametrize(
    ("entity_id", "to_state", "service", "data"),
    [
        ("light.kitchen", "on", "light.turn_on", {}),
        ("light.kitchen", "off", "light.turn_off", {}),
        ("switch.coffee", "on", "switch.turn_on", {}),
        ("fan.bedroom", "off", "fan.turn_off", {}),
        ("input_boolean.guest_mode", "on", "input_boolean.turn_on", {}),
        ("siren.garden", "off", "siren.turn_off", {}),
        ("humidifier.bedroom", "on", "humidifier.turn_on", {}),
        ("media_player.tv", "on", "media_player.turn_on", {}),
        ("media_player.tv", "off", "media_player.turn_off", {}),
        ("cover.blinds", "open", "cover.open_cover", {}),
        ("cover.blinds", "closed", "cover.close_cover", {}),
        ("valve.garden", "closed", "valve.close_valve", {}),
        ("lock.back_door", "locked", "lock.lock", {}),
        ("climate.living_room", "heat", "climate.set_hvac_mode", {"hvac_mode": "heat"}),
        ("climate.living_room", "off", "climate.set_hvac_mode", {"hvac_mode": "off"}),
        ("vacuum.downstairs", "cleaning", "vacuum.start", {}),
        ("vacuum.downstairs", "docked", "vacuum.return_to_base", {}),
        ("input_select.house_mode", "Night", "input_select.select_option", {"option": "Night"}),
        ("select.heating_mode", "eco", "select.select_option", {"option": "eco"}),
    ],
)
async def test_every_supported_domain_builds_a_valid_automation(
    hass: HomeAssistant, entity_id: str, to_state: str, service: str, data: dict[str, Any]
) -> None:
    """Time trigger, weekday condition, 'not already', the matching action: HA accepts it."""
    assert action_for(hass, entity_id, to_state) == (service, data)
    config = automation_config(_candidate(hass, _routine(entity_id, to_state)), "Title", "Description")
    assert config["triggers"] == [{"trigger": "time", "at": "06:45:00"}]
    assert config["conditions"][0] == {"condition": "time", "weekday": ["mon", "tue", "wed", "thu", "fri"]}
    assert config["conditions"][1]["condition"] == "not"
    expected_action: dict[str, Any] = {"action": service, "target": {"entity_id": entity_id}}
    if data:
        expected_action["data"] = data
    assert config["actions"] == [expected_action]
    assert await async_is_valid(hass, config)


@pytest.mark.parametrize(
    ("entity_id", "to_state", "attributes"),
    [
        ("lock.front_door", "unlocked", {}),  # an unconditional unlock is a door left open
        ("cover.garage_door", "open", {"device_class": "garage"}),
        ("cover.front_gate", "open", {"device_class": "gate"}),
        ("cover.patio_door", "open", {"device_class": "door"}),
        ("alarm_control_panel.home", "disarmed", {}),
        ("sensor.temperature", "21.5", {}),
        ("binary_sensor.motion", "on", {}),
    ],
)
async def test_security_sensitive_and_unactionable_states_are_never_suggested(
    hass: HomeAssistant, entity_id: str, to_state: str, attributes: dict[str, Any]
) -> None:
    """Unlock, opening a door/gate/garage, disarming, and sensors: no action at all."""
    hass.states.async_set(entity_id, "closed", attributes)
    assert action_for(hass, entity_id, to_state) is None


async def test_a_window_cover_may_open(hass: HomeAssistant) -> None:
    """Only door-like covers are held back; blinds open on schedule."""
    hass.states.async_set("cover.blinds", "closed", {"device_class": "blind"})
    assert action_for(hass, "cover.blinds", "open") == ("cover.open_cover", {})


async def test_daily_routines_have_no_weekday_condition(hass: HomeAssistant) -> None:
    """'Every day' needs no time condition; only 'not already on' remains."""
    pattern = _routine("light.porch", "on", days=(0, 1, 2, 3, 4, 5, 6), day_set="daily")
    config = automation_config(_candidate(hass, pattern), "Title", "Description")
    assert [c["condition"] for c in config["conditions"]] == ["not"]
    assert await async_is_valid(hass, config)


async def test_sun_relative_routines_get_a_sun_trigger(hass: HomeAssistant) -> None:
    """15 minutes after sunset; 20 minutes before sunrise."""
    after = _routine("light.garden", "on", sun_event="sunset", sun_offset_min=15)
    before = _routine("cover.blinds", "open", sun_event="sunrise", sun_offset_min=-20)
    configs = [automation_config(_candidate(hass, p), "Title", "Description") for p in (after, before)]
    assert configs[0]["triggers"] == [{"trigger": "sun", "event": "sunset", "offset": "00:15:00"}]
    assert configs[1]["triggers"] == [{"trigger": "sun", "event": "sunrise", "offset": "-00:20:00"}]
    for config in configs:
        assert await async_is_valid(hass, config)


async def test_co_occurrences_get_a_state_trigger(hass: HomeAssistant) -> None:
    """When the hallway motion sensor turns on, the hallway light follows."""
    pattern = CoOccurrencePattern(
        trigger_entity_id="binary_sensor.hallway_motion",
        trigger_to_state="on",
        entity_id="light.hallway",
        to_state="on",
        lag_s=3.0,
        lag_p90_s=4.6,
        occurrences=412,
        trigger_count=480,
        follower_count=430,
        confidence=0.858,
        coverage=0.958,
        lift=40.0,
        automated=False,
    )
    config = automation_config(_candidate(hass, pattern), "Title", "Description")
    assert config["triggers"] == [
        {"trigger": "state", "entity_id": "binary_sensor.hallway_motion", "to": "on"}
    ]
    assert await async_is_valid(hass, config)


async def test_an_invalid_config_is_rejected_by_the_validator(hass: HomeAssistant) -> None:
    """What HA's editor would refuse, we drop (and the job counts it)."""
    config = automation_config(_candidate(hass, _routine("light.kitchen", "on")), "Title", "Description")
    config["triggers"] = [{"trigger": "time", "at": "25:61:00"}]
    assert not await async_is_valid(hass, config)


def test_ids_are_stable_while_the_time_drifts() -> None:
    """06:45 and 06:52 are the same routine; 19:00 is another."""
    assert pattern_id(_routine("light.kitchen", "on", minute=405)) == pattern_id(
        _routine("light.kitchen", "on", minute=412)
    )
    assert pattern_id(_routine("light.kitchen", "on")) != pattern_id(
        _routine("light.kitchen", "on", minute=1140)
    )


async def test_a_suggestion_carries_its_pattern_and_all_its_words(hass: HomeAssistant) -> None:
    """Title, description and evidence are made when it is built, from the pattern it carries."""
    suggestions, patterns = await async_suggestions(hass)
    for suggestion in suggestions:
        pattern = dict(suggestion["pattern"])
        back = pattern.pop("back", None)  # a follower that follows both ways: its way back
        assert pattern in patterns
        assert back is None or back in patterns
        assert suggestion["pattern_ids"] == [pattern["id"]] + ([back["id"]] if back else [])
        assert suggestion["automation"]["alias"] == suggestion["title"]
        assert suggestion["evidence"].endswith(".")
        assert str(pattern["occurrences"]) in suggestion["evidence"]


def _driveway(trigger_state: str, to_state: str, lag_s: float) -> CoOccurrencePattern:
    return CoOccurrencePattern(
        trigger_entity_id="binary_sensor.driveway_motion",
        trigger_to_state=trigger_state,
        entity_id="light.driveway",
        to_state=to_state,
        lag_s=lag_s,
        lag_p90_s=lag_s + 2,
        occurrences=130,
        trigger_count=138,
        follower_count=130,
        confidence=0.942,
        coverage=1.0,
        lift=157.0,
        automated=False,
        after_dark=True,
    )


async def test_back_and_forth_in_the_dark_runs_as_built(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The driveway light on with the motion and off when it is over, only in the dark: one
    automation that Home Assistant accepts and runs that way (a real automation; the
    light's services are mocked: no light integration runs here)."""
    motion, light = "binary_sensor.driveway_motion", "light.driveway"
    hass.states.async_set(motion, "off")
    hass.states.async_set(light, "off")
    backtest = {"would_have_fired": 138, "matched": 130, "precision": 0.942, "within_s": 7.0}
    parts = [
        replace(_candidate(hass, p), backtest={**backtest, "correct_per_week": 30.3})
        for p in (_driveway("on", "on", 3.4), _driveway("off", "off", 4.4))
    ]
    (both,) = back_and_forth(parts)
    assert both.back is not None and both.backtest["would_have_fired"] == 276
    config = automation_config(both, "Turn Driveway on and off with Driveway motion after dark", "D")
    assert await async_is_valid(hass, config)
    turned_on = async_mock_service(hass, "light", "turn_on")
    turned_off = async_mock_service(hass, "light", "turn_off")
    # 23:00 in the test home (San Diego, US/Pacific): dark.
    freezer.move_to(datetime(2026, 11, 8, 23, 0, tzinfo=dt_util.get_default_time_zone()))
    assert await async_setup_component(hass, "automation", {"automation": [config]})
    hass.states.async_set(motion, "on")
    await hass.async_block_till_done()
    assert [c.data["entity_id"] for c in turned_on] == [[light]]
    hass.states.async_set(light, "on")
    hass.states.async_set(motion, "off")
    await hass.async_block_till_done()
    assert [c.data["entity_id"] for c in turned_off] == [[light]]
    # 13:00 the next day: daylight, nothing.
    freezer.move_to(datetime(2026, 11, 9, 13, 0, tzinfo=dt_util.get_default_time_zone()))
    hass.states.async_set(light, "off")
    hass.states.async_set(motion, "on")
    await hass.async_block_till_done()
    assert len(turned_on) == 1


def _bedtime_part(entity_id: str, to_state: str, offset: int) -> TimeOfDayPattern:
    """A routine at 22:40 + ``offset`` minutes on the weekdays of three weeks."""
    days = tuple(d for d in range(20_400, 20_421) if (d + 3) % 7 < 5)  # day 0 was a Thursday
    return _routine(
        entity_id,
        to_state,
        minute=22 * 60 + 40 + offset,
        hit_days=days,
        hit_minutes=tuple(22 * 60 + 40 + offset + (d % 3) for d in days),
    )


async def test_routines_done_together_are_one_automation_that_runs_as_built(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Bedtime: the lounge light, the floor lamp, the front door, a minute or two apart on
    the same weekdays: one automation at the first one's time doing the three in order
    (a real automation; the services are mocked: no light or lock integration runs here)."""
    routines = [
        ("lock.front_door", "locked", 2),
        ("light.lounge", "off", 0),
        ("light.lounge_floor_lamp", "off", 1),
    ]
    for entity_id, _state, _offset in routines:
        hass.states.async_set(entity_id, "on" if entity_id.startswith("light") else "unlocked")
    alone = _candidate(hass, _routine("light.kitchen", "on"))
    found = [_candidate(hass, _bedtime_part(*r)) for r in routines] + [alone]

    (group,) = [c for c in grouped(found) if c.parts]
    assert [p.pattern.entity_id for p in group.parts] == [
        "light.lounge",
        "light.lounge_floor_lamp",
        "lock.front_door",
    ]
    assert alone in grouped(found) and group.backtest["would_have_fired"] == 3 * 21
    config = automation_config(group, "Bedtime", "D")
    assert config["triggers"] == [{"trigger": "time", "at": "22:41:00"}]
    assert [a["action"] for a in config["actions"]] == ["light.turn_off", "light.turn_off", "lock.lock"]
    assert await async_is_valid(hass, config)
    turned_off = async_mock_service(hass, "light", "turn_off")
    locked = async_mock_service(hass, "lock", "lock")
    tz = dt_util.get_default_time_zone()
    freezer.move_to(datetime(2026, 11, 9, 22, 0, tzinfo=tz))  # a Monday
    assert await async_setup_component(hass, "automation", {"automation": [config]})
    freezer.move_to(datetime(2026, 11, 9, 22, 41, tzinfo=tz))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert [c.data["entity_id"] for c in turned_off] == [["light.lounge"], ["light.lounge_floor_lamp"]]
    assert [c.data["entity_id"] for c in locked] == [["lock.front_door"]]
    # Saturday: not a weekday.
    freezer.move_to(datetime(2026, 11, 14, 22, 41, tzinfo=tz))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert len(locked) == 1
    # Its time trigger would wait for the next 22:41 past the test's end.
    await hass.services.async_call("automation", "turn_off", {"entity_id": "all"}, blocking=True)


async def test_routines_on_other_days_or_for_other_people_stay_apart(hass: HomeAssistant) -> None:
    """One automation has one set of days and one "someone home": routines that differ in
    those are not one, however close in time."""
    lounge = _candidate(hass, _bedtime_part("light.lounge", "off", 0))
    hass.states.async_set("light.lounge_floor_lamp", "on")
    hass.states.async_set("lock.front_door", "unlocked")
    daily = _bedtime_part("light.lounge_floor_lamp", "off", 1)
    sams = _bedtime_part("lock.front_door", "locked", 2)
    found = [
        lounge,
        _candidate(hass, replace(daily, days=(0, 1, 2, 3, 4, 5, 6), day_set="daily")),
        _candidate(hass, replace(sams, home=("person.sam",), presence="person.sam")),
    ]
    assert grouped(found) == found
