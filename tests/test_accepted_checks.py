"""Which accepted automations a job watches, read from their configs; and the rewrite a fix makes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from homeassistant.core import HomeAssistant

from custom_components.ai_automation.accepted_checks import watched_of
from custom_components.ai_automation.after_accept_fix import proposed_automation
from custom_components.ai_automation.engine.presence_triggers import ARRIVE, LEAVE

from .decisions_helpers import WORKDAYS, kitchen_automation, record

ENTITY = "automation.ours"
ACCEPTED = datetime(2026, 11, 1, 20, 0, tzinfo=UTC)


def accepted(automation: dict[str, Any], **decision: Any) -> dict[str, Any]:
    fields = {
        "status": "accepted",
        "accepted_at": ACCEPTED.isoformat(),
        "automation_entity_id": ENTITY,
        "pattern": {"entity_id": "light.kitchen", "to_state": "on"},
        **decision,
    }
    return record("ai_00000000000000aa", automation, **fields)


def with_trigger(trigger: dict[str, Any]) -> dict[str, Any]:
    return {**kitchen_automation("ai_00000000000000aa", "06:45:00", WORKDAYS), "triggers": [trigger]}


async def test_a_time_automation_on_workdays(hass: HomeAssistant) -> None:
    last = datetime(2026, 11, 30, 14, 45, tzinfo=UTC)
    hass.states.async_set(ENTITY, "on", {"last_triggered": last})

    (watched,) = watched_of(hass, accepted(kitchen_automation("ai_00000000000000aa", "06:45:00", WORKDAYS)))

    assert (watched.entity_id, watched.to_state, watched.minute) == ("light.kitchen", "on", 6 * 60 + 45)
    assert watched.weekdays == (0, 1, 2, 3, 4)
    assert watched.since_ts == ACCEPTED.timestamp()
    assert watched.last_triggered_ts == last.timestamp()
    assert not watched.needs_someone_home


@pytest.mark.parametrize(
    ("trigger", "fields"),
    [
        (
            {"trigger": "sun", "event": "sunset", "offset": "-00:20:00"},
            {"sun_event": "sunset", "sun_offset_min": -20},
        ),
        (
            {
                "trigger": "state",
                "entity_id": "binary_sensor.motion",
                "to": "on",
                "for": {"minutes": 2, "seconds": 5},
            },
            {"trigger_entity_id": "binary_sensor.motion", "trigger_to_state": "on", "for_s": 125.0},
        ),
    ],
)
async def test_sun_and_state_triggers(
    hass: HomeAssistant, trigger: dict[str, Any], fields: dict[str, Any]
) -> None:
    hass.states.async_set(ENTITY, "on", {"last_triggered": None})

    (watched,) = watched_of(hass, accepted(with_trigger(trigger)))

    assert {key: getattr(watched, key) for key in fields} == fields
    assert watched.last_triggered_ts is None


async def test_the_edited_automation_is_the_one_watched(hass: HomeAssistant) -> None:
    """Edited in the panel to 07:10, every day, only with someone home."""
    hass.states.async_set(ENTITY, "on")
    edited = kitchen_automation("ai_00000000000000aa", "07:10:00")
    edited["conditions"].append({"condition": "state", "entity_id": ["person.sam"], "state": "home"})

    (watched,) = watched_of(
        hass,
        accepted(kitchen_automation("ai_00000000000000aa", "06:45:00", WORKDAYS), accepted_automation=edited),
    )

    assert (watched.minute, watched.weekdays, watched.needs_someone_home) == (
        7 * 60 + 10,
        tuple(range(7)),
        True,
    )


async def test_what_is_not_watched(hass: HomeAssistant) -> None:
    """Gone, two triggers (back and forth), a trigger we never suggest, no pattern to say its state."""
    automation = kitchen_automation("ai_00000000000000aa", "06:45:00", WORKDAYS)
    assert watched_of(hass, accepted(automation)) == []  # its entity is gone
    hass.states.async_set(ENTITY, "on")
    two = {**automation, "triggers": [*automation["triggers"], {"trigger": "time", "at": "07:00:00"}]}
    assert watched_of(hass, accepted(two)) == []
    assert watched_of(hass, accepted(with_trigger({"trigger": "homeassistant", "event": "start"}))) == []
    assert watched_of(hass, accepted(automation, pattern=None)) == []


async def test_a_group_and_a_scene_are_watched_device_by_device(hass: HomeAssistant) -> None:
    """Bedtime (two lights off and the door locked) and waking up (a scene): each device it
    sets, at the group's time."""
    hass.states.async_set(ENTITY, "on")
    parts = [("light.lounge", "off"), ("lock.front_door", "locked")]
    bedtime = {
        **kitchen_automation("ai_00000000000000aa", "22:40:00"),
        "actions": [
            {"action": "light.turn_off", "target": {"entity_id": "light.lounge"}},
            {"action": "lock.lock", "target": {"entity_id": "lock.front_door"}},
        ],
    }
    pattern = {"to_state": "off", "parts": [{"entity_id": e, "to_state": s} for e, s in parts]}
    scene = {
        **bedtime,
        "actions": [
            {
                "action": "scene.apply",
                "data": {
                    "entities": {
                        "light.bedside": {"state": "on", "brightness": 77},
                        "cover.blinds": {"state": "open"},
                    }
                },
            }
        ],
    }

    watched = watched_of(hass, accepted(bedtime, pattern=pattern))
    lit = watched_of(hass, accepted(scene, pattern=pattern))

    assert [(w.entity_id, w.to_state, w.minute) for w in watched] == [(e, s, 22 * 60 + 40) for e, s in parts]
    assert [(w.entity_id, w.to_state) for w in lit] == [("light.bedside", "on"), ("cover.blinds", "open")]


@pytest.mark.parametrize(("direction", "event"), [("from", LEAVE), ("to", ARRIVE)])
async def test_when_the_last_one_leaves_or_someone_comes_home(
    hass: HomeAssistant, direction: str, event: str
) -> None:
    hass.states.async_set(ENTITY, "on")
    trigger = {"trigger": "state", "entity_id": ["person.alex", "person.sam"], direction: "home"}

    (watched,) = watched_of(hass, accepted(with_trigger(trigger)))

    assert watched.presence_event == event and watched.trigger_entity_id is None


def test_the_fix_rewrites_the_time_the_days_or_adds_someone_home() -> None:
    automation = kitchen_automation("ai_00000000000000aa", "06:45:00", WORKDAYS)

    moved = proposed_automation(automation, {"proposal": "move", "new_time": "07:30"})
    fewer = proposed_automation(automation, {"proposal": "weekdays", "weekdays": "mon,wed"})
    home = proposed_automation(automation, {"proposal": "someone_home", "people": "person.alex,person.sam"})

    assert moved["triggers"] == [{"trigger": "time", "at": "07:30:00"}]
    assert moved["alias"] == "Turn on Kitchen light at 07:30"
    assert fewer["conditions"][0] == {"condition": "time", "weekday": ["mon", "wed"]}
    assert len(fewer["conditions"]) == len(automation["conditions"])
    assert home["conditions"][-1] == {
        "condition": "state",
        "entity_id": ["person.alex", "person.sam"],
        "state": "home",
        "match": "any",
    }
    assert automation["triggers"] == [{"trigger": "time", "at": "06:45:00"}]  # the original is kept
