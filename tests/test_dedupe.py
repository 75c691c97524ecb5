"""Fingerprints: what an automation does, read from the many ways people write automations."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import area_registry as ar
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ai_automation.dedupe import (
    REASON_ACCEPTED,
    REASON_AUTOMATION,
    REASON_DISMISSED,
    REASON_REPEATED,
    Deduplicator,
    Fingerprint,
    fingerprints,
    matches_any,
)

from .decisions_helpers import WORKDAYS, kitchen_automation

KITCHEN_ON = ("light.turn_on", "light.kitchen")


def _fp(trigger: str, minute: int | None = None, days: list[str] | None = None) -> Fingerprint:
    return Fingerprint(*KITCHEN_ON, trigger, minute, frozenset(days) if days is not None else None)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        pytest.param(
            kitchen_automation("x", "06:45:00", WORKDAYS), [_fp("time", 405, WORKDAYS)], id="suggestion shape"
        ),
        pytest.param(
            {
                "trigger": {"platform": "time", "at": "6:30"},
                "action": {"service": "light.turn_on", "entity_id": "light.kitchen"},
            },
            [_fp("time", 390)],
            id="old keys, one of each",
        ),
        pytest.param(
            {
                "triggers": [{"trigger": "time", "at": ["06:30:00", "input_datetime.wake_up"]}],
                "actions": [{"action": "homeassistant.turn_on", "target": {"entity_id": "light.kitchen"}}],
            },
            [_fp("time", 390), _fp("time", None)],
            id="homeassistant.turn_on is light.turn_on; a helper's time is unknown",
        ),
        pytest.param(
            {
                "triggers": [{"trigger": "sun", "event": "sunset", "offset": "00:15:00"}],
                "actions": [
                    {
                        "choose": [
                            {
                                "conditions": [],
                                "sequence": [
                                    {"action": "light.turn_on", "data": {"entity_id": "light.kitchen"}}
                                ],
                            }
                        ]
                    }
                ],
            },
            [_fp("sun:sunset")],
            id="nested in choose, entity in data",
        ),
        pytest.param(
            {
                "triggers": [
                    {"trigger": "state", "entity_id": ["binary_sensor.a", "binary_sensor.b"], "to": "on"}
                ],
                "actions": [
                    {
                        "if": [],
                        "then": [
                            {"action": "light.turn_on", "target": {"entity_id": "light.kitchen, light.hall"}}
                        ],
                    }
                ],
            },
            [
                Fingerprint(*KITCHEN_ON, "state:binary_sensor.a"),
                Fingerprint(*KITCHEN_ON, "state:binary_sensor.b"),
                Fingerprint("light.turn_on", "light.hall", "state:binary_sensor.a"),
                Fingerprint("light.turn_on", "light.hall", "state:binary_sensor.b"),
            ],
            id="several entities, comma-separated targets, if/then",
        ),
        pytest.param(
            {
                "triggers": [{"trigger": "time", "at": "06:30"}],
                "actions": [
                    {"action": "light.turn_on", "target": {"entity_id": "{{ states('input_text.x') }}"}}
                ],
            },
            [],
            id="a templated target is not comparable",
        ),
    ],
)
async def test_fingerprints(hass: HomeAssistant, config: dict[str, Any], expected: list[Fingerprint]) -> None:
    """Every (action, target) with every trigger kind; time value and weekdays kept for time triggers."""
    assert sorted(fingerprints(hass, config), key=repr) == sorted(expected, key=repr)


async def test_areas_and_device_triggers_and_actions_resolve_to_entities(
    hass: HomeAssistant,
    area_registry: ar.AreaRegistry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """The UI's device trigger/action name the registry id; an area target means its lights."""
    entry = MockConfigEntry(domain="demo")
    entry.add_to_hass(hass)
    kitchen = area_registry.async_create("Kitchen")
    device = device_registry.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={("demo", "lamp")}
    )
    light = entity_registry.async_get_or_create(
        "light", "demo", "lamp", device_id=device.id, suggested_object_id="kitchen"
    )
    # An entity with an area of its own has a name of its own too (HA 2026.10 refuses the
    # area otherwise).
    entity_registry.async_update_entity(light.entity_id, area_id=kitchen.id, name="Kitchen lamp")
    motion = entity_registry.async_get_or_create(
        "binary_sensor", "demo", "motion", suggested_object_id="motion"
    )

    by_area = {
        "triggers": [{"trigger": "time", "at": "06:30:00"}],
        "actions": [{"action": "light.turn_on", "target": {"area_id": kitchen.id}}],
    }
    assert fingerprints(hass, by_area) == [_fp("time", 390)]
    by_device = {
        "triggers": [
            {
                "trigger": "device",
                "domain": "binary_sensor",
                "device_id": "motion-device",
                "entity_id": motion.id,
                "type": "motion",
            }
        ],
        "actions": [
            {"domain": "light", "device_id": device.id, "entity_id": light.id, "type": "turn_on"},
        ],
    }
    assert fingerprints(hass, by_device) == [Fingerprint(*KITCHEN_ON, "state:binary_sensor.motion")]


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (_fp("time", 405, WORKDAYS), _fp("time", 412, WORKDAYS), True),
        (_fp("time", 405, WORKDAYS), _fp("time", 465, WORKDAYS), True),  # 60 minutes: the detector's window
        (_fp("time", 405, WORKDAYS), _fp("time", 466, WORKDAYS), False),
        (_fp("time", 1430, None), _fp("time", 20, None), True),  # across midnight
        (_fp("time", 405, WORKDAYS), _fp("time", 405, ["sat", "sun"]), False),
        (_fp("time", 405, ["mon", "wed"]), _fp("time", 405, None), True),
        (_fp("time", None), _fp("time", 1000), True),  # an unknown time (a helper) may be any time
        (_fp("sun:sunset"), _fp("sun:sunrise"), False),
        (_fp("time", 405), _fp("sun:sunrise"), False),
        (_fp("state:binary_sensor.a"), _fp("state:binary_sensor.a"), True),
        (_fp("time", 405), Fingerprint("light.turn_off", "light.kitchen", "time", 405), False),
    ],
)
def test_matching(a: Fingerprint, b: Fingerprint, same: bool) -> None:
    """Same action, target and trigger kind; time triggers within 60 minutes on overlapping days."""
    assert a.matches(b) is same
    assert b.matches(a) is same


async def test_deduplicator_reasons(hass: HomeAssistant) -> None:
    """Existing automation first, then decisions, then an earlier suggestion of the same run."""
    morning = kitchen_automation("ai_new", "06:45:00", WORKDAYS)
    dedupe = Deduplicator(
        hass,
        automations=[("mine", _fp("time", 1140))],  # 19:00: another thing
        decided=[
            (
                "ai_old",
                REASON_DISMISSED,
                fingerprints(hass, kitchen_automation("ai_old", "07:30:00", WORKDAYS)),
            ),
            ("ai_sunset", REASON_ACCEPTED, [_fp("sun:sunset")]),
        ],
    )
    assert dedupe.duplicate(morning) == REASON_DISMISSED
    evening = kitchen_automation("ai_evening", "19:10:00", None)
    assert dedupe.duplicate(evening) == REASON_AUTOMATION
    night = kitchen_automation("ai_night", "23:00:00", None)
    assert dedupe.duplicate(night) is None
    assert dedupe.duplicate(kitchen_automation("ai_later", "23:20:00", None)) == REASON_REPEATED
    # The same id as a decided suggestion is that suggestion, whatever it does now.
    assert dedupe.duplicate({**night, "id": "ai_sunset"}) == REASON_ACCEPTED
    assert dedupe.count == 4
    assert dict(dedupe.dropped) == {
        REASON_DISMISSED: 1,
        REASON_AUTOMATION: 1,
        REASON_REPEATED: 1,
        REASON_ACCEPTED: 1,
    }


@pytest.mark.parametrize(
    ("trigger", "offset_min", "to_states", "hold_s"),
    [
        ({"trigger": "sun", "event": "sunset"}, 0, None, None),
        ({"trigger": "sun", "event": "sunset", "offset": "-00:30:00"}, -30, None, None),
        ({"platform": "sun", "event": "sunrise", "offset": {"hours": 1, "minutes": 15}}, 75, None, None),
        ({"trigger": "sun", "event": "sunset", "offset": 900}, 15, None, None),
        ({"trigger": "sun", "event": "sunset", "offset": "{{ states('input_number.x') }}"}, None, None, None),
        ({"trigger": "state", "entity_id": "binary_sensor.a", "to": "on"}, None, {"on"}, 0),
        (
            {
                "trigger": "state",
                "entity_id": "binary_sensor.a",
                "to": ["on", "unavailable"],
                "for": "00:05:00",
            },
            None,
            {"on", "unavailable"},
            300,
        ),
        (
            {"trigger": "state", "entity_id": "binary_sensor.a", "to": "off", "for": {"minutes": 10}},
            None,
            {"off"},
            600,
        ),
        ({"trigger": "state", "entity_id": "binary_sensor.a", "from": "off"}, None, None, 0),
        (
            {"trigger": "state", "entity_id": "light.a", "attribute": "brightness", "to": 255},
            None,
            None,
            None,
        ),
    ],
)
async def test_what_the_insights_read_of_a_trigger(
    hass: HomeAssistant,
    trigger: dict[str, Any],
    offset_min: int | None,
    to_states: set[str] | None,
    hold_s: int | None,
) -> None:
    """A sun trigger's offset, a state trigger's ``to`` and ``for``: not in equality (dedupe ignores them)."""
    config = {"triggers": [trigger], "actions": [{"action": "light.turn_on", "entity_id": "light.kitchen"}]}
    (fingerprint,) = fingerprints(hass, config)
    assert fingerprint.offset_min == offset_min
    assert fingerprint.to_states == (frozenset(to_states) if to_states is not None else None)
    assert fingerprint.hold_s == hold_s
    assert fingerprint == Fingerprint(*KITCHEN_ON, fingerprint.trigger, fingerprint.minute, fingerprint.days)


async def test_the_mode_set_is_part_of_what_an_action_does(hass: HomeAssistant) -> None:
    """The heating off when the last one leaves is not the heating on when someone comes
    home: the same service, trigger entities and target, another mode."""
    people = ["person.alex", "person.sam"]

    def heating(mode: str, direction: str) -> dict[str, Any]:
        return {
            "triggers": [{"trigger": "state", "entity_id": people, direction: "home"}],
            "actions": [
                {
                    "action": "climate.set_hvac_mode",
                    "target": {"entity_id": "climate.heating"},
                    "data": {"hvac_mode": mode},
                }
            ],
        }

    off, heat = fingerprints(hass, heating("off", "from")), fingerprints(hass, heating("heat", "to"))

    assert {fp.service for fp in off} == {"climate.set_hvac_mode:off"}
    assert not matches_any(off, heat)
    assert matches_any(off, fingerprints(hass, heating("off", "from")))


async def test_what_the_conditions_require(hass: HomeAssistant) -> None:
    """Someone home (any of them), nobody home (a not of it), a helper on; a template is not read."""
    people = ["person.alex", "person.sam"]
    config = {
        "triggers": [{"trigger": "sun", "event": "sunset"}],
        "conditions": [
            {"condition": "state", "entity_id": people, "state": "home", "match": "any"},
            {
                "condition": "not",
                "conditions": [{"condition": "state", "entity_id": "input_boolean.guests", "state": "on"}],
            },
            {"condition": "template", "value_template": "{{ true }}"},
        ],
        "actions": [{"action": "light.turn_on", "target": {"entity_id": "light.porch"}}],
    }

    (fp,) = fingerprints(hass, config)

    assert fp.requires == {
        (frozenset(people), "home", True),
        (frozenset({"input_boolean.guests"}), "on", False),
    }
